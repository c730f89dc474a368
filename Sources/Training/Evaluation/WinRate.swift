import Foundation

/// How often answer A beats answer B over n prompts. Ties count half a win in `rate` and its interval (the
/// convention of AlpacaEval and Chatbot-Arena-style win rates) and are also reported on their own.
public struct WinRate: Equatable, Sendable {
    public var wins: Int
    public var losses: Int
    public var ties: Int

    public init(wins: Int, losses: Int, ties: Int) {
        self.wins = wins
        self.losses = losses
        self.ties = ties
    }

    /// Tallies score pairs: A wins when its score is strictly higher; equal scores are a tie.
    public init(scoresA: [Double], scoresB: [Double]) {
        precondition(scoresA.count == scoresB.count, "one score of each per prompt")
        var w = 0, l = 0, t = 0
        for (a, b) in zip(scoresA, scoresB) {
            if a > b { w += 1 } else if b > a { l += 1 } else { t += 1 }
        }
        self.init(wins: w, losses: l, ties: t)
    }

    public var count: Int { wins + losses + ties }

    /// (wins + ties/2) / n.
    public var rate: Double { count == 0 ? 0 : (Double(wins) + 0.5 * Double(ties)) / Double(count) }

    /// The Wilson score interval of `rate` at 95% (z = 1.959964): unlike p ± z·√(p(1−p)/n) it stays inside
    /// [0, 1] and is sensible for small n and rates near 0 or 1.
    public var interval95: (low: Double, high: Double) { Self.wilson(rate, n: count, z: 1.959963984540054) }

    public static func wilson(_ p: Double, n: Int, z: Double) -> (low: Double, high: Double) {
        guard n > 0 else { return (0, 1) }
        let nd = Double(n), z2 = z * z
        let denominator = 1 + z2 / nd
        let center = (p + z2 / (2 * nd)) / denominator
        let half = z / denominator * (p * (1 - p) / nd + z2 / (4 * nd * nd)).squareRoot()
        return (max(0, center - half), min(1, center + half))
    }
}
