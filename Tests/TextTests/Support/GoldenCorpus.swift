import Foundation
import TestSupport
import XCTest

/// The texts of the shared sample data, enumerated exactly as scripts/goldens/tokenizer_goldens.py does
/// (`corpus()`): per source, in file order. Read with Foundation (not our own JSON parser) so the parity tests
/// do not lean on code they test.
enum GoldenCorpus {
    struct Source {
        let name: String
        let texts: [String]
    }

    static func load() throws -> [Source] {
        var sources: [Source] = []
        for name in ["alpaca_5000.json", "alpaca_en_demo.json"] {
            var texts: [String] = []
            for record in try jsonArray(try TestPaths.sharedFile(name)) {
                for field in ["instruction", "input", "output"] { texts.append(try string(record, field, name)) }
            }
            sources.append(Source(name: name, texts: texts))
        }
        for name in ["hh_harmless_test.jsonl.gz", "hh_helpful_test.jsonl.gz"] {
            var texts: [String] = []
            let lines = try gunzip(try TestPaths.sharedFile(name)).split(separator: 0x0A)
            for line in lines where !line.allSatisfy({ $0 == 0x20 || $0 == 0x0D || $0 == 0x09 }) {
                let record = try JSONSerialization.jsonObject(with: Data(line))
                texts.append(try string(record, "chosen", name))
                texts.append(try string(record, "rejected", name))
            }
            sources.append(Source(name: name, texts: texts))
        }
        var texts: [String] = []
        for record in try jsonArray(try TestPaths.sharedFile("dpo_en_demo.json")) {
            guard let dict = record as? [String: Any], let turns = dict["conversations"] as? [Any] else {
                throw XCTSkip("dpo_en_demo.json: unexpected record shape")
            }
            for turn in turns { texts.append(try string(turn, "value", "dpo_en_demo.json")) }
            texts.append(try string(dict["chosen"] as Any, "value", "dpo_en_demo.json"))
            texts.append(try string(dict["rejected"] as Any, "value", "dpo_en_demo.json"))
        }
        sources.append(Source(name: "dpo_en_demo.json", texts: texts))
        return sources
    }

    private static func jsonArray(_ url: URL) throws -> [Any] {
        guard let array = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [Any] else {
            throw XCTSkip("\(url.lastPathComponent): not a JSON array")
        }
        return array
    }

    private static func string(_ record: Any, _ field: String, _ file: String) throws -> String {
        guard let dict = record as? [String: Any], let value = dict[field] as? String else {
            throw XCTSkip("\(file): a record lacks the string field \(field)")
        }
        return value
    }

    /// The decompressed bytes of a .gz file (through the gzip program: TextTests links no zlib).
    static func gunzip(_ url: URL) throws -> [UInt8] {
        guard let gzip = ["/usr/bin/gzip", "/bin/gzip"].first(where: FileManager.default.isExecutableFile) else {
            throw XCTSkip("gzip is not installed; needed to read \(url.lastPathComponent)")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: gzip)
        process.arguments = ["-dc", url.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw XCTSkip("gzip -dc \(url.path) failed with status \(process.terminationStatus)")
        }
        return [UInt8](data)
    }
}

/// FNV-1a 64 of token ids, each as 4 little-endian bytes (the digest the golden script stores).
func fnv1a(_ ids: [Int]) -> UInt64 {
    var hash: UInt64 = 0xCBF2_9CE4_8422_2325
    for id in ids {
        var value = UInt32(truncatingIfNeeded: id)
        for _ in 0..<4 {
            hash = (hash ^ UInt64(value & 0xFF)) &* 0x100_0000_01B3
            value >>= 8
        }
    }
    return hash
}

/// tokenizer_digests_<name>.bin: a header line, then per source "source <name> <count>\n" and <count> records
/// of (LEB128 token count, 8-byte little-endian FNV-1a 64).
struct DigestFile {
    struct Digest: Equatable {
        let count: Int
        let hash: UInt64
    }

    let header: String
    var sources: [(name: String, digests: [Digest])] = []

    init(_ url: URL) throws {
        let bytes = [UInt8](try Data(contentsOf: url))
        var position = 0
        func line() throws -> String {
            guard let end = bytes[position...].firstIndex(of: 0x0A) else {
                throw DigestFileError(message: "\(url.lastPathComponent): missing line at byte \(position)")
            }
            defer { position = end + 1 }
            return String(decoding: bytes[position..<end], as: UTF8.self)
        }
        header = try line()
        while position < bytes.count {
            let fields = try line().split(separator: " ")
            guard fields.count == 3, fields[0] == "source", let count = Int(fields[2]) else {
                throw DigestFileError(message: "\(url.lastPathComponent): bad source line \(fields)")
            }
            var digests: [Digest] = []
            digests.reserveCapacity(count)
            for index in 0..<count {
                guard position + 9 <= bytes.count else {
                    throw DigestFileError(message: "\(url.lastPathComponent): truncated at record \(index) of \(fields[1])")
                }
                var tokenCount = 0
                var shift = 0
                while position < bytes.count {
                    let byte = bytes[position]
                    position += 1
                    tokenCount |= Int(byte & 0x7F) << shift
                    shift += 7
                    if byte & 0x80 == 0 { break }
                }
                guard position + 8 <= bytes.count else {
                    throw DigestFileError(message: "\(url.lastPathComponent): truncated at record \(index) of \(fields[1])")
                }
                var hash: UInt64 = 0
                for k in 0..<8 { hash |= UInt64(bytes[position + k]) << (8 * k) }
                position += 8
                digests.append(Digest(count: tokenCount, hash: hash))
            }
            sources.append((String(fields[1]), digests))
        }
    }
}

struct DigestFileError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}
