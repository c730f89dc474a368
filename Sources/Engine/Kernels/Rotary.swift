import Foundation

/// Rotary position embedding on the leading `rotaryDims` of each head's q and k (GPT-NeoX, rotate-half form):
/// with h = rotaryDims/2 and θ_i = pos · base^(−2i/rotaryDims), pairs (x_i, x_{i+h}) rotate by θ_i.
/// The fused qkv row of a token is laid out per head as [q | k | v], each headSize wide (DESIGN §3).
public struct RotaryTable: Sendable {
    public let rotaryDims: Int
    public let maxPositions: Int
    /// [maxPositions, rotaryDims/2]
    let cos: [Float]
    let sin: [Float]

    public init(headSize: Int, rotaryPct: Double, base: Double, maxPositions: Int) {
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
                let invFreq = Double(Float(1.0 / Foundation.pow(base, Double(2 * i) / Double(dims))))
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
    /// Rotates q and k of every head in place. qkv [tokens, heads·3·headSize]; positions [tokens].
    public static func forward(qkv: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, tokens: Int,
                               heads: Int, headSize: Int, table: RotaryTable) {
        apply(qkv, positions, tokens, heads, headSize, table, inverse: false)
    }

    /// Back-propagates through the rotation in place: gradients of the rotated q, k become gradients of the
    /// unrotated ones (the rotation is orthogonal, so this is the rotation by −θ).
    public static func backward(dqkv: UnsafeMutablePointer<Float>, positions: UnsafePointer<Int32>, tokens: Int,
                                heads: Int, headSize: Int, table: RotaryTable) {
        apply(dqkv, positions, tokens, heads, headSize, table, inverse: true)
    }

    private static func apply(_ qkv: UnsafeMutablePointer<Float>, _ positions: UnsafePointer<Int32>, _ tokens: Int,
                              _ heads: Int, _ headSize: Int, _ table: RotaryTable, inverse: Bool) {
        let half = table.rotaryDims / 2
        guard half > 0 else { return }
        let rowWidth = heads * 3 * headSize
        table.cos.withUnsafeBufferPointer { cosTable in
            table.sin.withUnsafeBufferPointer { sinTable in
                let cosBase = cosTable.baseAddress!, sinBase = sinTable.baseAddress!
                EngineThreads.parallelRanges(tokens, minimumPerThread: 64) { t0, t1 in
                    for t in t0..<t1 {
                        let pos = Int(positions[t])
                        let c = cosBase + pos * half, s = sinBase + pos * half
                        for h in 0..<heads {
                            for part in 0..<2 { // q, then k
                                let x = qkv + t * rowWidth + h * 3 * headSize + part * headSize
                                for i in 0..<half {
                                    let a = x[i], b = x[i + half]
                                    let sn = inverse ? -s[i] : s[i]
                                    x[i] = a * c[i] - b * sn
                                    x[i + half] = b * c[i] + a * sn
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
