import Foundation

/// A complete checkpoint on disk: `checkpoints/step-000123/` holding `session.json` and `backend/`.
public struct Checkpoint: Equatable, Sendable {
    public var step: Int
    public var directory: URL

    public var sessionFile: URL { directory.appendingPathComponent(CheckpointStore.sessionFileName) }
    public var backendDirectory: URL { directory.appendingPathComponent(CheckpointStore.backendDirectoryName) }
}

public enum CheckpointError: Error, CustomStringConvertible {
    /// The checkpoint could not be written; the previous checkpoints are untouched.
    case writeFailed(checkpoint: String, stage: String, reason: String)
    case notACheckpoint(path: String, missing: String)
    case unreadableState(file: String, reason: String)
    case incompatible(file: String, field: String, expected: String, found: String)

    public var description: String {
        switch self {
        case let .writeFailed(checkpoint, stage, reason):
            return "checkpoint \(checkpoint) not written (\(stage)): \(reason); earlier checkpoints are kept"
        case let .notACheckpoint(path, missing):
            return "\(path) is not a complete checkpoint: \(missing) is missing"
        case let .unreadableState(file, reason): return "\(file): cannot read session state: \(reason)"
        case let .incompatible(file, field, expected, found):
            return "\(file): \(field) expected \(expected); found \(found)"
        }
    }
}

/// A backend that also writes its model for other tools into each checkpoint (`model/`, docs/GGUF.md "Saving").
/// Resume never reads it: the backend's own state is what a resume restores.
public protocol CheckpointModelWriter {
    func writeCheckpointModel(to directory: URL) throws
}

/// Writes checkpoints atomically — into a hidden temporary directory, every file fsynced, then renamed into
/// place and the parent fsynced — so a crash or a full disk never leaves a half-written `step-*` directory.
public final class CheckpointStore {
    public static let sessionFileName = "session.json"
    public static let backendDirectoryName = "backend"
    /// The model as other tools load it (config.json, weights in --save-dtype, tokenizer files).
    public static let modelDirectoryName = "model"
    static let temporaryPrefix = ".tmp-"

    public let directory: URL
    /// Keep only the newest N checkpoints (nil: all).
    public var keepLast: Int?
    /// Writes a file durably; replaceable so tests can simulate a full disk.
    public var writeFile: (Data, URL) throws -> Void = DurableFile.write

    public init(directory: URL, keepLast: Int? = nil) {
        self.directory = directory
        self.keepLast = keepLast
    }

    public static func directoryName(step: Int) -> String {
        let digits = String(step)
        return "step-" + String(repeating: "0", count: max(0, 6 - digits.count)) + digits
    }

    /// Writes the backend's state and `sessionState` as the checkpoint of `step`.
    @discardableResult
    public func save(step: Int, sessionState: Data, backend: TrainingBackend) throws -> Checkpoint {
        let name = Self.directoryName(step: step)
        let final = directory.appendingPathComponent(name)
        let temporary = directory.appendingPathComponent(Self.temporaryPrefix + name + "-" + UUID().uuidString.prefix(8))
        func fail(_ stage: String, _ error: Error) -> CheckpointError {
            try? FileManager.default.removeItem(at: temporary)
            return .writeFailed(checkpoint: final.path, stage: stage, reason: String(describing: error))
        }
        do { try DurableFile.makeDirectories(directory) } catch { throw fail("creating \(directory.path)", error) }
        do { try DurableFile.makeDirectory(temporary) } catch { throw fail("creating a temporary directory", error) }
        let backendDirectory = temporary.appendingPathComponent(Self.backendDirectoryName)
        do {
            try DurableFile.makeDirectory(backendDirectory)
            try backend.saveState(to: backendDirectory)
            if let writer = backend as? CheckpointModelWriter {
                try writer.writeCheckpointModel(to: temporary.appendingPathComponent(Self.modelDirectoryName))
            }
            FaultPoint.checkpointStateWritten.reached()
        } catch { throw fail("saving the model and optimizer state", error) }
        do {
            try writeFile(sessionState, temporary.appendingPathComponent(Self.sessionFileName))
            try DurableFile.syncTree(temporary)
            FaultPoint.checkpointBeforeRename.reached()
        } catch { throw fail("writing \(Self.sessionFileName)", error) }
        do {
            try moveIntoPlace(temporary, final)
            try DurableFile.sync(directory)
        } catch { throw fail("renaming into place", error) }
        try? prune()
        return Checkpoint(step: step, directory: final)
    }

    /// A second checkpoint of the same step (λ changed, then checkpoint-now) replaces the first; the old one is
    /// moved aside before the rename so a complete checkpoint is always there.
    private func moveIntoPlace(_ temporary: URL, _ final: URL) throws {
        guard DurableFile.isDirectory(final) else {
            try DurableFile.rename(temporary, to: final)
            return
        }
        let aside = directory.appendingPathComponent(Self.temporaryPrefix + "replaced-" + UUID().uuidString.prefix(8))
        try DurableFile.rename(final, to: aside)
        try DurableFile.rename(temporary, to: final)
        try? FileManager.default.removeItem(at: aside)
    }

    /// Complete checkpoints, oldest first. Temporary and foreign entries are ignored.
    public func list() throws -> [Checkpoint] {
        guard DurableFile.isDirectory(directory) else { return [] }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        return names.compactMap { name -> Checkpoint? in
            guard name.hasPrefix("step-"), let step = Int(name.dropFirst(5)), step >= 0 else { return nil }
            let checkpoint = Checkpoint(step: step, directory: directory.appendingPathComponent(name))
            return Self.isComplete(checkpoint) ? checkpoint : nil
        }.sorted { $0.step < $1.step }
    }

    /// The newest complete checkpoint, if any.
    public func latest() throws -> Checkpoint? { try list().last }

    /// The checkpoint at `directory` (a `step-*` folder), checked for completeness.
    public static func open(_ directory: URL) throws -> Checkpoint {
        let step = Int(directory.lastPathComponent.replacingOccurrences(of: "step-", with: "")) ?? -1
        let checkpoint = Checkpoint(step: step, directory: directory)
        guard FileManager.default.fileExists(atPath: checkpoint.sessionFile.path) else {
            throw CheckpointError.notACheckpoint(path: directory.path, missing: sessionFileName)
        }
        guard DurableFile.isDirectory(checkpoint.backendDirectory) else {
            throw CheckpointError.notACheckpoint(path: directory.path, missing: backendDirectoryName + "/")
        }
        return checkpoint
    }

    static func isComplete(_ checkpoint: Checkpoint) -> Bool {
        FileManager.default.fileExists(atPath: checkpoint.sessionFile.path)
            && DurableFile.isDirectory(checkpoint.backendDirectory)
    }

    private func prune() throws {
        guard let keep = keepLast, keep >= 1 else { return }
        let all = try list()
        for old in all.dropLast(keep) { try FileManager.default.removeItem(at: old.directory) }
    }
}
