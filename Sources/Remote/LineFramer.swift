/// Cuts a byte stream into newline-terminated messages no longer than `maxMessageBytes`. A message that grows past
/// the limit before its newline is an error: the connection is closed instead of buffering without bound.
public struct LineFramer {
    public let maxMessageBytes: Int
    private var partial: [UInt8] = []

    public init(maxMessageBytes: Int) {
        self.maxMessageBytes = maxMessageBytes
    }

    public enum Failure: Error, Equatable {
        /// A message reached `limit` bytes without a newline.
        case oversized(limit: Int)
    }

    /// Bytes held back waiting for their newline.
    public var pendingCount: Int { partial.count }

    /// Appends `bytes`, calling `body` with each complete message (without its newline).
    public mutating func feed(_ bytes: UnsafeRawBufferPointer, _ body: ([UInt8]) throws -> Void) throws {
        var start = 0
        while start < bytes.count {
            guard let newline = bytes[start...].firstIndex(of: 0x0A) else {
                let rest = bytes.count - start
                guard partial.count + rest <= maxMessageBytes else { throw Failure.oversized(limit: maxMessageBytes) }
                partial.append(contentsOf: bytes[start...])
                return
            }
            guard partial.count + (newline - start) <= maxMessageBytes else { throw Failure.oversized(limit: maxMessageBytes) }
            partial.append(contentsOf: bytes[start..<newline])
            let message = partial
            partial.removeAll(keepingCapacity: true)
            start = newline + 1
            try body(message)
        }
    }
}
