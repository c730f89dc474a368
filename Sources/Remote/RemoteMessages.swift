import Foundation
import Training

/// The wire protocol of a run's socket (docs/SESSIONS.md): one JSON object per line, each with a `type`.
public enum RemoteProtocol {
    public static let version = 1
    /// Client messages are tiny (a command, a hello); anything longer is an attack or a bug.
    public static let defaultMaxMessageBytes = 64 * 1024
}

/// Client → run.
public enum ClientRequest: Equatable, Sendable {
    /// Subscribe: the records with sequence number ≥ `since` (the full history with 0), then live ones.
    /// `since` nil: live records only.
    case hello(version: Int, since: Int?)
    /// Queue a command; the reply comes once the session applied or refused it.
    case command(id: Int?, SessionCommand)
    case status(id: Int?)
}

extension ClientRequest: Codable {
    private enum Keys: String, CodingKey { case type, version, since, id, command }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "hello":
            self = .hello(version: try c.decode(Int.self, forKey: .version), since: try c.decodeIfPresent(Int.self, forKey: .since))
        case "command":
            self = .command(id: try c.decodeIfPresent(Int.self, forKey: .id), try c.decode(SessionCommand.self, forKey: .command))
        case "status":
            self = .status(id: try c.decodeIfPresent(Int.self, forKey: .id))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c,
                debugDescription: "unknown message type '\(type)'; expected hello, command or status")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case let .hello(version, since):
            try c.encode("hello", forKey: .type)
            try c.encode(version, forKey: .version)
            try c.encodeIfPresent(since, forKey: .since)
        case let .command(id, command):
            try c.encode("command", forKey: .type)
            try c.encodeIfPresent(id, forKey: .id)
            try c.encode(command, forKey: .command)
        case let .status(id):
            try c.encode("status", forKey: .type)
            try c.encodeIfPresent(id, forKey: .id)
        }
    }
}

/// The answer to `hello`: who serves the run and the sequence number the next new record will get.
public struct Welcome: Codable, Equatable, Sendable {
    public var version: Int
    public var pid: Int32
    public var runDirectory: String
    /// Records with a smaller sequence number are history; `since` of a reconnect is the last seen + 1.
    public var next: Int

    public init(version: Int, pid: Int32, runDirectory: String, next: Int) {
        self.version = version
        self.pid = pid
        self.runDirectory = runDirectory
        self.next = next
    }
}

/// The outcome of a command: applied (`ok`), or refused / not applied with the session's reason.
public struct CommandReply: Codable, Equatable, Sendable {
    public var id: Int?
    public var ok: Bool
    public var command: String
    /// The completed step the command was applied or refused after.
    public var step: Int?
    public var error: String?

    public init(id: Int?, ok: Bool, command: String, step: Int? = nil, error: String? = nil) {
        self.id = id
        self.ok = ok
        self.command = command
        self.step = step
        self.error = error
    }
}

/// `running` and `paused` are live; `finished` ended with a `finished` event; `crashed` ended without one;
/// `unreadable`: no live process and a log that is not a run log this version reads (empty, garbage, another
/// schema), so nothing can be said about how it ended (the report's `problem` says what the log is).
public enum RunState: String, Codable, Sendable {
    case running, paused, finished, crashed, unreadable

    public var isLive: Bool { self == .running || self == .paused }
}

/// Training and held-out losses at a glance.
public struct LossPair: Codable, Equatable, Sendable {
    public var sft: Double?
    public var dpo: Double?

    public init(sft: Double?, dpo: Double?) {
        self.sft = sft
        self.dpo = dpo
    }
}

