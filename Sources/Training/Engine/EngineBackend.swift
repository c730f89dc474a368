import Data
import Engine
import Foundation

/// The training backend on the Swift engine: a policy of any engine architecture (GPT-NeoX, Llama), or its LoRA
/// adapters, with AdamW, and a frozen reference for DPO whose log-probabilities are computed once per pair and
/// cached (docs/DESIGN.md §1).
public final class EngineBackend: TrainingBackend, PhaseReporting {
    public struct Settings: Codable, Equatable, Sendable {
        public var schedule: LearningRateSchedule
        public var optimizer: AdamWConfig
        /// Global gradient-norm clip (≤ 0: none).
        public var maxGradNorm: Double
        public var preference: PreferenceLoss
        /// Sequences per forward pass when evaluating held-out sets.
        public var evalBatchSize: Int
        /// Gradient accumulation: each training batch is computed in this many micro-batches (forward and
        /// backward one after the other, gradients summed), which gives the update of the whole batch at the
        /// memory of a micro-batch.
        public var microBatches: Int

        public init(schedule: LearningRateSchedule, optimizer: AdamWConfig = AdamWConfig(), maxGradNorm: Double = 1,
                    preference: PreferenceLoss = PreferenceLoss(), evalBatchSize: Int = 16, microBatches: Int = 1) {
            self.schedule = schedule
            self.optimizer = optimizer
            self.maxGradNorm = maxGradNorm
            self.preference = preference
            self.evalBatchSize = evalBatchSize
            self.microBatches = microBatches
        }
    }

    public let model: any CausalLanguageModel
    let reference: any CausalLanguageModel
    /// A fingerprint of the reference's weights: the cached log-probs are only valid for this reference.
    public let referenceIdentity: String
    let settings: Settings
    let optimizer: AdamW
    let heldOutSFT: [TokenizedExample]
    let heldOutPairs: [TokenizedPair]
    /// How checkpoints write the model for other tools (nil: they do not).
    public var modelExport: ModelExport?
    /// pair id → (log π_ref(chosen), log π_ref(rejected)). Training pairs have ids ≥ 0, held-out pairs < 0.
    private var referenceCache: [Int: (Double, Double)] = [:]
    /// Told when a forward, backward or reference pass begins (the session's in-step progress).
    public var phaseObserver: ((StepProgress.Phase, _ part: Int, _ parts: Int) -> Void)?
    /// The micro-batch of a training step in progress, or held-out evaluation's chunk: 1-based, and how many.
    private var chunk = (part: 1, parts: 1)

    /// `model` is the policy as training starts; the reference is `reference` (`--ref-model`), else a frozen
    /// copy of the policy (without adapters).
    public init(model: any CausalLanguageModel, settings: Settings, heldOutSFT: [TokenizedExample] = [],
                heldOutPairs: [TokenizedPair] = [], reference: (any CausalLanguageModel)? = nil) throws {
        try settings.preference.validate()
        guard settings.microBatches >= 1 else {
            throw TrainingConfigError.invalid(field: "microBatches", expected: "an integer ≥ 1", found: String(settings.microBatches))
        }
        self.model = model
        self.settings = settings
        self.reference = reference ?? model.baseCopy()
        referenceIdentity = RunSetup.fingerprint(self.reference)
        if model.adapters == nil { model.parameters.setTrainable(true) }
        optimizer = AdamW(config: settings.optimizer, parameterCount: model.trainableParameters.count)
        self.heldOutSFT = heldOutSFT
        self.heldOutPairs = heldOutPairs
    }

    public var learningRate: Double { Double(settings.schedule.rate(at: optimizer.stepCount + 1)) }

    public var microBatches: Int { settings.microBatches }

    public func evaluate(_ objective: Objective, batch: any TrainingBatch, gradientWeight: Double?) throws -> ObjectiveMetrics {
        defer { chunk = (1, 1) }
        switch batch {
        case let b as SFTTokenBatch where objective == .sft:
            return sft(b.examples, gradientWeight: gradientWeight)
        case let b as PreferenceTokenBatch where objective == .dpo:
            var totals = PairTotals()
            // Each micro-batch's gradient weighs its share of the pairs: their sum is the whole batch's mean.
            let ranges = Self.microBatchRanges(b.pairs.count, settings.microBatches)
            for (k, range) in ranges.enumerated() {
                chunk = (k + 1, ranges.count)
                totals.add(pairTerms(Array(b.pairs[range]), ids: Array(b.pairIDs[range]),
                                     gradientWeight: gradientWeight.map {
                                         range.count == b.pairs.count ? $0 : $0 * Double(range.count) / Double(b.pairs.count)
                                     }))
            }
            return totals.metrics
        default:
            throw TrainingConfigError.invalid(field: "batch", expected: "a \(objective) batch", found: "\(type(of: batch))")
        }
    }

