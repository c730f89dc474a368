import Foundation

/// Llama 3's frequency-dependent rescaling of the rotary frequencies (`rope_scaling.rope_type = "llama3"`):
/// long wavelengths are divided by `factor`, short ones kept, the band between interpolated smoothly.
public struct Llama3RopeScaling: Equatable, Sendable {
    public var factor: Double
    public var lowFreqFactor: Double
    public var highFreqFactor: Double
    public var originalMaxPositions: Int

    public init(factor: Double, lowFreqFactor: Double, highFreqFactor: Double, originalMaxPositions: Int) {
        self.factor = factor
        self.lowFreqFactor = lowFreqFactor
        self.highFreqFactor = highFreqFactor
        self.originalMaxPositions = originalMaxPositions
    }

    /// transformers' `_compute_llama3_parameters`, applied to one inverse frequency.
    func scale(_ invFreq: Double) -> Double {
        let old = Double(originalMaxPositions)
        let lowWavelen = old / lowFreqFactor, highWavelen = old / highFreqFactor
        let wavelen = 2 * Double.pi / invFreq
        if wavelen < highWavelen { return invFreq }
        if wavelen > lowWavelen { return invFreq / factor }
        let smooth = (old / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor)
        return (1 - smooth) * invFreq / factor + smooth * invFreq
    }
}

/// Rotary position embedding on the leading `rotaryDims` of each head's q and k (rotate-half form, as GPT-NeoX
/// and Hugging Face Llama write it): with h = rotaryDims/2 and θ_i = pos · base^(−2i/rotaryDims), pairs
/// (x_i, x_{i+h}) rotate by θ_i.
public struct RotaryTable: Sendable {
    public let rotaryDims: Int
    public let maxPositions: Int
    /// [maxPositions, rotaryDims/2]
    let cos: [Float]
    let sin: [Float]
    private let headSize: Int, rotaryPct: Double, base: Double, llama3: Llama3RopeScaling?

    public init(headSize: Int, rotaryPct: Double, base: Double, maxPositions: Int, llama3: Llama3RopeScaling? = nil) {
        self.headSize = headSize
        self.rotaryPct = rotaryPct
        self.base = base
        self.llama3 = llama3
        // HF: rotary_ndims = int(head_size * rotary_pct); frequencies use the even indices up to it.
        var dims = Int(Double(headSize) * rotaryPct)
        dims -= dims % 2
        rotaryDims = dims
        self.maxPositions = maxPositions
        let half = dims / 2
        var c = [Float](repeating: 1, count: maxPositions * max(half, 1))
        var s = [Float](repeating: 0, count: maxPositions * max(half, 1))
        if half > 0 {
            for i in 0..<half {
                // inv_freq is computed in float32 by the reference; keep that rounding.
                var invFreq = Double(Float(1.0 / Foundation.pow(base, Double(2 * i) / Double(dims))))
                if let llama3 { invFreq = Double(Float(llama3.scale(invFreq))) }
                for p in 0..<maxPositions {
                    let angle = Double(p) * invFreq
                    c[p * half + i] = Float(Foundation.cos(angle))
                    s[p * half + i] = Float(Foundation.sin(angle))
                }
            }
        }
        cos = c
        sin = s
    }
}

public enum Rotary {
    /// GPT-NeoX: rotates q and k of every head in place. qkv [tokens, heads·3·headSize]; positions [tokens].
    public static func forward(qkv: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, tokens: Int,
                               heads: Int, headSize: Int, table: RotaryTable) {
        let (q, k, _) = HeadView.fusedQKV(qkv, heads: heads, headSize: headSize)
        apply(q, heads, positions, tokens, table, inverse: false)
        apply(k, heads, positions, tokens, table, inverse: false)
    }

    /// Back-propagates through the rotation in place: gradients of the rotated q, k become gradients of the
    /// unrotated ones (the rotation is orthogonal, so this is the rotation by −θ).
    public static func backward(dqkv: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, tokens: Int,
                                heads: Int, headSize: Int, table: RotaryTable) {
        let (q, k, _) = HeadView.fusedQKV(dqkv, heads: heads, headSize: headSize)
        apply(q, heads, positions, tokens, table, inverse: true)
        apply(k, heads, positions, tokens, table, inverse: true)
    }

    /// Rotates every head of `x` (q or k) in place, or by −θ with `inverse` (the backward pass).
    public static func apply(_ x: HeadView, _ heads: Int, _ positions: UnsafePointer<Int32>, _ tokens: Int,
                             _ table: RotaryTable, inverse: Bool) {
        let half = table.rotaryDims / 2
        guard half > 0 else { return }
        table.cos.withUnsafeBufferPointer { cosTable in
            table.sin.withUnsafeBufferPointer { sinTable in
                let cosBase = cosTable.baseAddress!, sinBase = sinTable.baseAddress!
                EngineThreads.parallelRanges(tokens, minimumPerThread: 64) { t0, t1 in
                    for t in t0..<t1 {
                        let pos = Int(positions[t])
                        let c = cosBase + pos * half, s = sinBase + pos * half
                        for h in 0..<heads {
                            let v = x.at(t, h)
                            for i in 0..<half {
                                let a = v[i], b = v[i + half]
                                let sn = inverse ? -s[i] : s[i]
                                v[i] = a * c[i] - b * sn
                                v[i + half] = b * c[i] + a * sn
                            }
                        }
                    }
                }
            }
        }
    }
}

extension RotaryTable {
    /// Positions a model builds its table for up front; longer sequences grow it (`covering`), so a config's
    /// max_position_embeddings (up to millions) costs nothing until a sequence needs it.
    static let initialPositions = 4096

    /// This table, or a bigger one when `positions` exceed it (doubling, at most `limit`).
    func covering(_ positions: Int, limit: Int) -> RotaryTable {
        if positions <= maxPositions { return self }
        return RotaryTable(headSize: headSize, rotaryPct: rotaryPct, base: base,
                           maxPositions: min(limit, max(positions, 2 * maxPositions)), llama3: llama3)
    }

    /// sin(θ_index) at `position` (tests and diagnostics).
    public func sinValue(position: Int, index: Int) -> Float { sin[position * (rotaryDims / 2) + index] }
}
