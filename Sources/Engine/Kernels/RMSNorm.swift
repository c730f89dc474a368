/// RMSNorm over the last dimension (Llama): y = x · rstd · weight, rstd = 1/√(mean(x²) + eps); no mean, no bias.
/// Shapes: input/out [rows, channels]; rstd [rows] is saved for the backward pass.
public enum RMSNorm {
    public static func forward(out: UnsafeMutablePointer<Float>, rstd: UnsafeMutablePointer<Float>,
                               input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                               rows: Int, channels: Int, eps: Float) {
        EngineThreads.parallelRanges(rows, minimumPerThread: 64) { r0, r1 in
            for r in r0..<r1 {
                let x = input + r * channels, y = out + r * channels
                var sq: Float = 0
                for c in 0..<channels { sq += x[c] * x[c] }
                let s = 1 / (sq / Float(channels) + eps).squareRoot()
                for c in 0..<channels { y[c] = x[c] * s * weight[c] }
                rstd[r] = s
            }
        }
    }

    /// Accumulates dInput and (when non-nil) dWeight.
    /// dx = rstd · (g − x̂ · mean(g · x̂)) with g = dOut · weight, x̂ = x · rstd.
    public static func backward(dInput: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>?,
                                dOut: UnsafePointer<Float>, input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rstd: UnsafePointer<Float>, rows: Int, channels: Int) {
        EngineThreads.parallelRanges(rows, minimumPerThread: 64) { r0, r1 in
            for r in r0..<r1 {
                let x = input + r * channels, dy = dOut + r * channels, dx = dInput + r * channels
                let s = rstd[r]
                var meanGX: Float = 0
                for c in 0..<channels { meanGX += dy[c] * weight[c] * x[c] * s }
                meanGX /= Float(channels)
                for c in 0..<channels { dx[c] += s * (dy[c] * weight[c] - x[c] * s * meanGX) }
            }
        }
        // The weight gradient reduces over rows: split by channel so threads never write the same element.
        if let dWeight {
            EngineThreads.parallelRanges(channels, minimumPerThread: 64) { c0, c1 in
                for r in 0..<rows {
                    let x = input + r * channels, dy = dOut + r * channels, s = rstd[r]
                    for c in c0..<c1 { dWeight[c] += dy[c] * x[c] * s }
                }
            }
        }
    }
}