    public func applyUpdate() throws -> UpdateOutcome {
        let trainable = model.trainableParameters
        defer { trainable.zeroGradients() }
        let norm = settings.maxGradNorm > 0 ? Gradients.clip(trainable, maxNorm: settings.maxGradNorm)
                                            : Gradients.globalNorm(trainable)
        guard norm.isFinite else { return .skippedNonFinite(detail: "gradient norm is \(norm)") }
        optimizer.step(trainable, lr: settings.schedule.rate(at: optimizer.stepCount + 1))
        return .applied(gradientNorm: norm)
    }

    public func discardGradients() { model.trainableParameters.zeroGradients() }

    public func evaluateHeldOut(_ objective: Objective) throws -> ObjectiveMetrics {
        let size = max(1, settings.evalBatchSize)
        switch objective {
        case .sft:
            guard !heldOutSFT.isEmpty else { throw SessionSetupError.noHeldOut(objective) }
            var lossSum = 0.0, tokens = 0, scored = 0
            defer { self.chunk = (1, 1) }
            for start in stride(from: 0, to: heldOutSFT.count, by: size) {
                self.chunk = (start / size + 1, (heldOutSFT.count + size - 1) / size)
                let chunk = Array(heldOutSFT[start..<min(heldOutSFT.count, start + size)])
                let (sum, count, batch) = sftLogProbSum(chunk)
                lossSum -= sum; scored += count; tokens += batch.tokenCount
            }
            return ObjectiveMetrics(loss: lossSum / Double(max(1, scored)), tokens: tokens)
        case .dpo:
            guard !heldOutPairs.isEmpty else { throw SessionSetupError.noHeldOut(objective) }
            var totals = PairTotals()
            defer { self.chunk = (1, 1) }
            let pairsPerChunk = max(1, size / 2)
            for start in stride(from: 0, to: heldOutPairs.count, by: pairsPerChunk) {
                self.chunk = (start / pairsPerChunk + 1, (heldOutPairs.count + pairsPerChunk - 1) / pairsPerChunk)
                let end = min(heldOutPairs.count, start + max(1, size / 2))
                totals.add(pairTerms(Array(heldOutPairs[start..<end]), ids: (start..<end).map { -1 - $0 }, gradientWeight: nil))
            }
            return totals.metrics
        }
    }

    // MARK: SFT

    /// Σ log p over scored tokens, their count, and all tokens, for a batch of examples (no gradient).
    /// Forward pass over the examples: Σ log p over scored tokens (response and eos) and how many there are.
    /// Leaves what `backward` needs in the model.
    private func sftLogProbSum(_ examples: [TokenizedExample]) -> (sum: Double, count: Int, batch: TokenBatch) {
        let batch = SFTTokenBatch(examples: examples).tokenBatch
        phaseObserver?(.forward, chunk.part, chunk.parts)
        let lp = model.forward(batch)
        var sum = 0.0, count = 0
        for (v, t) in zip(lp, batch.targets) where t >= 0 { sum += Double(v); count += 1 }
        return (sum, count, batch)
    }

    /// The loss is the mean over the batch's scored tokens; with micro-batches, each one's gradient is scaled by
    /// the whole batch's token count, so the accumulated gradient is the whole batch's.
    private func sft(_ examples: [TokenizedExample], gradientWeight: Double?) -> ObjectiveMetrics {
        let parts = Self.microBatchRanges(examples.count, settings.microBatches).map { Array(examples[$0]) }
        let scored = parts.map { SFTTokenBatch(examples: $0).tokenBatch.targets.reduce(0) { $0 + ($1 >= 0 ? 1 : 0) } }
        let total = scored.reduce(0, +)
        var sum = 0.0, tokens = 0
        for (k, (part, count)) in zip(parts, scored).enumerated() {
            chunk = (k + 1, parts.count)
            let (partSum, _, batch) = sftLogProbSum(part)
            sum += partSum
            tokens += batch.tokenCount
            if let w = gradientWeight, count > 0 {
                let g = Float(-w / Double(total))
                phaseObserver?(.backward, chunk.part, chunk.parts)
                model.backward(dLogProbs: batch.targets.map { $0 >= 0 ? g : 0 })
            }
        }
        return ObjectiveMetrics(loss: -sum / Double(max(1, total)), tokens: tokens)
    }

