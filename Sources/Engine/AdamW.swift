import Foundation

/// AdamW (Loshchilov & Hutter 2019) as in PyTorch: decoupled weight decay p ← p·(1 − lr·wd), then the Adam
/// step with bias correction. Operates on a ParameterSet's flat value and gradient buffers.
public struct AdamWConfig: Codable, Equatable, Sendable {
    public var beta1: Float = 0.9
    /// 0.95 as in the paper's official scripts.
    public var beta2: Float = 0.95
    public var eps: Float = 1e-8
    public var weightDecay: Float = 0

    public init(beta1: Float = 0.9, beta2: Float = 0.95, eps: Float = 1e-8, weightDecay: Float = 0) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weightDecay = weightDecay
    }
}

public final class AdamW: @unchecked Sendable {
    public let config: AdamWConfig
    /// First and second moment estimates, laid out like the parameters.
    public let m: FloatBuffer
    public let v: FloatBuffer
    /// Number of updates applied so far (bias correction uses it).
    public var stepCount: Int = 0

    public init(config: AdamWConfig, parameterCount: Int) {
        self.config = config
        m = FloatBuffer(count: parameterCount)
        v = FloatBuffer(count: parameterCount)
    }

    /// One update of `parameters` from their gradients at learning rate `lr`. Gradients are left as they are.
    public func step(_ parameters: ParameterSet, lr: Float) {
        guard let grads = parameters.gradients else { preconditionFailure("AdamW needs trainable parameters") }
        precondition(parameters.count == m.count, "optimizer state does not match the parameters")
        stepCount += 1
        let b1 = config.beta1, b2 = config.beta2, eps = config.eps
        let c1 = 1 - Float(Foundation.pow(Double(b1), Double(stepCount)))
        let c2 = 1 - Float(Foundation.pow(Double(b2), Double(stepCount)))
        let decay = 1 - lr * config.weightDecay
        let stepSize = lr / c1, rc2 = 1 / c2.squareRoot()
        let p = parameters.values.pointer, g = grads.pointer, mp = m.pointer, vp = v.pointer
        EngineThreads.parallelRanges(parameters.count, minimumPerThread: 65536) { s, e in
            for i in s..<e {
                let gi = g[i]
                let mi = b1 * mp[i] + (1 - b1) * gi
                let vi = b2 * vp[i] + (1 - b2) * gi * gi
                mp[i] = mi
                vp[i] = vi
                // p ← p·(1 − lr·wd) − lr · m̂ / (√v̂ + eps)
                p[i] = p[i] * decay - stepSize * mi / (vi.squareRoot() * rc2 + eps)
            }
        }
    }
}

/// Gradient utilities the trainer applies before an optimizer step.
public enum Gradients {
    /// Global L2 norm of all gradients (accumulated in Double). Non-finite when any gradient is.
    public static func globalNorm(_ parameters: ParameterSet) -> Double {
        guard let g = parameters.gradients else { return 0 }
        var partial = [Double](repeating: 0, count: EngineThreads.count)
        let chunk = (g.count + EngineThreads.count - 1) / EngineThreads.count
        partial.withUnsafeMutableBufferPointer { out in
            let o = out.baseAddress!
            EngineThreads.parallelRanges(g.count, minimumPerThread: 65536) { s, e in
                var sum: Double = 0
                var block: Float = 0
                for i in s..<e {
                    block += g.pointer[i] * g.pointer[i]
                    if i & 1023 == 1023 { sum += Double(block); block = 0 }
                }
                o[s / max(chunk, 1)] += sum + Double(block)
            }
        }
        return partial.reduce(0, +).squareRoot()
    }

    /// Scales gradients so their global norm is at most `maxNorm` (as torch.nn.utils.clip_grad_norm_).
    /// Returns the norm before clipping.
    @discardableResult
    public static func clip(_ parameters: ParameterSet, maxNorm: Double) -> Double {
        let norm = globalNorm(parameters)
        guard norm.isFinite, maxNorm > 0, norm > maxNorm, let g = parameters.gradients else { return norm }
        scale(g, by: Float(maxNorm / (norm + 1e-6)))
        return norm
    }

    public static func scale(_ buffer: FloatBuffer, by factor: Float) {
        let p = buffer.pointer
        EngineThreads.parallelRanges(buffer.count, minimumPerThread: 65536) { s, e in
            for i in s..<e { p[i] *= factor }
        }
    }
}

/// Learning rate by step: linear warm-up from 0, then constant or cosine decay to `minRatio`·base.
public struct LearningRateSchedule: Codable, Equatable, Sendable {
    public enum Decay: String, Codable, Sendable { case constant, cosine }
    public var base: Float
    public var warmupSteps: Int
    public var totalSteps: Int
    public var decay: Decay
    public var minRatio: Float

    public init(base: Float, warmupSteps: Int = 0, totalSteps: Int = 0, decay: Decay = .constant, minRatio: Float = 0.1) {
        self.base = base
        self.warmupSteps = warmupSteps
        self.totalSteps = totalSteps
        self.decay = decay
        self.minRatio = minRatio
    }

    /// The rate for update number `step` (1-based).
    public func rate(at step: Int) -> Float {
        if warmupSteps > 0 && step <= warmupSteps { return base * Float(step) / Float(warmupSteps) }
        guard decay == .cosine, totalSteps > warmupSteps else { return base }
        let progress = min(1, Double(step - warmupSteps) / Double(totalSteps - warmupSteps))
        let cosine = 0.5 * (1 + Foundation.cos(Double.pi * progress))
        return base * (minRatio + (1 - minRatio) * Float(cosine))
    }
}
