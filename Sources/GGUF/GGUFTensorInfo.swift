/// Where one tensor of a GGUF file lies and how it is stored.
public struct GGUFTensorInfo: Equatable, Sendable {
    public let name: String
    /// GGUF's dimension order: `dimensions[0]` is the contiguous one (ggml's ne[0]), i.e. the row length.
    public let dimensions: [Int]
    public let type: GGMLType
    /// Absolute byte offset of the tensor's data in the file, and its size in bytes.
    public let fileOffset: Int
    public let byteCount: Int

    /// Row-major shape, outermost first, as PyTorch and safetensors write it: `dimensions` reversed. A
    /// `token_embd.weight` of dimensions [576, 49152] has shape [49152, 576].
    public var shape: [Int] { dimensions.reversed() }

    public var elementCount: Int { dimensions.reduce(1, *) }
}
