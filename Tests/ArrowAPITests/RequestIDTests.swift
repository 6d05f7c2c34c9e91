@testable import ArrowAPI
import Testing

@Suite struct RequestIDTests {
    @Test func idsAreShapedLikeUUIDsAndNeverRepeat() {
        #expect(RequestIDs.format(0x0123_4567_89AB_CDEF, 1) == "01234567-89ab-cdef-0000-000000000001")
        #expect(RequestIDs.format(.max, .max) == "ffffffff-ffff-ffff-ffff-ffffffffffff")
        let ids = (0..<10_000).map { _ in RequestIDs.shared.next() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.count == 36 && RequestIDs.accept($0) == $0 })
        #expect(Set(ids.map { $0.prefix(19) }).count == 1, "one process prefix")
        #expect(RequestIDs().next().prefix(19) != ids[0].prefix(19), "another process draws another prefix")
    }
}
