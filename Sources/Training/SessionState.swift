import Foundation

/// Everything besides the backend's own state that decides the rest of a run: stored as `session.json` in each
/// checkpoint, so a resumed session takes bit-identical steps.
public struct SessionState: Codable, Equatable, Sendable {
    public static let currentFormat = 1

    public var format: Int
    /// Completed optimizer steps.
    public var step: Int
    /// 0-based epoch of the budget, steps taken in it, and its length (0 until the epoch has begun).
    public var epoch: Int
    public var stepInEpoch: Int
    public var epochLength: Int
    /// λ as last set (a command may have changed it from the configured value).
    public var lambda: Lambda
    public var strategy: StrategyState
    public var cursors: ObjectiveCursors
    public var optima: Optima?
    public var consecutiveNonFinite: Int
    public var tokensSeen: Int
    /// Wall time since the run began, at the moment of the checkpoint.
    public var elapsedSeconds: Double

    public func encoded() throws -> Data {
        let encoder = RunLogCoding.makeEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted]
        return try encoder.encode(self)
    }

    /// Reads a checkpoint's `session.json`, naming the file and the field on failure.
    public static func load(_ url: URL) throws -> SessionState {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw CheckpointError.unreadableState(file: url.path, reason: (error as NSError).localizedDescription)
        }
        let state: SessionState
        do { state = try RunLogCoding.makeDecoder().decode(SessionState.self, from: data) } catch {
            throw CheckpointError.unreadableState(file: url.path, reason: DecodingErrorText.describe(error))
        }
        guard state.format == currentFormat else {
            throw CheckpointError.incompatible(file: url.path, field: "format", expected: String(currentFormat), found: String(state.format))
        }
        return state
    }
}

/// A run's directory: `run.jsonl` and `checkpoints/`.
public struct RunDirectory: Equatable, Sendable {
    public let url: URL

    public init(_ url: URL) {
        self.url = url
    }

    public var log: URL { url.appendingPathComponent("run.jsonl") }
    public var checkpoints: URL { url.appendingPathComponent("checkpoints") }

    public func create() throws {
        try DurableFile.makeDirectories(url)
    }
}

/// Who and what a run is, for its header (the CLI fills this in).
public struct RunIdentity: Sendable {
    public var programVersion: String
    public var modelFingerprint: String
    public var dataFingerprints: [String: String]
    public var settings: [String: String]
    /// The CLI's options, stored typed in the header (`RunHeader.runOptions`).
    public var runOptions: RunOptions?

    public init(programVersion: String = "unknown", modelFingerprint: String = "unknown",
                dataFingerprints: [String: String] = [:], settings: [String: String] = [:], runOptions: RunOptions? = nil) {
        self.programVersion = programVersion
        self.modelFingerprint = modelFingerprint
        self.dataFingerprints = dataFingerprints
        self.settings = settings
        self.runOptions = runOptions
    }
}

public enum SessionError: Error, Equatable, CustomStringConvertible {
    case missingSource(Objective)
    case emptySource(Objective)
    case alreadyStarted
    case internalInconsistency(String)

    public var description: String {
        switch self {
        case .missingSource(let o):
            return "this strategy trains \(o == .sft ? "SFT" : "DPO") but no \(o == .sft ? "SFT" : "preference") training data was given"
        case .emptySource(let o):
            return "the \(o == .sft ? "SFT" : "preference") training data has no batches (expected at least one)"
        case .alreadyStarted: return "the session was already started; a session runs once"
        case .internalInconsistency(let s): return "internal error: \(s)"
        }
    }
}