/// What `status` answers, `xright ctl … status --json` prints and `xright ls` lists.
public struct RunStatusReport: Codable, Equatable, Sendable {
    public var runDirectory: String
    public var state: RunState
    public var step: Int
    public var plannedSteps: Int?
    /// When the run began (ISO-8601, from its header).
    public var createdAt: String?
    public var epoch: Int
    public var lambda: Double?
    public var strategy: String?
    /// Losses of the newest training step of each objective.
    public var losses: LossPair
    /// The newest held-out evaluation, and its ideal distance when the optima are known.
    public var evalLosses: LossPair?
    public var idealDistance: Double?
    public var tokensPerSecond: Double?
    public var elapsedSeconds: Double?
    public var finished: RunFinished?
    public var lastCheckpoint: String?
    /// The serving process (live runs).
    public var pid: Int32?
    /// Clients subscribed to events (live runs).
    public var viewers: Int?
    /// Why the log could not be read (state `unreadable`), e.g. "empty log".
    public var problem: String?

    /// The report of a run as its records tell it (`RunProgress`, from the live stream or the log's tail).
    public init(runDirectory: String, state: RunState, progress: RunProgress, pid: Int32? = nil, viewers: Int? = nil) {
        self.runDirectory = runDirectory
        self.state = state
        step = progress.step
        plannedSteps = progress.header?.plannedSteps
        createdAt = progress.header?.createdAt
        epoch = progress.epoch
        lambda = progress.lambda?.value
        strategy = progress.strategy?.rawValue
        losses = LossPair(sft: progress.sftLoss, dpo: progress.dpoLoss)
        evalLosses = progress.lastEval.map { LossPair(sft: $0.sft?.loss, dpo: $0.dpo?.loss) }
        idealDistance = progress.lastEval?.idealDistance
        tokensPerSecond = progress.tokensPerSecond
        elapsedSeconds = progress.elapsedSeconds
        finished = progress.finished
        lastCheckpoint = progress.lastCheckpoint
        self.pid = pid
        self.viewers = viewers
    }
}

/// Run → client.
public enum ServerMessage: Equatable, Sendable {
    case welcome(Welcome)
    /// A run record and its sequence number (0 is the header).
    case record(seq: Int, RunRecord)
    /// A `progress` record (where the step in flight is): live viewers only, no sequence number — it is not part
    /// of the history, as it is not part of run.jsonl.
    case progress(RunRecord)
    case reply(CommandReply)
    case status(id: Int?, RunStatusReport)
    /// Something the client should show (e.g. it is being dropped for falling behind).
    case notice(String)
    /// The connection is closed after this (bad message, refused peer).
    case error(String)
}

extension ServerMessage: Codable {
    private enum Keys: String, CodingKey { case type, seq, record, message, status, id }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let type = try c.decode(String.self, forKey: .type)
        switch type {
        case "welcome": self = .welcome(try Welcome(from: decoder))
        case "record": self = .record(seq: try c.decode(Int.self, forKey: .seq), try c.decode(RunRecord.self, forKey: .record))
        case "progress": self = .progress(try c.decode(RunRecord.self, forKey: .record))
        case "reply": self = .reply(try CommandReply(from: decoder))
        case "status": self = .status(id: try c.decodeIfPresent(Int.self, forKey: .id), try c.decode(RunStatusReport.self, forKey: .status))
        case "notice": self = .notice(try c.decode(String.self, forKey: .message))
        case "error": self = .error(try c.decode(String.self, forKey: .message))
        default:
            throw DecodingError.dataCorruptedError(forKey: .type, in: c, debugDescription: "unknown message type '\(type)'")
        }
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: Keys.self)
        switch self {
        case .welcome(let w):
            try c.encode("welcome", forKey: .type)
            try w.encode(to: encoder)
        case let .record(seq, record):
            try c.encode("record", forKey: .type)
            try c.encode(seq, forKey: .seq)
            try c.encode(record, forKey: .record)
        case .progress(let record):
            try c.encode("progress", forKey: .type)
            try c.encode(record, forKey: .record)
        case .reply(let r):
            try c.encode("reply", forKey: .type)
            try r.encode(to: encoder)
        case let .status(id, report):
            try c.encode("status", forKey: .type)
            try c.encodeIfPresent(id, forKey: .id)
            try c.encode(report, forKey: .status)
        case .notice(let m):
            try c.encode("notice", forKey: .type)
            try c.encode(m, forKey: .message)
        case .error(let m):
            try c.encode("error", forKey: .type)
            try c.encode(m, forKey: .message)
        }
    }
}