    /// `count` items in `parts` contiguous slices, as even as they can be (fewer when there are fewer items).
    static func microBatchRanges(_ count: Int, _ parts: Int) -> [Range<Int>] {
        let n = max(1, min(parts, count))
        return (0..<n).map { k in (k * count / n)..<((k + 1) * count / n) }
    }

    // MARK: DPO

    struct PairTerm { var loss, chosenReward, rejectedReward: Double; var tokens: Int }

    /// Per-pair losses and rewards; with a gradient weight, accumulates w · ∇(mean loss over these pairs).
    private func pairTerms(_ pairs: [TokenizedPair], ids: [Int], gradientWeight: Double?) -> [PairTerm] {
        let batch = PreferenceTokenBatch(pairs: pairs, pairIDs: ids).tokenBatch
        let refs = referenceLogProbs(pairs, ids: ids)
        phaseObserver?(.forward, chunk.part, chunk.parts)
        let lp = model.forward(batch)
        let sums = sequenceSums(lp, batch)
        let beta = settings.preference.beta
        var terms = [PairTerm](), dSeq = [Double](repeating: 0, count: sums.count)
        for i in 0..<pairs.count {
            let (pc, pr) = (sums[2 * i], sums[2 * i + 1])
            let (rc, rr) = refs[i]
            let (loss, dz) = settings.preference.loss(policyChosen: pc, policyRejected: pr, referenceChosen: rc, referenceRejected: rr)
            terms.append(PairTerm(loss: loss, chosenReward: beta * (pc - rc), rejectedReward: beta * (pr - rr),
                                  tokens: pairs[i].chosen.ids.count + pairs[i].rejected.ids.count))
            dSeq[2 * i] = dz
            dSeq[2 * i + 1] = -dz
        }
        if let w = gradientWeight {
            let scale = w / Double(pairs.count)
            var dLogProbs = [Float](repeating: 0, count: batch.tokenCount)
            forEachScoredToken(batch) { token, sequence in dLogProbs[token] = Float(scale * dSeq[sequence]) }
            phaseObserver?(.backward, chunk.part, chunk.parts)
            model.backward(dLogProbs: dLogProbs)
        }
        return terms
    }

    private func referenceLogProbs(_ pairs: [TokenizedPair], ids: [Int]) -> [(Double, Double)] {
        let missing = (0..<pairs.count).filter { referenceCache[ids[$0]] == nil }
        if !missing.isEmpty {
            phaseObserver?(.reference, chunk.part, chunk.parts)
            let batch = PreferenceTokenBatch(pairs: missing.map { pairs[$0] }, pairIDs: missing.map { ids[$0] }).tokenBatch
            let sums = sequenceSums(reference.forward(batch), batch)
            for (k, i) in missing.enumerated() { referenceCache[ids[i]] = (sums[2 * k], sums[2 * k + 1]) }
        }
        return ids.map { referenceCache[$0]! }
    }

    /// log π(y|x) per sequence: the sum of its scored tokens' log-probs.
    private func sequenceSums(_ logProbs: [Float], _ batch: TokenBatch) -> [Double] {
        var sums = [Double](repeating: 0, count: batch.sequences.count)
        forEachScoredToken(batch) { token, sequence in sums[sequence] += Double(logProbs[token]) }
        return sums
    }

    private func forEachScoredToken(_ batch: TokenBatch, _ body: (Int, Int) -> Void) {
        for (b, start) in batch.sequences.starts.enumerated() {
            for t in start..<(start + batch.sequences.lengths[b]) where batch.targets[t] >= 0 { body(t, b) }
        }
    }

    // MARK: State

