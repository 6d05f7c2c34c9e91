import ArrowCore
import Testing

@Suite struct StorageLayoutTests {
    @Test func pathsFollowTheSeed() throws {
        #expect(try StorageLayout.image(id: "i1", fileName: "debian.qcow2").rawValue == "images/i1/debian.qcow2")
        #expect(try StorageLayout.metadata(imageID: "i1", file: "thumb.png").rawValue == "metadata/i1/thumb.png")
        #expect(try StorageLayout.combinedLog(client: "acme", platform: "pvm", taskID: "t9").rawValue == "logs/acme/pvm/t9.log")
        #expect(try StorageLayout.buildLog(organizationID: "o1", taskID: "t9", .ansible).rawValue == "build-logs/o1/t9/ansible.log")
        #expect(StorageLayout.buildLogPrefix(organizationID: "o1", taskID: "t9") == "build-logs/o1/t9/")
    }

    @Test func userTextCannotEscapeItsSegment() throws {
        let key = try StorageLayout.combinedLog(client: "../../etc", platform: "a/b", taskID: "..")
        #expect(!key.rawValue.contains("/../"))
        #expect(key.rawValue.split(separator: "/").count == 4)
        #expect(try StorageLayout.image(id: "x", fileName: "").rawValue == "images/x/_")
    }

    @Test(arguments: ["", "/abs", "a//b", "a/../b", "./a", "a/.", "nul\u{0}x", "back\\slash", String(repeating: "k", count: 1025)])
    func hostileKeysAreRefused(_ raw: String) {
        #expect(throws: StorageError.self) { try BlobKey(raw) }
    }

    @Test func ordinaryKeysAreAccepted() throws {
        for raw in ["a", "images/x/y z+$é.qcow2", String(repeating: "k", count: 1024)] {
            #expect(try BlobKey(raw).rawValue == raw)
        }
    }

    @Test func rangesResolveWithinTheObject() throws {
        #expect(try ByteRange(0, 9).resolved(size: 100) == 0...9)
        #expect(try ByteRange(90).resolved(size: 100) == 90...99)
        #expect(try ByteRange(90, 500).resolved(size: 100) == 90...99)
        #expect(throws: StorageError.self) { try ByteRange(100).resolved(size: 100) }
        #expect(throws: StorageError.self) { try ByteRange(5, 2).resolved(size: 100) }
    }
}
