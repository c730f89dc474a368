/// The gated activation of Llama's MLP: out = silu(gate) ⊙ up, silu(g) = g · σ(g).
/// gate, up and out are [count] (rows × intermediate, flattened); gate and up are saved for the backward pass.
public enum SwiGLU {
    public static func forward(out: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>,
                               up: UnsafePointer<Float>, count: Int) {
        EngineThreads.parallelRanges(count, minimumPerThread: 16384) { s, e in
            for i in s..<e {
                let g = gate[i]
                out[i] = g / (1 + FastMath.exp(-g)) * up[i]
            }
        }
    }

    /// Writes (does not accumulate) dGate = dOut · up · σ(g)(1 + g(1 − σ(g))) and dUp = dOut · silu(g).
    /// dUp may be the dOut buffer itself (each element is read before it is overwritten).
    public static func backward(dGate: UnsafeMutablePointer<Float>, dUp: UnsafeMutablePointer<Float>,
                                dOut: UnsafeMutablePointer<Float>, gate: UnsafePointer<Float>, up: UnsafePointer<Float>,
                                count: Int) {
        EngineThreads.parallelRanges(count, minimumPerThread: 16384) { s, e in
            for i in s..<e {
                let g = gate[i], d = dOut[i], sig = 1 / (1 + FastMath.exp(-g))
                dGate[i] = d * up[i] * sig * (1 + g * (1 - sig))
                dUp[i] = d * g * sig
            }
        }
    }
}
