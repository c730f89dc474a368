import CBLAS

/// Fully connected layer in PyTorch's convention: weight is [outFeatures, inFeatures].
/// Shapes: input [rows, inFeatures], output [rows, outFeatures].
public enum Linear {
    /// out = input · weightᵀ + bias, or with `accumulate` out += input · weightᵀ + bias (residual adds).
    public static func forward(out: UnsafeMutablePointer<Float>, input: UnsafePointer<Float>,
                               weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               rows: Int, inFeatures: Int, outFeatures: Int, accumulate: Bool = false) {
        if let bias {
            EngineThreads.parallelRanges(rows, minimumPerThread: 256) { r0, r1 in
                for r in r0..<r1 {
                    let o = out + r * outFeatures
                    if accumulate {
                        for c in 0..<outFeatures { o[c] += bias[c] }
                    } else {
                        o.update(from: bias, count: outFeatures)
                    }
                }
            }
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, Int32(rows), Int32(outFeatures), Int32(inFeatures),
                    1, input, Int32(inFeatures), weight, Int32(inFeatures), (bias == nil && !accumulate) ? 0 : 1,
                    out, Int32(outFeatures))
    }

    /// Accumulates gradients: dInput += dOut · weight, dWeight += dOutᵀ · input, dBias += Σ_rows dOut.
    /// Any of the three may be nil when not needed (a frozen weight, the first layer's input).
    public static func backward(dInput: UnsafeMutablePointer<Float>?, dWeight: UnsafeMutablePointer<Float>?,
                                dBias: UnsafeMutablePointer<Float>?, dOut: UnsafePointer<Float>,
                                input: UnsafePointer<Float>, weight: UnsafePointer<Float>,
                                rows: Int, inFeatures: Int, outFeatures: Int) {
        if let dInput {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(rows), Int32(inFeatures), Int32(outFeatures),
                        1, dOut, Int32(outFeatures), weight, Int32(inFeatures), 1, dInput, Int32(inFeatures))
        }
        if let dWeight {
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(outFeatures), Int32(inFeatures), Int32(rows),
                        1, dOut, Int32(outFeatures), input, Int32(inFeatures), 1, dWeight, Int32(inFeatures))
        }
        if let dBias {
            columnSums(into: dBias, dOut, rows: rows, columns: outFeatures)
        }
    }

    /// into[c] += Σ_r matrix[r, c]
    public static func columnSums(into: UnsafeMutablePointer<Float>, _ matrix: UnsafePointer<Float>, rows: Int, columns: Int) {
        EngineThreads.parallelRanges(columns, minimumPerThread: 128) { c0, c1 in
            for r in 0..<rows {
                let row = matrix + r * columns
                for c in c0..<c1 { into[c] += row[c] }
            }
        }
    }
}
