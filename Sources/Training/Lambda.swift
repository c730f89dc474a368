import Foundation

/// λ, the weight of DPO against SFT (docs/DESIGN.md §1): 0 is SFT only, 1 is DPO only. Holds only finite values in [0, 1],
/// so every strategy can use it without checking.
public struct Lambda: Hashable, Sendable, CustomStringConvertible {
    public let value: Double

    public init(_ value: Double) throws {
        guard value.isFinite else { throw LambdaError.notFinite(value) }
        guard value >= 0, value <= 1 else { throw LambdaError.outOfRange(value) }
        self.value = value
    }

    /// Parses what a user typed (`--lambda 0.25`, a dashboard prompt).
    public init(parsing text: String) throws {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard let value = Double(trimmed) else { throw LambdaError.notANumber(text) }
        try self.init(value)
    }

    /// The weight of SFT, 1 − λ.
    public var sftWeight: Double { 1 - value }
    /// The weight of DPO, λ.
    public var dpoWeight: Double { value }

    public func weight(of objective: Objective) -> Double {
        objective == .sft ? sftWeight : dpoWeight
    }

    public var description: String { String(value) }

    /// What one ←/→ press in the dashboard changes λ by; the key help quotes it.
    public static let keyStep = 0.05

    /// `value` snapped to the `keyStep` grid (and to 6 decimals), so repeated presses never accumulate
    /// floating-point drift.
    public static func onKeyGrid(_ value: Double) -> Double {
        (((value / keyStep).rounded() * keyStep) * 1e6).rounded() / 1e6
    }
}

public enum LambdaError: Error, Equatable, CustomStringConvertible {
    case notFinite(Double)
    case outOfRange(Double)
    case notANumber(String)

    public var description: String {
        switch self {
        case .notFinite(let v): return "λ must be a finite number in [0, 1]; got \(v)"
        case .outOfRange(let v): return "λ must lie in [0, 1] (0 = SFT only, 1 = DPO only); got \(v)"
        case .notANumber(let s): return "λ must be a number in [0, 1], e.g. 0.5; got '\(s)'"
        }
    }
}

/// A λ written in the code — `lambda: 0.5` where an event or a test is built — is checked like any other: one
/// outside [0, 1] stops the program at its first use (a constant cannot be wrong only sometimes). Values from
/// outside the program (`--lambda`, a prompt, a log) go through the throwing `init(_:)`.
extension Lambda: ExpressibleByFloatLiteral, ExpressibleByIntegerLiteral {
    public init(floatLiteral value: Double) {
        do { try self.init(value) } catch { preconditionFailure("λ literal \(value): \(error)") }
    }

    public init(integerLiteral value: Int) {
        self.init(floatLiteral: Double(value))
    }
}

extension Lambda: Codable {
    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        let raw = try container.decode(Double.self)
        do { try self.init(raw) } catch let error as LambdaError {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.description)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }
}
