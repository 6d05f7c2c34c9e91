import Foundation
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// A progress bar on standard error with rate and ETA: redrawn in place on a terminal (at most 10 times a second),
/// one line per 10% otherwise (logs, CI).
public final class ProgressBar: Sendable {
    struct State {
        var done: Int64 = 0
        var lastDraw = Date.distantPast
        var lastDecile = -1
    }

    let total: Int64
    let label: String
    let started = Date()
    let interactive: Bool
    private let state = Mutex(State())

    public init(total: Int64, label: String, interactive: Bool = isatty(STDERR_FILENO) == 1) {
        self.total = max(total, 1)
        self.label = label
        self.interactive = interactive
    }

    public func advance(by count: Int64) {
        let line: String? = state.withLock { state in
            state.done += count
            let now = Date()
            if interactive {
                guard now.timeIntervalSince(state.lastDraw) >= 0.1 || state.done >= total else { return nil }
                state.lastDraw = now
                return "\r" + render(state.done, now: now)
            }
            let decile = Int(state.done * 10 / total)
            guard decile > state.lastDecile else { return nil }
            state.lastDecile = decile
            return render(state.done, now: now) + "\n"
        }
        if let line { FileHandle.standardError.write(Data(line.utf8)) }
    }

    /// Ends the bar's line.
    public func finish(_ message: String) {
        FileHandle.standardError.write(Data(((interactive ? "\r\u{1B}[K" : "") + message + "\n").utf8))
    }

    func render(_ done: Int64, now: Date) -> String {
        let fraction = Double(done) / Double(total)
        let width = 24
        let filled = min(width, Int(fraction * Double(width)))
        let elapsed = max(now.timeIntervalSince(started), 0.001)
        let rate = Double(done) / elapsed
        let eta = rate > 0 ? Double(total - done) / rate : 0
        return "\(label) [" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] "
            + String(format: "%3d%% ", Int(fraction * 100)) + "\(Self.bytes(done))/\(Self.bytes(total)) "
            + "\(Self.bytes(Int64(rate)))/s ETA \(Self.duration(eta))"
    }

    public static func bytes(_ count: Int64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(count)
        var unit = 0
        while value >= 1024, unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(count) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        return total >= 3600 ? String(format: "%d:%02d:%02d", total / 3600, total / 60 % 60, total % 60) : String(format: "%d:%02d", total / 60, total % 60)
    }
}
