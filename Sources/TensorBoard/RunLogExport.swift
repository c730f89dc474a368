import Foundation
import Training

/// `xright export tensorboard`: finished runs (xright's or the PyTorch bridge's, one schema) as TensorBoard event
/// files, one subdirectory per run so that TensorBoard compares them. Logs are read through `RunLogReader`.
public enum RunLogExport {
    public struct Exported: Equatable {
        public var run: String
        public var directory: URL
        public var events: Int
    }

    /// Writes each run of `runs` (run directories or run.jsonl files) to `output/<run name>`.
    public static func export(runs: [URL], to output: URL) throws -> [Exported] {
        var used = Set<String>()
        var exported = [Exported]()
        for run in runs {
            let log = run.pathExtension == "jsonl" ? run : run.appendingPathComponent("run.jsonl")
            let contents: RunLogContents
            do {
                contents = try RunLogReader.read(log)
            } catch {
                throw TensorBoardError.cannotRead(path: log.path, reason: "\(error)")
            }
            var name = log.deletingLastPathComponent().lastPathComponent
            if used.contains(name) {
                var n = 2
                while used.contains("\(name)-\(n)") { n += 1 }
                name = "\(name)-\(n)"
            }
            used.insert(name)
            let directory = output.appendingPathComponent(name)
            if let files = try? FileManager.default.contentsOfDirectory(atPath: directory.path),
               files.contains(where: { $0.hasPrefix("events.out.tfevents.") }) {
                throw TensorBoardError.outputHoldsEvents(path: directory.path)
            }
            let start = startTime(contents.header)
            let writer = try EventFileWriter(directory: directory)
            var events = 0
            var records = contents.records
            if case .header = records.first?.event {} else { records.insert(RunRecord(time: 0, event: .header(contents.header)), at: 0) }
            for record in supersededRemoved(records) {
                guard let (step, items) = RunSummaries.items(record.event), !items.isEmpty else { continue }
                try writer.write(step: step, wallTime: start + record.time, items: items)
                events += 1
            }
            exported.append(Exported(run: name, directory: directory, events: events))
        }
        return exported
    }

    /// A resumed run repeats the steps after its checkpoint; the repeats supersede the first attempt's records
    /// (docs/RUNLOG.md, "Resuming"), so those are dropped.
    public static func supersededRemoved(_ records: [RunRecord]) -> [RunRecord] {
        var kept = [RunRecord]()
        for record in records {
            if case .started(let started) = record.event, started.resumedFrom != nil {
                kept.removeAll { (RunSummaries.items($0.event)?.step ?? 0) > started.step }
            }
            kept.append(record)
        }
        return kept
    }

    /// Seconds since 1970 when the run began (the header's `createdAt`).
    static func startTime(_ header: RunHeader) -> Double {
        ISO8601DateFormatter().date(from: header.createdAt)?.timeIntervalSince1970 ?? 0
    }
}
