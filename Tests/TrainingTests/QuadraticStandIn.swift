import Engine
import Foundation
import Training

// The stand-in for the engine and the data readers: two quadratic objectives on a small parameter vector,
// f_sft(θ) = ‖θ − a − ξ‖² and f_dpo(θ) = ‖θ − b − ξ‖², where ξ is seeded noise fixed per batch, trained by Adam.
// Deterministic in every bit, so a resumed run can be compared with an uninterrupted one exactly.

/// A batch: the noisy target of one objective.
struct QuadraticBatch: TrainingBatch {
    let target: [Double]
    let item: Int
    var tokenCount: Int { 100 }
}

/// `count` batches around `center`, shuffled per epoch with `EpochOrder`.
final class QuadraticSource: BatchSource {
    let center: [Double]
    let noise: Double
    let epochLength: Int
    let shuffleSeed: UInt64
    private(set) var requested: [BatchPosition] = []
    /// Reading this position fails, as a corrupt record would.
    var failAt: BatchPosition?
    private var order: (epoch: Int, items: [Int])?

    init(center: [Double], noise: Double = 0.3, count: Int, seed: UInt64) {
        self.center = center
        self.noise = noise
        epochLength = count
        shuffleSeed = seed
    }

    func batch(at position: BatchPosition) throws -> any TrainingBatch {
        requested.append(position)
        if position == failAt { throw StandInError(description: "record 17: expected field 'chosen', found none") }
        if order?.epoch != position.epoch {
            order = (position.epoch, EpochOrder.permutation(count: epochLength, seed: shuffleSeed, epoch: position.epoch))
        }
        let item = order!.items[position.index]
        var rng = SeededRandom(seed: shuffleSeed, stream: 1_000_000 + UInt64(item))
        let target = center.map { $0 + noise * (2 * rng.nextUnitDouble() - 1) }
        return QuadraticBatch(target: target, item: item)
    }
}

struct StandInError: Error, CustomStringConvertible {
    var description: String
}

final class QuadraticBackend: TrainingBackend {
    let a: [Double]
    let b: [Double]
    private(set) var theta: [Double]
    private var gradient: [Double]
    private var m: [Double]
    private var v: [Double]
    private var t = 0
    let learningRate: Double
    let beta1 = 0.9, beta2 = 0.95, epsilon = 1e-8

    /// Every evaluate call: objective and gradient weight (nil = measured without gradient).
    private(set) var calls: [(objective: Objective, weight: Double?)] = []
    private(set) var updates = 0
    /// Gradient evaluations (1-based) that return a NaN loss.
    var nonFiniteLossCalls: Set<Int> = []
    /// Updates (1-based) that see an infinite gradient.
    var nonFiniteGradientUpdates: Set<Int> = []
    var failSave = false
    var failHeldOut = false
    private var gradientCalls = 0
    private var updateCalls = 0

    init(dimension: Int = 4, learningRate: Double = 0.05, a: [Double]? = nil, b: [Double]? = nil) {
        self.a = a ?? (0..<dimension).map { Double($0) * 0.5 + 1 }
        self.b = b ?? (0..<dimension).map { -Double($0) * 0.25 - 1 }
        theta = Array(repeating: 0, count: dimension)
        gradient = Array(repeating: 0, count: dimension)
        m = gradient
        v = gradient
        self.learningRate = learningRate
    }

    func evaluate(_ objective: Objective, batch: any TrainingBatch, gradientWeight: Double?) throws -> ObjectiveMetrics {
        guard let batch = batch as? QuadraticBatch else { throw StandInError(description: "not a quadratic batch") }
        calls.append((objective, gradientWeight))
        var loss = 0.0
        for i in theta.indices {
            let d = theta[i] - batch.target[i]
            loss += d * d
        }
        if let weight = gradientWeight {
            gradientCalls += 1
            if nonFiniteLossCalls.contains(gradientCalls) { loss = .nan }
            for i in theta.indices { gradient[i] += weight * 2 * (theta[i] - batch.target[i]) }
        }
        let preference = objective == .dpo
            ? PreferenceMetrics(chosenReward: -loss / 2, rejectedReward: -loss, rewardAccuracy: 1, margin: loss / 2) : nil
        return ObjectiveMetrics(loss: loss, tokens: batch.tokenCount, preference: preference)
    }

