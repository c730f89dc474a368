/// The bad records a reader skipped: a count per reason, and the first few problems in full.
public struct ProblemLog: Sendable, Equatable {
    public private(set) var countsByReason: [DataError.Reason: Int] = [:]
    /// The first `keep` problems, in file order.
    public private(set) var first: [DataError] = []
    public private(set) var total = 0
    public let keep: Int

    public init(keep: Int = 10) {
        self.keep = keep
    }

    public mutating func add(_ problem: DataError) {
        total += 1
        countsByReason[problem.reason, default: 0] += 1
        if first.count < keep { first.append(problem) }
    }

    public func count(_ reason: DataError.Reason) -> Int { countsByReason[reason] ?? 0 }
}