    public func saveState(to directory: URL) throws {
        let trainable = model.trainableParameters
        try ModelDirectory.write(trainable, to: directory.appendingPathComponent("trainable.safetensors"), metadata: [:])
        try SafeTensorsWriter.write([("m", [optimizer.m.count], UnsafeBufferPointer(optimizer.m.buffer)),
                                     ("v", [optimizer.v.count], UnsafeBufferPointer(optimizer.v.buffer))],
                                    metadata: ["step": String(optimizer.stepCount)],
                                    to: directory.appendingPathComponent("optimizer.safetensors"))
        // Cached reference log-probs travel with the checkpoint: recomputing them in a differently packed batch
        // could differ in the last bit, and resume must be exact.
        let ids = referenceCache.keys.sorted()
        let values = ids.flatMap { [referenceCache[$0]!.0, referenceCache[$0]!.1] }
        let cache = try JSONSerialization.data(withJSONObject: ["ids": ids, "bits": values.map { String($0.bitPattern) },
                                                               "reference": referenceIdentity])
        try cache.write(to: directory.appendingPathComponent("reference_logps.json"), options: .atomic)
    }

    public func loadState(from directory: URL) throws {
        let trainable = model.trainableParameters
        let weights = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("trainable.safetensors"))
        for e in trainable.entries {
            try weights.read(e.name, expectedShape: e.shape,
                             into: UnsafeMutableBufferPointer(start: trainable.values.pointer + e.offset, count: e.count))
        }
        let opt = try SafeTensorsFile(contentsOf: directory.appendingPathComponent("optimizer.safetensors"))
        try opt.read("m", expectedShape: [optimizer.m.count], into: optimizer.m.buffer)
        try opt.read("v", expectedShape: [optimizer.v.count], into: optimizer.v.buffer)
        guard let step = opt.metadata["step"].flatMap(Int.init) else {
            throw SessionSetupError.badCheckpoint(file: opt.url.path, message: "metadata 'step' missing")
        }
        optimizer.stepCount = step
        let cacheURL = directory.appendingPathComponent("reference_logps.json")
        guard let json = (try? JSONSerialization.jsonObject(with: Data(contentsOf: cacheURL))) as? [String: Any],
              let ids = json["ids"] as? [Int], let bits = json["bits"] as? [String], bits.count == 2 * ids.count else {
            throw SessionSetupError.badCheckpoint(file: cacheURL.path, message: "missing or malformed reference cache")
        }
        // Checkpoints from before the reference was recorded hold the policy's starting weights' log-probs.
        if let recorded = json["reference"] as? String, recorded != referenceIdentity {
            throw SessionSetupError.badCheckpoint(file: cacheURL.path, message: "the cached reference log-probs were "
                + "computed with reference model \(recorded), but this run's reference is \(referenceIdentity) "
                + "(--ref-model must be the one the run started with)")
        }
        referenceCache = [:]
        for (k, id) in ids.enumerated() {
            guard let a = UInt64(bits[2 * k]), let b = UInt64(bits[2 * k + 1]) else {
                throw SessionSetupError.badCheckpoint(file: cacheURL.path, message: "bad value at entry \(k)")
            }
            referenceCache[id] = (Double(bitPattern: a), Double(bitPattern: b))
        }
    }
}

extension EngineBackend: CheckpointModelWriter {
    public func writeCheckpointModel(to directory: URL) throws {
        try modelExport?.writeCheckpointModel(model, to: directory)
    }
}

/// Sums of per-pair terms, turned into batch means.
struct PairTotals {
    var loss = 0.0, chosen = 0.0, rejected = 0.0, correct = 0, count = 0, tokens = 0

    mutating func add(_ terms: [EngineBackend.PairTerm]) {
        for t in terms {
            loss += t.loss; chosen += t.chosenReward; rejected += t.rejectedReward
            correct += t.chosenReward > t.rejectedReward ? 1 : 0
            count += 1; tokens += t.tokens
        }
    }

    var metrics: ObjectiveMetrics {
        let n = Double(max(1, count))
        return ObjectiveMetrics(loss: loss / n, tokens: tokens,
                                preference: PreferenceMetrics(chosenReward: chosen / n, rejectedReward: rejected / n,
                                                              rewardAccuracy: Double(correct) / n,
                                                              margin: (chosen - rejected) / n))
    }
}

public enum SessionSetupError: Error, CustomStringConvertible, Equatable {
    case noHeldOut(Objective)
    case badCheckpoint(file: String, message: String)
    case invalid(what: String, message: String)

    public var description: String {
        switch self {
        case .noHeldOut(let o): return "no held-out \(o) data to evaluate (set --eval-fraction above 0)"
        case let .badCheckpoint(file, message): return "\(file): \(message)"
        case let .invalid(what, message): return "\(what): \(message)"
        }
    }
}