    func applyUpdate() throws -> UpdateOutcome {
        updateCalls += 1
        if nonFiniteGradientUpdates.contains(updateCalls) { gradient[0] = .infinity }
        defer { for i in gradient.indices { gradient[i] = 0 } }
        guard gradient.allSatisfy(\.isFinite) else { return .skippedNonFinite(detail: "∞ in θ[0]") }
        let norm = gradient.reduce(0) { $0 + $1 * $1 }.squareRoot()
        t += 1
        let c1 = 1 - pow(beta1, Double(t)), c2 = 1 - pow(beta2, Double(t))
        for i in theta.indices {
            m[i] = beta1 * m[i] + (1 - beta1) * gradient[i]
            v[i] = beta2 * v[i] + (1 - beta2) * gradient[i] * gradient[i]
            theta[i] -= learningRate * (m[i] / c1) / ((v[i] / c2).squareRoot() + epsilon)
        }
        updates += 1
        return .applied(gradientNorm: norm)
    }

    func discardGradients() {
        for i in gradient.indices { gradient[i] = 0 }
    }

    func evaluateHeldOut(_ objective: Objective) throws -> ObjectiveMetrics {
        if failHeldOut { throw StandInError(description: "held-out set unreadable") }
        let center = objective == .sft ? a : b
        let loss = zip(theta, center).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }
        return ObjectiveMetrics(loss: loss, tokens: 1000)
    }

    // State as raw bit patterns: exact, so resuming is bit-identical.
    func saveState(to directory: URL) throws {
        if failSave { throw StandInError(description: "No space left on device (simulated)") }
        let words = [UInt64(t)] + (theta + m + v).map(\.bitPattern)
        let data = words.withUnsafeBufferPointer { Data(buffer: $0) }
        try data.write(to: directory.appendingPathComponent("state.bin"))
    }

    func loadState(from directory: URL) throws {
        let data = try Data(contentsOf: directory.appendingPathComponent("state.bin"))
        let n = theta.count
        guard data.count == (1 + 3 * n) * 8 else { throw StandInError(description: "state.bin has the wrong size") }
        let words = data.withUnsafeBytes { Array($0.bindMemory(to: UInt64.self)) }
        t = Int(words[0])
        theta = words[1...n].map { Double(bitPattern: $0) }
        m = words[(n + 1)...(2 * n)].map { Double(bitPattern: $0) }
        v = words[(2 * n + 1)...(3 * n)].map { Double(bitPattern: $0) }
    }
}

/// A stand-in run: backend, sources and a session collecting its records.
final class StandInRun {
    let backend: QuadraticBackend
    let sft: QuadraticSource
    let dpo: QuadraticSource
    let session: TrainingSession
    private let lock = NSLock()
    private var collected: [RunRecord] = []

    init(_ config: TrainingConfig, sftBatches: Int = 50, dpoBatches: Int = 50, runDirectory: RunDirectory? = nil,
         resumeFrom: URL? = nil, backend: QuadraticBackend = QuadraticBackend(), withDPO: Bool = true, withSFT: Bool = true) throws {
        self.backend = backend
        sft = QuadraticSource(center: backend.a, count: sftBatches, seed: 11)
        dpo = QuadraticSource(center: backend.b, count: dpoBatches, seed: 22)
        session = try TrainingSession(config: config, backend: backend,
                                      sources: ObjectiveSources(sft: withSFT ? sft : nil, dpo: withDPO ? dpo : nil),
                                      runDirectory: runDirectory, resumeFrom: resumeFrom)
        session.subscribe { [unowned self] record in
            self.lock.lock()
            self.collected.append(record)
            self.lock.unlock()
        }
    }

    var records: [RunRecord] {
        lock.lock()
        defer { lock.unlock() }
        return collected
    }

    var events: [RunEvent] { records.map(\.event) }

    var steps: [StepEvent] {
        events.compactMap { if case .step(let s) = $0 { return s } else { return nil } }
    }

    var evals: [EvalEvent] {
        events.compactMap { if case .eval(let e) = $0 { return e } else { return nil } }
    }

    var warnings: [RunWarning] {
        events.compactMap { if case .warning(let w) = $0 { return w } else { return nil } }
    }

    var finished: RunFinished? {
        events.lazy.compactMap { if case .finished(let f) = $0 { return f } else { return nil } }.first
    }

    @discardableResult
    func run() throws -> RunFinished { try session.run() }
}

func lambda(_ value: Double) -> Lambda { try! Lambda(value) }
