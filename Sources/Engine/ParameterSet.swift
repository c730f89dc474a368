/// Named tensors stored back to back in one flat buffer, with a gradient buffer of the same layout when trainable.
/// One flat buffer lets the optimizer, clipping and checkpoints treat all parameters as a single vector.
public final class ParameterSet: @unchecked Sendable {
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let shape: [Int]
        public let offset: Int
        public var count: Int { shape.reduce(1, *) }
    }

    public let entries: [Entry]
    private let index: [String: Int]
    public let values: FloatBuffer
    public private(set) var gradients: FloatBuffer?
    public var count: Int { values.count }

    public init(_ specs: [(name: String, shape: [Int])]) {
        var entries = [Entry](), offset = 0, index = [String: Int]()
        for spec in specs {
            precondition(index[spec.name] == nil, "duplicate parameter \(spec.name)")
            index[spec.name] = entries.count
            entries.append(Entry(name: spec.name, shape: spec.shape, offset: offset))
            // Keep every tensor 16-float aligned so vector loads never straddle two tensors' cache lines.
            offset += (spec.shape.reduce(1, *) + 15) / 16 * 16
        }
        self.entries = entries
        self.index = index
        values = FloatBuffer(count: offset)
    }

    public func entry(_ name: String) -> Entry? { index[name].map { entries[$0] } }

    public func value(_ name: String) -> UnsafeMutablePointer<Float> {
        guard let e = entry(name) else { preconditionFailure("no parameter named \(name)") }
        return values.pointer + e.offset
    }

    /// The gradient of `name`, or nil when gradients are off.
    public func gradient(_ name: String) -> UnsafeMutablePointer<Float>? {
        guard let g = gradients, let e = entry(name) else { return nil }
        return g.pointer + e.offset
    }

    /// Allocates (zeroed) gradient storage, or drops it to freeze these parameters.
    public func setTrainable(_ trainable: Bool) {
        if trainable { if gradients == nil { gradients = FloatBuffer(count: values.count) } } else { gradients = nil }
    }

    public var isTrainable: Bool { gradients != nil }

    public func zeroGradients() { gradients?.zero() }

    /// Copy of one tensor's values.
    public func array(_ name: String) -> [Float] {
        guard let e = entry(name) else { return [] }
        return Array(UnsafeBufferPointer(start: values.pointer + e.offset, count: e.count))
    }

    public func gradientArray(_ name: String) -> [Float]? {
        guard let g = gradients, let e = entry(name) else { return nil }
        return Array(UnsafeBufferPointer(start: g.pointer + e.offset, count: e.count))
    }

    public func set(_ name: String, _ newValues: [Float]) {
        guard let e = entry(name) else { preconditionFailure("no parameter named \(name)") }
        precondition(newValues.count == e.count, "\(name): \(newValues.count) values for shape \(e.shape)")
        newValues.withUnsafeBufferPointer { (values.pointer + e.offset).update(from: $0.baseAddress!, count: e.count) }
    }

    /// Total number of scalars (without alignment padding).
    public var scalarCount: Int { entries.reduce(0) { $0 + $1.count } }
}
