import ArgumentParser
import Foundation
import PrometheusMetrics
import TensorBoard
import Training

/// Where a live run's figures go besides its run log and dashboard: TensorBoard event files, a Prometheus endpoint.
struct LiveExportArguments: ParsableArguments {
    @Option(help: ArgumentHelp("Also write TensorBoard event files to DIR/<run name> while training (tensorboard --logdir DIR).",
                               valueName: "dir"),
            completion: .directory)
    var tensorboard: String?

    @Option(help: ArgumentHelp("Serve the live run's figures in the Prometheus text format at http://127.0.0.1:N/metrics (loopback only; 0 picks a free port).",
                               valueName: "n"))
    var metricsPort: Int?

    func validate() throws {
        if let metricsPort, !(0...65535).contains(metricsPort) {
            throw ValidationError("--metrics-port must be a TCP port in 0…65535 (0: any free port), got \(metricsPort)")
        }
    }

    var live: LiveExports { LiveExports(tensorboard: tensorboard, metricsPort: metricsPort) }
}

/// The exports a run was asked for (a plain value: the runner's default needs no parsing).
struct LiveExports {
    var tensorboard: String?
    var metricsPort: Int?

    /// Starts the exports asked for on `session`; what they hold must stay alive for the run.
    func attach(to session: TrainingSession, runDirectory: RunDirectory) throws -> [AnyObject] {
        var live = [AnyObject]()
        if let tensorboard {
            let directory = URL(fileURLWithPath: tensorboard).appendingPathComponent(runDirectory.url.lastPathComponent)
            do {
                let writer = try LiveTensorBoard(directory: directory, header: session.header) { error in
                    printErr("warning: TensorBoard events stopped: \(error)")
                }
                session.subscribe(writer.observe)
                printErr("tensorboard: \(directory.path)")
                live.append(writer)
            } catch let error as TensorBoardError {
                throw CLIError(error.description)
            }
        }
        if let metricsPort {
            let metrics = RunMetrics(run: runDirectory.url.lastPathComponent)
            metrics.observe(RunRecord(time: 0, event: .header(session.header)))
            session.subscribe(metrics.observe)
            do {
                let server = try MetricsServer(port: UInt16(metricsPort)) { metrics.exposition() }
                printErr("metrics: http://127.0.0.1:\(server.port)/metrics")
                live.append(server)
            } catch let error as MetricsServerError {
                throw CLIError(error.description)
            }
        }
        return live
    }
}
