/// LayerNorm over the last dimension: y = (x − mean) · rstd · weight + bias, rstd = 1/√(var + eps) (biased var).
/// Shapes: input/out [rows, channels]; mean/rstd [rows] are saved for the backward pass.
public enum LayerNorm {
    public static func forward(out: UnsafeMutablePointer<Float>, mean: UnsafeMutablePointer<Float>,
                               rstd: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                               rows: Int, channels: Int, eps: Float) {
        EngineThreads.parallelRanges(rows, minimumPerThread: 64) { r0, r1 in
            for r in r0..<r1 {
                let x = input + r * channels
                var sum: Float = 0
                for c in 0..<channels { sum += x[c] }
                let m = sum / Float(channels)
                var sq: Float = 0
                for c in 0..<channels { let d = x[c] - m; sq += d * d }
                let s = 1 / (sq / Float(channels) + eps).squareRoot()
                let y = out + r * channels
                for c in 0..<channels { y[c] = (x[c] - m) * s * weight[c] + bias[c] }
                mean[r] = m
                rstd[r] = s
            }
        }
    }

    /// Accumulates dInput, and (when non-nil) dWeight and dBias.
    /// dx = rstd · (g − mean(g) − x̂ · mean(g · x̂)) with g = dOut · weight, x̂ the normalised input.
    public static func backward(dInput: UnsafeMutablePointer<Float>, dWeight: UnsafeMutablePointer<Float>?,
                                dBias: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                mean: UnsafePointer<Float>, rstd: UnsafePointer<Float>, rows: Int, channels: Int) {
        EngineThreads.parallelRanges(rows, minimumPerThread: 64) { r0, r1 in
            for r in r0..<r1 {
                let x = input + r * channels, dy = dOut + r * channels, dx = dInput + r * channels
                let m = mean[r], s = rstd[r]
                var meanG: Float = 0, meanGX: Float = 0
                for c in 0..<channels {
                    let xhat = (x[c] - m) * s
                    let g = dy[c] * weight[c]
                    meanG += g
                    meanGX += g * xhat
                }
                meanG /= Float(channels)
                meanGX /= Float(channels)
                for c in 0..<channels {
                    let xhat = (x[c] - m) * s
                    dx[c] += s * (dy[c] * weight[c] - meanG - xhat * meanGX)
                }
            }
        }
        // Parameter gradients reduce over rows: split by channel so threads never write the same element.
        if dWeight != nil || dBias != nil {
            EngineThreads.parallelRanges(channels, minimumPerThread: 64) { c0, c1 in
                for r in 0..<rows {
                    let x = input + r * channels, dy = dOut + r * channels
                    let m = mean[r], s = rstd[r]
                    if let dWeight { for c in c0..<c1 { dWeight[c] += dy[c] * (x[c] - m) * s } }
                    if let dBias { for c in c0..<c1 { dBias[c] += dy[c] } }
                }
            }
        }
    }
}
