import Foundation

/// A fixed-size, zero-initialised, 64-byte aligned block of Float32 owned by the engine.
/// Kernels take raw pointers into these (llm.c style): no allocation happens inside a training step.
public final class FloatBuffer: @unchecked Sendable {
    public let count: Int
    public let pointer: UnsafeMutablePointer<Float>

    public init(count: Int) {
        precondition(count >= 0, "FloatBuffer count must be non-negative")
        self.count = count
        let raw = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * MemoryLayout<Float>.stride, alignment: 64)
        pointer = raw.bindMemory(to: Float.self, capacity: max(1, count))
        pointer.initialize(repeating: 0, count: max(1, count))
    }

    public convenience init(_ values: [Float]) {
        self.init(count: values.count)
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { pointer.update(from: base, count: values.count) }
        }
    }

    deinit { UnsafeMutableRawPointer(pointer).deallocate() }

    public var buffer: UnsafeMutableBufferPointer<Float> { UnsafeMutableBufferPointer(start: pointer, count: count) }
    public var array: [Float] { Array(buffer) }

    public func zero() { pointer.update(repeating: 0, count: count) }

    public subscript(i: Int) -> Float {
        get { pointer[i] }
        set { pointer[i] = newValue }
    }
}
