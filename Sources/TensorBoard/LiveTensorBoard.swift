import Foundation
import Training

/// `xright train --tensorboard DIR`: the live run's events written as they happen to `DIR/<run name>/`, so a
/// TensorBoard pointed at DIR follows the run (and compares it with the others there). Called on the training
/// thread: one small write per event. A write that fails is reported once and ends the writing, not the run.
public final class LiveTensorBoard {
    public let directory: URL
    private let writer: EventFileWriter
    private let lock = NSLock()
    private var failed = false
    private var headerWritten = false
    private let onFailure: (TensorBoardError) -> Void

    public init(directory: URL, header: RunHeader, onFailure: @escaping (TensorBoardError) -> Void) throws {
        self.directory = directory
        self.onFailure = onFailure
        writer = try EventFileWriter(directory: directory)
        observe(RunRecord(time: 0, event: .header(header)))
    }

    public func observe(_ record: RunRecord) {
        guard let (step, items) = RunSummaries.items(record.event), !items.isEmpty else { return }
        lock.lock()
        defer { lock.unlock() }
        guard !failed else { return }
        // The header is written on creation; a session that also sends it to observers must not write it twice.
        if case .header = record.event {
            if headerWritten { return }
            headerWritten = true
        }
        do {
            try writer.write(step: step, wallTime: Date().timeIntervalSince1970, items: items)
        } catch let error as TensorBoardError {
            failed = true
            onFailure(error)
        } catch {
            failed = true
            onFailure(.cannotWrite(path: writer.url.path, reason: "\(error)"))
        }
    }
}
