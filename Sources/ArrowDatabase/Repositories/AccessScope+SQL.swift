import ArrowCore
import SQLKit

extension SQLPredicateBuilder {
    /// Restricts the statement to rows of the organizations `scope` allows: isolation applied in the query itself.
    func scoped(_ scope: AccessScope, column: String = "organization_id", table: String? = nil) -> Self {
        switch scope {
        case .all: return self
        case .organization(let id): return self.where(SQLColumn(column, table: table), .equal, SQLBind(id.rawValue))
        case .none: return self.where(SQLLiteral.boolean(false))
        }
    }
}

extension SQLRow {
    func string(_ column: String) throws -> String { try decode(column: column, as: String.self) }
    func optionalString(_ column: String) throws -> String? { try decodeNil(column: column) ? nil : decode(column: column, as: String.self) }
    func int64(_ column: String) throws -> Int64 { try decode(column: column, as: Int64.self) }
    func optionalInt64(_ column: String) throws -> Int64? { try decodeNil(column: column) ? nil : decode(column: column, as: Int64.self) }
}
