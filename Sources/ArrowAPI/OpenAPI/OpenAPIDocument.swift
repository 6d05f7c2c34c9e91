import HTTPTypes
import Logging
/// The OpenAPI 3.1 description served at `GET /openapi.yaml`. A test compares its paths with the router's routes,
/// so a route added without documentation (or documentation without a route) fails the build's tests.
public enum OpenAPIDocument {
    public static let yaml = OpenAPIStandardResponses.add(to: header + identityPaths + imagePaths + buildPaths + templatePaths + buildConfigPaths + systemPaths + components + imageSchemas + buildSchemas + templateSchemas + buildConfigSchemas)
}
