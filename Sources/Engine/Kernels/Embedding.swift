/// Token embedding lookup. table [vocab, channels]; ids [rows]; out [rows, channels].
public enum Embedding {
    public static func forward(out: UnsafeMutablePointer<Float>, ids: UnsafePointer<Int32>,
                               table: UnsafePointer<Float>, rows: Int, channels: Int) {
        for r in 0..<rows {
            (out + r * channels).update(from: table + Int(ids[r]) * channels, count: channels)
        }
    }

    /// dTable[id] += dOut[row] for each row (rows sharing an id accumulate).
    public static func backward(dTable: UnsafeMutablePointer<Float>, dOut: UnsafePointer<Float>,
                                ids: UnsafePointer<Int32>, rows: Int, channels: Int) {
        for r in 0..<rows {
            let dst = dTable + Int(ids[r]) * channels
            let src = dOut + r * channels
            for c in 0..<channels { dst[c] += src[c] }
        }
    }
}
