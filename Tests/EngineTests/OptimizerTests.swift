import XCTest
import Engine

final class OptimizerTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    /// One AdamW step against the formula written out by hand (PyTorch semantics).
    func test_adamW_matchesTheReferenceFormula() {
        let p = ParameterSet([("w", [3])])
        p.set("w", [1, -2, 0.5])
        p.setTrainable(true)
        let grads: [[Float]] = [[0.1, -0.3, 2], [0.2, 0.1, -1]]
        let cfg = AdamWConfig(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1)
        let opt = AdamW(config: cfg, parameterCount: p.count)
        var ref: [Double] = [1, -2, 0.5], m = [Double](repeating: 0, count: 3), v = m
        let lr = 0.01
        for (t, g) in grads.enumerated() {
            p.zeroGradients()
            g.enumerated().forEach { p.gradient("w")![$0.offset] = $0.element }
            opt.step(p, lr: Float(lr))
            for i in 0..<3 {
                let gi = Double(g[i])
                m[i] = 0.9 * m[i] + 0.1 * gi
                v[i] = 0.95 * v[i] + 0.05 * gi * gi
                let mh = m[i] / (1 - pow(0.9, Double(t + 1))), vh = v[i] / (1 - pow(0.95, Double(t + 1)))
                ref[i] = ref[i] * (1 - lr * 0.1) - lr * mh / (vh.squareRoot() + 1e-8)
            }
        }
        for (a, b) in zip(p.array("w"), ref) { XCTAssertEqual(Double(a), b, accuracy: 1e-6) }
    }

    func test_clip_scalesToMaxNormAndReportsTheNormBefore() {
        let p = ParameterSet([("a", [2]), ("b", [1])])
        p.setTrainable(true)
        p.gradient("a")![0] = 3; p.gradient("a")![1] = 0; p.gradient("b")![0] = 4
        XCTAssertEqual(Gradients.clip(p, maxNorm: 1), 5, accuracy: 1e-9)
        XCTAssertEqual(Gradients.globalNorm(p), 1, accuracy: 1e-5)
        XCTAssertEqual(p.gradient("b")![0], 0.8, accuracy: 1e-5)
    }

    func test_globalNorm_isNonFiniteWhenAnyGradientIs() {
        let p = ParameterSet([("a", [100_000])])
        p.setTrainable(true)
        p.gradient("a")![77_777] = .nan
        XCTAssertFalse(Gradients.globalNorm(p).isFinite)
    }

    func test_schedule_warmsUpLinearlyThenDecaysByCosine() {
        let s = LearningRateSchedule(base: 1, warmupSteps: 10, totalSteps: 110, decay: .cosine, minRatio: 0.1)
        XCTAssertEqual(s.rate(at: 5), 0.5, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 10), 1, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 60), 0.55, accuracy: 1e-6)
        XCTAssertEqual(s.rate(at: 110), 0.1, accuracy: 1e-6)
        XCTAssertEqual(LearningRateSchedule(base: 0.3).rate(at: 1000), 0.3)
    }

    /// Gradient accumulation: two half-batches accumulated give the gradient of the whole batch.
    func test_gradientAccumulation_equalsTheFullBatchGradient() {
        let model = GPTNeoX(config: ModelPreset.tiny.config(vocabSize: 40))
        model.initializeRandomly(seed: 1)
        model.parameters.setTrainable(true)
        let seqs = [[1, 2, 3, 4], [5, 6, 7], [8, 9, 10, 11, 12], [13, 14]]
        func grads(_ groups: [[[Int]]]) -> [Float] {
            model.parameters.zeroGradients()
            let total = Float(seqs.reduce(0) { $0 + $1.count - 1 })
            for g in groups {
                let batch = TokenBatch(sequences: g)
                model.forward(batch)
                model.backward(dLogProbs: batch.targets.map { $0 >= 0 ? -1 / total : 0 })
            }
            return model.parameters.gradients!.array
        }
        let whole = grads([seqs]), parts = grads([Array(seqs[0..<2]), Array(seqs[2...])])
        let scale = whole.map(abs).max()!
        XCTAssertLessThan(zip(whole, parts).map { abs($0 - $1) }.max()! / scale, 1e-5)
    }
}
