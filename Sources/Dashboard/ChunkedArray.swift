/// An append-only array kept in fixed-size chunks. A plain array doubles when it grows, and for a moment holds
/// the old and the new buffer: 1.5× to 3× its size at the peak. A replay of a long log holds tens of megabytes
/// of packed records, so it grows one chunk at a time instead.
struct ChunkedArray<Element>: RandomAccessCollection {
    private static var chunkSize: Int { 1 << 15 }
    private var chunks: [[Element]] = []
    private(set) var count = 0

    mutating func append(_ element: Element) {
        if count % Self.chunkSize == 0 {
            var chunk: [Element] = []
            chunk.reserveCapacity(Self.chunkSize)
            chunks.append(chunk)
        }
        chunks[chunks.count - 1].append(element)
        count += 1
    }

    subscript(i: Int) -> Element {
        chunks[i >> 15][i & (Self.chunkSize - 1)]
    }

    var startIndex: Int { 0 }
    var endIndex: Int { count }
}
