import Crypto
import Foundation
import Hummingbird
import NIOCore
import Synchronization

extension FakeProxmox {
    struct ReceivedFile {
        var fields: [String: String]
        var fileName: String
        var size: Int
        var sha256: String
    }

    struct UploadError: Error, CustomStringConvertible {
        var description: String
    }

    /// The multipart body as PVE's `file_upload_multipart` reads it: plain fields only at the head and only in the
    /// order content, checksum-algorithm, checksum; then the part named `filename`. Streamed to a file, hashed.
    func receive(_ body: RequestBody, boundary: String) async throws -> ReceivedFile {
        let path = uploads + "/body-" + UUID().uuidString
        FileManager.default.createFile(atPath: path, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: path))
        var total = 0
        for try await chunk in body {
            try handle.write(contentsOf: Data(chunk.readableBytesView))
            total += chunk.readableBytes
        }
        try handle.close()
        let reader = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? reader.close() }
        let head = try reader.read(upToCount: 64 << 10) ?? Data()
        let delimiter = Data("--\(boundary)\r\n".utf8)
        var offset = 0, fields: [String: String] = [:], order = ["content", "checksum-algorithm", "checksum"], fileName: String?
        while fileName == nil {
            guard head.count >= offset + delimiter.count, head[head.startIndex + offset ..< head.startIndex + offset + delimiter.count] == delimiter else {
                throw UploadError(description: "multipart: a part does not start with the boundary")
            }
            offset += delimiter.count
            guard let headerEnd = head.range(of: Data("\r\n\r\n".utf8), in: head.startIndex + offset ..< head.endIndex) else { throw UploadError(description: "multipart: a part header does not end") }
            let header = String(decoding: head[head.startIndex + offset ..< headerEnd.lowerBound], as: UTF8.self)
            offset = headerEnd.upperBound - head.startIndex
            guard let name = Self.quoted(header, "name") else { throw UploadError(description: "multipart: a part has no name") }
            if name == "filename" {
                guard let file = Self.quoted(header, "filename"), !file.isEmpty else { throw UploadError(description: "multipart: the file part has no filename") }
                fileName = file
                break
            }
            guard let index = order.firstIndex(of: name) else {
                throw UploadError(description: "wrong field name, got '\(name)', expected 'filename' (or content, checksum-algorithm, checksum, in that order)")
            }
            order.removeFirst(index + 1)
            guard let valueEnd = head.range(of: Data("\r\n".utf8), in: head.startIndex + offset ..< head.endIndex) else { throw UploadError(description: "multipart: a field does not end") }
            fields[name] = String(decoding: head[head.startIndex + offset ..< valueEnd.lowerBound], as: UTF8.self)
            offset = valueEnd.upperBound - head.startIndex
        }
        let closing = Data("\r\n--\(boundary)--\r\n".utf8)
        try reader.seek(toOffset: UInt64(max(0, total - closing.count)))
        guard try reader.readToEnd() == closing else { throw UploadError(description: "multipart: the body does not end with the closing boundary") }
        let size = total - closing.count - offset
        guard size >= 0 else { throw UploadError(description: "multipart: no file data") }
        try reader.seek(toOffset: UInt64(offset))
        var hasher = SHA256(), left = size
        while left > 0, let chunk = try reader.read(upToCount: min(left, 1 << 20)), !chunk.isEmpty {
            hasher.update(data: chunk)
            left -= chunk.count
        }
        let digest = hasher.finalize().map { String(format: "%02x", $0) }.joined()
        return ReceivedFile(fields: fields, fileName: fileName ?? "", size: size, sha256: digest)
    }

    static func quoted(_ header: String, _ key: String) -> String? {
        guard let range = header.range(of: "\(key)=\"") else { return nil }
        return String(header[range.upperBound...].prefix { $0 != "\"" })
    }

    // MARK: Calls

    func route(_ key: String, _ parameters: [String: String], _ upload: ReceivedFile?) -> Response {
        let options = options
        let node = parameters["node"] ?? ""
        if key.contains("{node}"), node != options.node, !(key.hasPrefix("GET /nodes/{node}/tasks") && node == options.apiNode) {
            return error(500, "hostname lookup '\(node)' failed - failed to get address info for: \(node): Name or service not known", record: "unknown node \(node)")
        }
        let vmid = Int(parameters["vmid"] ?? "")
        switch key {
        case "GET /version":
            return data(["version": "9.1.3", "release": "9.1", "repoid": "0123abcd"])
        case "GET /access/permissions":
            let granted = options.permissions ?? ["/": Set(["Sys.Audit", "VM.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit",
                                                            "VM.Config.Disk", "VM.Config.CPU", "VM.Config.Memory", "VM.Config.Network", "VM.Config.Options",
                                                            "VM.Config.Cloudinit", "VM.Config.HWType", "VM.PowerMgmt", "VM.GuestAgent.Audit", "SDN.Use"])]
            return data(granted.mapValues { Dictionary(uniqueKeysWithValues: $0.map { ($0, 1) }) })
        case "GET /storage/{storage}":
            guard let content = options.storages[parameters["storage"] ?? ""] else { return error(500, "storage '\(parameters["storage"] ?? "")' does not exist", record: nil) }
            return data(["storage": parameters["storage"] ?? "", "type": "dir", "path": "/var/lib/vz", "content": content.sorted().joined(separator: ",")])
        case "GET /nodes/{node}/storage/{storage}/status":
            guard let content = options.storages[parameters["storage"] ?? ""] else { return error(500, "storage '\(parameters["storage"] ?? "")' does not exist", record: nil) }
            return data(["content": content.sorted().joined(separator: ","), "type": content.contains("images") && !content.contains("iso") ? "lvmthin" : "dir",
                         "active": 1, "enabled": 1, "shared": 0, "avail": 100 << 30, "total": 200 << 30, "used": 100 << 30])
        case "GET /nodes/{node}/storage/{storage}/content":
            let storage = parameters["storage"] ?? ""
            let list = volumes.filter { $0.volid.hasPrefix(storage + ":" + (parameters["content"].map { $0 + "/" } ?? "")) }
            return data(list.map { ["volid": $0.volid, "format": $0.volid.hasSuffix(".qcow2") ? "qcow2" : "raw", "size": $0.size, "content": parameters["content"] ?? "import"] })
        case "POST /nodes/{node}/storage/{storage}/upload":
            return receiveUpload(parameters, upload)
        case "DELETE /nodes/{node}/storage/{storage}/content/{volume}":
            let volume = parameters["volume"] ?? ""
            let removed = state.withLock { $0.volumes.removeValue(forKey: volume) }
            guard removed != nil else { return error(500, "volume '\(volume)' does not exist", record: nil) }
            return data(newTask(node: options.node, type: "imgdel", id: volume, log: ["Removed volume '\(volume)'", "TASK OK"]))
        case "GET /cluster/nextid":
            let taken = Set(vms.map(\.vmid))
            if let asked = vmid { return taken.contains(asked) ? error(400, "VM \(asked) already exists", record: nil) : data(String(asked)) }
            // PVE serialises the id as a string.
            return data(String((100...).first { !taken.contains($0) }!))
        case "POST /nodes/{node}/qemu":
            return createVM(vmid ?? 0, parameters)
        case "POST /nodes/{node}/qemu/{vmid}/status/start":
            return withVM(vmid) { vm in
                vm.running = true
                if let hook = options.onStart { Task { [vm] in await hook(vm) } }
                return data(newTask(node: vm.node, type: "qmstart", id: String(vm.vmid), log: ["generating cloud-init ISO", "TASK OK"]))
            }
        case "PUT /nodes/{node}/qemu/{vmid}/config":
            return withVM(vmid) { vm in
                for name in (parameters["delete"] ?? "").split(whereSeparator: { ",; ".contains($0) }) { vm.config.removeValue(forKey: String(name)) }
                for (name, value) in parameters where !["node", "vmid", "delete", "digest"].contains(name) { vm.config[name] = value }
                return data(NSNull())
            }
        case "POST /nodes/{node}/qemu/{vmid}/status/stop", "POST /nodes/{node}/qemu/{vmid}/status/shutdown":
            return withVM(vmid) { vm in
                vm.running = false
                return data(newTask(node: vm.node, type: key.hasSuffix("stop") ? "qmstop" : "qmshutdown", id: String(vm.vmid), log: ["TASK OK"]))
            }
        case "GET /nodes/{node}/qemu/{vmid}/status/current":
            return withVM(vmid) { vm in
                data(["status": vm.running ? "running" : "stopped", "vmid": vm.vmid, "name": vm.config["name"] ?? "", "agent": 1])
            }
        case "DELETE /nodes/{node}/qemu/{vmid}":
            guard let vm = vms.first(where: { $0.vmid == vmid }) else { return error(500, "Configuration file 'nodes/\(node)/qemu-server/\(vmid ?? 0).conf' does not exist", record: nil) }
            guard !vm.running else { return error(500, "VM \(vm.vmid) is running - destroy failed", record: "destroying a running VM") }
            state.withLock { _ = $0.vms.removeValue(forKey: vm.vmid) }
            return data(newTask(node: vm.node, type: "qmdestroy", id: String(vm.vmid), log: ["purging VM \(vm.vmid) from related configurations..", "TASK OK"]))
        case "POST /nodes/{node}/qemu/{vmid}/agent/ping":
            guard let vm = vms.first(where: { $0.vmid == vmid }) else { return error(500, "VM \(vmid ?? 0) not running", record: nil) }
            guard vm.running, options.agentUp else { return error(500, "QEMU guest agent is not running", record: nil) }
            return data(["result": [String: Any]()])
        case "GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces":
            guard let vm = vms.first(where: { $0.vmid == vmid }), vm.running, options.agentUp else { return error(500, "QEMU guest agent is not running", record: nil) }
            let addresses = options.addresses.map { ["ip-address": $0, "ip-address-type": $0.contains(":") ? "ipv6" : "ipv4", "prefix": $0.contains(":") ? 64 : 24] as [String: Any] }
            return data(["result": [
                ["name": "lo", "hardware-address": "00:00:00:00:00:00", "ip-addresses": [["ip-address": "127.0.0.1", "ip-address-type": "ipv4", "prefix": 8]]],
                ["name": "eth0", "hardware-address": "bc:24:11:00:00:01", "ip-addresses": addresses],
            ]])
        case "GET /nodes/{node}/tasks/{upid}/status", "GET /nodes/{node}/tasks/{upid}/log":
            let upid = parameters["upid"] ?? ""
            let record = state.withLock { state -> TaskRecord? in
                guard var record = state.tasks[upid] else { return nil }
                if key.hasSuffix("status") { record.polls += 1; state.tasks[upid] = record }
                return record
            }
            // A task is known only on the node it runs on.
            guard let record, record.node == node else {
                return respond(400, ["message": "Parameter verification failed.", "errors": ["upid": "no such task"], "data": NSNull()])
            }
            if key.hasSuffix("log") {
                return data(record.log.enumerated().map { ["n": $0.offset + 1, "t": $0.element] })
            }
            let running = record.polls < 2
            var answer: [String: Any] = ["status": running ? "running" : "stopped", "id": "", "node": record.node, "pid": 4096, "pstart": 4660,
                                         "starttime": Int(Date().timeIntervalSince1970), "type": record.type, "upid": record.upid, "user": options.tokenID]
            if !running { answer["exitstatus"] = record.exitStatus }
            return data(answer)
        default:
            return error(501, "Method '\(key)' not implemented by the fake", record: "\(key) has no handler in the fake")
        }
    }

    func withVM(_ vmid: Int?, _ body: (inout VM) -> Response) -> Response {
        guard let vmid, var vm = vms.first(where: { $0.vmid == vmid }) else { return error(500, "Configuration file for VM \(vmid ?? 0) does not exist", record: nil) }
        let response = body(&vm)
        state.withLock { $0.vms[vmid] = vm }
        return response
    }

    /// pve-storage's name rules, then the checksum, then the volume; the task runs on the API node.
    func receiveUpload(_ parameters: [String: String], _ upload: ReceivedFile?) -> Response {
        let options = options
        guard let upload else { return error(400, "no file", record: "upload without a file") }
        let storage = parameters["storage"] ?? "", content = parameters["content"] ?? ""
        guard options.storages[storage]?.contains(content) == true else {
            return error(500, "storage '\(storage)' does not support '\(content)' content", record: nil)
        }
        let name = String(((upload.fileName as NSString).lastPathComponent).map { $0.isASCII && ($0.isLetter || $0.isNumber || "_.-".contains($0)) ? $0 : "_" })
        let allowed: [String] = switch content {
        case "iso": [".iso", ".img"]
        case "import": [".ova", ".qcow2", ".raw", ".vmdk"]
        default: [".tar", ".tar.gz", ".tar.xz", ".tar.zst", ".tar.bz2"]
        }
        guard allowed.contains(where: { name.lowercased().hasSuffix($0) }) else {
            return error(400, "wrong file extension", record: "\(content) upload named \(name)")
        }
        if options.uploadFailsWith500 { return error(500, "error during upload: No space left on device", record: nil) }
        if let expected = parameters["checksum"], parameters["checksum-algorithm"] == "sha256", expected.lowercased() != upload.sha256 {
            return error(500, "checksum mismatch: got '\(upload.sha256)' != expect '\(expected)'", record: "upload checksum mismatch")
        }
        let volid = "\(storage):\(content)/\(name)"
        state.withLock { $0.volumes[volid] = Volume(volid: volid, size: upload.size, sha256: upload.sha256) }
        return data(newTask(node: options.apiNode, type: "imgcopy", id: "", log: [
            "starting file import from: /var/tmp/pveupload-\(upload.sha256.prefix(32))", "target node: \(options.node)",
            "target file: /var/lib/vz/\(content == "iso" ? "template/iso" : "import")/\(name)", "file size is: \(upload.size)",
            "calculating checksum...OK, checksum verified", "TASK OK",
        ]))
    }

    func createVM(_ vmid: Int, _ parameters: [String: String]) -> Response {
        let options = options
        if options.raceNextID {
            update { $0.raceNextID = false }
            takeID(vmid)
        }
        if vms.contains(where: { $0.vmid == vmid }) {
            return error(500, "unable to create VM \(vmid) - VM \(vmid) already exists on node '\(options.node)'", record: nil)
        }
        // The import source must exist: a volume on a storage that takes it, or (root@pam only) an absolute path.
        if let source = parameters["scsi0"]?.components(separatedBy: "import-from=").dropFirst().first?.split(separator: ",").first.map(String.init) {
            if source.hasPrefix("/") {
                guard options.tokenID.hasPrefix("root@pam!") else { return error(403, "Only root can pass arbitrary filesystem paths.", record: "absolute import-from as non-root") }
                guard volumes.contains(where: { "/var/lib/vz/template/iso/" + ($0.volid.split(separator: "/").last ?? "") == source }) else {
                    return error(500, "import-from source \(source) does not exist", record: "import-from a missing path")
                }
            } else if !volumes.contains(where: { $0.volid == source }) {
                return error(500, "volume '\(source)' does not exist", record: "import-from a missing volume \(source)")
            }
        }
        if let snippet = parameters["cicustom"]?.components(separatedBy: "user=").dropFirst().first?.split(separator: ",").first {
            let parts = snippet.split(separator: ":", maxSplits: 1).map(String.init)
            guard parts.count == 2, options.storages[parts[0]]?.contains("snippets") == true, parts[1].hasPrefix("snippets/") else {
                return error(500, "volume '\(snippet)' is not a snippet on a storage with snippets content", record: "cicustom \(snippet)")
            }
            if let directory = options.snippetsDirectory, !FileManager.default.fileExists(atPath: directory + "/" + parts[1].dropFirst("snippets/".count)) {
                return error(500, "volume '\(snippet)' does not exist", record: "cicustom names a missing snippet")
            }
        }
        let vm = VM(vmid: vmid, node: options.node, config: parameters, running: false)
        state.withLock { $0.vms[vmid] = vm }
        let disk = parameters["scsi0"] ?? ""
        return data(newTask(node: options.node, type: "qmcreate", id: String(vmid), log: [
            "importing disk '\(disk)' to VM \(vmid) ...", "transferred 1.0 GiB of 1.0 GiB (100.00%)", "scsi0: successfully created disk 'vm-\(vmid)-disk-0'",
            "ide2: successfully created disk 'vm-\(vmid)-cloudinit,media=cdrom'", "TASK OK",
        ]))
    }
}
