import Foundation
import Training

/// The files a live run keeps beside `run.jsonl`.
extension RunDirectory {
    /// The Unix-domain socket serving events and commands while the run is live (0600).
    public var controlSocket: URL { url.appendingPathComponent("control.sock") }
    /// The serving process's id while the run is live; its absence after a run without `finished` means a crash.
    public var pidFile: URL { url.appendingPathComponent("xright.pid") }
    /// stdout and stderr of a detached run.
    public var outputLog: URL { url.appendingPathComponent("output.log") }
}
