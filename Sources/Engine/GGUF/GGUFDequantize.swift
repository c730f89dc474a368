import GGUF

/// Converts GGUF tensor data to Float, one function per type; each states its block layout once (docs/GGUF.md,
/// "Tensor types"). The arithmetic follows the `gguf` Python package's dequantization operation for operation
/// (scale × quant, then − min), so results agree bit for bit. Blocks are independent, so large tensors are
/// split across `EngineThreads`.
public enum GGUFDequantize {
    /// Dequantizes `source` (the tensor's bytes, `destination.count` elements of `type`) into `destination`.
    /// The caller has checked that the sizes agree (`GGUFFile` does for every tensor).
    public static func convert(_ type: GGMLType, _ source: UnsafeRawBufferPointer,
                               into destination: UnsafeMutableBufferPointer<Float>) throws {
        let layout = type.layout
        let blocks = destination.count / layout.blockSize
        guard destination.count % layout.blockSize == 0, source.count == blocks * layout.blockBytes else {
            throw GGUFError(file: "(tensor data)", message: "\(type.name): \(source.count) bytes cannot hold "
                + "exactly \(destination.count) elements")
        }
        guard let from = source.baseAddress, let to = destination.baseAddress else { return }
        let kernel: (UnsafeRawPointer, UnsafeMutablePointer<Float>, Int) -> Void
        switch type {
        case .f32: kernel = f32
        case .f16: kernel = f16
        case .bf16: kernel = bf16
        case .q8_0: kernel = q8_0
        case .q4_0: kernel = q4_0
        case .q4_1: kernel = q4_1
        case .q4_K: kernel = q4_K
        case .q5_K: kernel = q5_K
        case .q6_K: kernel = q6_K
        default:
            throw GGUFError(file: "(tensor data)", message: "tensor type \(type.name) cannot be converted to "
                + "Float (supported: \(GGMLType.dequantizable.map(\.name).joined(separator: ", ")))")
        }
        // ~64k elements per task: enough work to amortise a thread hop.
        let blocksPerTask = max(1, 65_536 / layout.blockSize)
        EngineThreads.parallelRanges(blocks, minimumPerThread: blocksPerTask) { first, end in
            kernel(from + first * layout.blockBytes, to + first * layout.blockSize, end - first)
        }
    }

