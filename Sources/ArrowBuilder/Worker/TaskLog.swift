import ArrowClient
import ArrowProtocol
import Foundation

/// The four logs of one attempt, streamed to the server as they grow: lines are buffered per file and sent at
/// least every second (or at 64 KiB) as numbered chunks, so a retried POST never duplicates a line. Every secret
/// the build holds is replaced by `[redacted]` before a line leaves the builder (or reaches its own output).
public actor TaskLog {
    public enum File: String, CaseIterable, Sendable { case download, ansible, deploy, summary }

    let sink: any TaskLogSink
    let lease: APIClient.Lease
    private var pending: [File: String] = [:]
    private var sequence: [File: Int] = [:]
    private var secrets: [String] = []
    private var flusher: Task<Void, Never>?
    /// What the builder's own output shows (its terminal, or the CI job's log).
    let echo: @Sendable (File, String) -> Void
    static let chunkLimit = 64 << 10

    public init(sink: any TaskLogSink, lease: APIClient.Lease, echo: @escaping @Sendable (File, String) -> Void = { _, _ in }) {
        self.sink = sink
        self.lease = lease
        self.echo = echo
        self.secrets = [lease.token]
    }

    /// Adds values to redact from now on (ClientConfig secrets, as soon as they are known). Short values are
    /// ignored: redacting "a" would garble every line.
    public func redact(_ values: [String]) {
        secrets += values.filter { $0.count >= 6 }
        secrets.sort { $0.count > $1.count }
    }

    /// `text` with every secret known so far replaced by `[redacted]` (longest first).
    public func scrub(_ text: String) -> String {
        var clean = text
        for secret in secrets where clean.contains(secret) { clean = clean.replacingOccurrences(of: secret, with: "[redacted]") }
        return clean
    }

    public func line(_ file: File, _ text: String) async {
        let clean = scrub(text)
        echo(file, clean)
        pending[file, default: ""] += clean + "\n"
        if pending[file, default: ""].utf8.count >= Self.chunkLimit { await flush(file) }
        if flusher == nil {
            flusher = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .seconds(1))
                    await self?.flushAll()
                }
            }
        }
    }

    /// Sends everything buffered; a chunk that cannot be sent after retries stays buffered for the next flush.
    public func flushAll() async {
        for file in File.allCases { await flush(file) }
    }

    /// Sends what is left and stops the periodic flush.
    public func close() async {
        flusher?.cancel()
        flusher = nil
        await flushAll()
    }

    private func flush(_ file: File) async {
        guard let text = pending[file], !text.isEmpty else { return }
        let number = sequence[file, default: 0]
        pending[file] = ""
        let chunk = TaskLogUpload(taskId: lease.taskID, attempt: lease.attempt, leaseToken: lease.token, file: file.rawValue,
                                  sequence: number, content: text)
        for attempt in 0..<3 {
            do {
                try await sink.appendLog(chunk)
                sequence[file] = number + 1
                return
            } catch {
                if attempt < 2 { try? await Task.sleep(for: .milliseconds(200 << attempt)) }
            }
        }
        // Kept, in order, ahead of anything written meanwhile; the same sequence number is tried again.
        pending[file] = text + (pending[file] ?? "")
    }
}

/// Where log chunks go: the API (``APIClient``), or a test's recorder.
public protocol TaskLogSink: Sendable {
    func appendLog(_ chunk: TaskLogUpload) async throws
}
