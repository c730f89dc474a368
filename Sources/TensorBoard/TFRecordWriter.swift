import Foundation

/// Appends records to a TFRecord file, the framing of TensorBoard's event files:
/// `uint64 length (little-endian) · uint32 masked CRC-32C of length · data · uint32 masked CRC-32C of data`.
public final class TFRecordWriter {
    public let url: URL
    private let handle: FileHandle

    /// Creates `url` (refusing to overwrite one that exists: event files are named uniquely).
    public init(creating url: URL) throws {
        guard FileManager.default.createFile(atPath: url.path, contents: nil, attributes: nil),
              let handle = FileHandle(forWritingAtPath: url.path) else {
            throw TensorBoardError.cannotWrite(path: url.path, reason: "cannot create the file")
        }
        self.url = url
        self.handle = handle
    }

    deinit { try? handle.close() }

    public static func frame(_ data: Data) -> Data {
        var framed = Data(capacity: data.count + 16)
        let length = withUnsafeBytes(of: UInt64(data.count).littleEndian) { Data($0) }
        framed.append(length)
        framed.append(withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(length)).littleEndian) { Data($0) })
        framed.append(data)
        framed.append(withUnsafeBytes(of: CRC32C.masked(CRC32C.checksum(data)).littleEndian) { Data($0) })
        return framed
    }

    public func write(_ record: Data) throws {
        do {
            try handle.write(contentsOf: Self.frame(record))
        } catch {
            throw TensorBoardError.cannotWrite(path: url.path, reason: "\(error)")
        }
    }

}