    @inline(__always)
    private static func half(_ p: UnsafeRawPointer, _ offset: Int) -> Float {
        HalfFloat.float(fromF16Bits: UInt16(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt16.self)))
    }

    /// F32: 4 bytes per element.
    private static func f32(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        UnsafeMutableRawPointer(out).copyMemory(from: p, byteCount: n * 4)
    }

    /// F16: IEEE binary16, 2 bytes per element.
    private static func f16(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        HalfFloat.convertF16(p, into: UnsafeMutableBufferPointer(start: out, count: n))
    }

    /// BF16: the upper half of a binary32, 2 bytes per element.
    private static func bf16(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ n: Int) {
        HalfFloat.convertBF16(p, into: UnsafeMutableBufferPointer(start: out, count: n))
    }

    /// Q8_0, 34 bytes per 32 elements: f16 scale d, then 32 int8 q; x = q · d.
    private static func q8_0(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = p + b * 34
            let d = half(block, 0)
            let q = (block + 2).assumingMemoryBound(to: Int8.self)
            let y = out + b * 32
            for i in 0..<32 { y[i] = Float(q[i]) * d }
        }
    }

    /// Q4_0, 18 bytes per 32 elements: f16 d, then 16 bytes; element i < 16 is the low nibble of byte i, element
    /// 16 + i its high nibble; x = (nibble − 8) · d.
    private static func q4_0(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = p + b * 18
            let d = half(block, 0)
            let q = (block + 2).assumingMemoryBound(to: UInt8.self)
            let y = out + b * 32
            for i in 0..<16 {
                y[i] = d * Float(Int32(q[i] & 0x0F) - 8)
                y[i + 16] = d * Float(Int32(q[i] >> 4) - 8)
            }
        }
    }

    /// Q4_1, 20 bytes per 32 elements: f16 d, f16 m, then 16 bytes of nibbles as in Q4_0; x = nibble · d + m.
    private static func q4_1(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = p + b * 20
            let d = half(block, 0)
            let m = half(block, 2)
            let q = (block + 4).assumingMemoryBound(to: UInt8.self)
            let y = out + b * 32
            for i in 0..<16 {
                y[i] = d * Float(q[i] & 0x0F) + m
                y[i + 16] = d * Float(q[i] >> 4) + m
            }
        }
    }

    /// The eight 6-bit scales and mins of a Q4_K / Q5_K super-block, packed in 12 bytes s[0..<12]: for j < 4,
    /// scale j = s[j] & 63 and min j = s[j + 4] & 63; scale 4 + j = (s[j + 8] & 15) | (s[j] >> 6) << 4 and
    /// min 4 + j = (s[j + 8] >> 4) | (s[j + 4] >> 6) << 4. Written as d · scale into sc, dmin · min into mn.
    @inline(__always)
    private static func scalesAndMins(_ s: UnsafePointer<UInt8>, d: Float, dmin: Float,
                                      _ sc: UnsafeMutablePointer<Float>, _ mn: UnsafeMutablePointer<Float>) {
        for j in 0..<4 {
            sc[j] = d * Float(s[j] & 63)
            mn[j] = dmin * Float(s[j + 4] & 63)
            sc[j + 4] = d * Float((s[j + 8] & 15) | ((s[j] >> 6) << 4))
            mn[j + 4] = dmin * Float((s[j + 8] >> 4) | ((s[j + 4] >> 6) << 4))
        }
    }

    /// The layout Q4_K and Q5_K share: super-blocks of `bytes` bytes for 256 elements, starting f16 d, f16 dmin
    /// and 12 bytes of scales/mins, with 128 bytes of nibbles at `nibbles`. Sub-blocks 2c and 2c + 1 take the low
    /// and high nibbles of bytes 32c..<32c + 32; `body` gets, per pair c, the block, c, (d · scale, dmin · min)
    /// of both sub-blocks, their nibbles and their 64 outputs.
    @inline(__always)
    private static func subBlockPairs(
        _ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int, bytes: Int, nibbles: Int,
        _ body: (_ block: UnsafeRawPointer, _ c: Int, _ d1: Float, _ m1: Float, _ d2: Float, _ m2: Float,
                 _ q: UnsafePointer<UInt8>, _ y: UnsafeMutablePointer<Float>) -> Void
    ) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { scratch in
            let sc = scratch.baseAddress!, mn = sc + 8
            for b in 0..<blocks {
                let block = p + b * bytes
                scalesAndMins((block + 4).assumingMemoryBound(to: UInt8.self), d: half(block, 0),
                              dmin: half(block, 2), sc, mn)
                let q = (block + nibbles).assumingMemoryBound(to: UInt8.self)
                for c in 0..<4 {
                    body(block, c, sc[2 * c], mn[2 * c], sc[2 * c + 1], mn[2 * c + 1], q + 32 * c,
                         out + b * 256 + 64 * c)
                }
            }
        }
    }

    /// Q4_K, 144 bytes per 256 elements: the shared layout with nibbles at 16; x = (d · scale) · nibble − dmin · min.
    private static func q4_K(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        subBlockPairs(p, out, blocks, bytes: 144, nibbles: 16) { _, _, d1, m1, d2, m2, q, y in
            for l in 0..<32 {
                y[l] = d1 * Float(q[l] & 0x0F) - m1
                y[l + 32] = d2 * Float(q[l] >> 4) - m2
            }
        }
    }

    /// Q5_K, 176 bytes per 256 elements: the shared layout with 32 bytes qh of fifth bits at 16 (bit s of qh[l]
    /// belongs to element l of sub-block s) and the nibbles at 48; x = (d · scale) · (nibble + 16 · bit) − dmin · min.
    private static func q5_K(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        subBlockPairs(p, out, blocks, bytes: 176, nibbles: 48) { block, c, d1, m1, d2, m2, q, y in
            let qh = (block + 16).assumingMemoryBound(to: UInt8.self)
            let lowShift = UInt8(2 * c)
            for l in 0..<32 {
                let h = qh[l]
                y[l] = d1 * Float((q[l] & 0x0F) | (((h >> lowShift) & 1) << 4)) - m1
                y[l + 32] = d2 * Float((q[l] >> 4) | (((h >> (lowShift + 1)) & 1) << 4)) - m2
            }
        }
    }

    /// Q6_K, 210 bytes per 256 elements: 128 bytes ql of low nibbles, 64 bytes qh of high 2-bit pairs, 16 int8
    /// scales (one per 16 elements), f16 d. Each half h of 128 elements uses ql[64h..<64h + 64] and
    /// qh[32h..<32h + 32]: element 32g + l (g = 0...3, l < 32) has low bits = nibble (g & 1 ? ql[64h + 32 + l] :
    /// ql[64h + l]) (low nibble for g < 2, high for g ≥ 2) and high bits = (qh[32h + l] >> 2g) & 3;
    /// x = (d · scale) · (low | high << 4 − 32).
    private static func q6_K(_ p: UnsafeRawPointer, _ out: UnsafeMutablePointer<Float>, _ blocks: Int) {
        for b in 0..<blocks {
            let block = p + b * 210
            let d = half(block, 208)
            let scales = (block + 192).assumingMemoryBound(to: Int8.self)
            let y = out + b * 256
            for h in 0..<2 {
                let ql = (block + 64 * h).assumingMemoryBound(to: UInt8.self)
                let qh = (block + 128 + 32 * h).assumingMemoryBound(to: UInt8.self)
                let yh = y + 128 * h
                let sc = scales + 8 * h
                for l in 0..<32 {
                    let high = qh[l]
                    let s = l / 16
                    let q0 = Int32((ql[l] & 0x0F) | ((high & 3) << 4)) - 32
                    let q1 = Int32((ql[l + 32] & 0x0F) | (((high >> 2) & 3) << 4)) - 32
                    let q2 = Int32((ql[l] >> 4) | (((high >> 4) & 3) << 4)) - 32
                    let q3 = Int32((ql[l + 32] >> 4) | (((high >> 6) & 3) << 4)) - 32
                    yh[l] = (d * Float(sc[s])) * Float(q0)
                    yh[l + 32] = (d * Float(sc[s + 2])) * Float(q1)
                    yh[l + 64] = (d * Float(sc[s + 4])) * Float(q2)
                    yh[l + 96] = (d * Float(sc[s + 6])) * Float(q3)
                }
            }
        }
    }
}
