import GGUF

extension GGUFFile {
    /// A tensor's values as Float, by its GGUF name, in the file's row order (no renaming, no permutation; for
    /// Hugging Face names and layout use `GGUFCheckpoint`).
    public func floats(_ name: String) throws -> [Float] {
        let info = try requireTensor(name)
        return try [Float](unsafeUninitializedCapacity: info.elementCount) { buffer, initialized in
            try read(info, into: buffer)
            initialized = info.elementCount
        }
    }

    /// Dequantizes the tensor into `destination`, which must hold exactly its element count.
    public func read(_ info: GGUFTensorInfo, into destination: UnsafeMutableBufferPointer<Float>) throws {
        guard destination.count == info.elementCount else {
            throw GGUFError(file: url.path, message: "tensor '\(info.name)' has \(info.elementCount) elements "
                + "(shape \(info.shape)), but the destination holds \(destination.count)")
        }
        do {
            try withRawBytes(info) { try GGUFDequantize.convert(info.type, $0, into: destination) }
        } catch let error as GGUFError {
            throw GGUFError(file: url.path, message: "tensor '\(info.name)': \(error.message)")
        }
    }
}
