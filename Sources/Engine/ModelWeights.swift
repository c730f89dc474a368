import Foundation
import GGUF
import JSON

/// Where a model's tensors come from, under their Hugging Face names: a directory's safetensors files, or a GGUF
/// file. Loading checks every shape through `shape(of:)` (headers only) before reading anything.
protocol WeightSource {
    /// The file (or index) named in errors.
    var description: String { get }
    var tensorNames: [String] { get }
    func shape(of name: String) -> [Int]?
    func read(_ name: String, expectedShape: [Int]?, into buffer: UnsafeMutableBufferPointer<Float>) throws
}

/// A GGUF file's tensors under Hugging Face names, dequantized on read (docs/GGUF.md).
extension GGUFCheckpoint: WeightSource {
    var description: String { file.url.path }
}

/// The weight files of a Hugging Face model directory: `model.safetensors`, or the shards listed by
/// `model.safetensors.index.json` (`weight_map`: tensor name → shard file). Files stay memory-mapped; tensors
/// (F32, F16, BF16) are converted to Float when read.
struct ModelWeights: WeightSource {
    private let files: [SafeTensorsFile]
    /// tensor name → index into `files`
    private let location: [String: Int]
    /// The single file, or the index, for error messages.
    let description: String

    init(directory: URL) throws {
        let single = directory.appendingPathComponent("model.safetensors")
        let index = directory.appendingPathComponent("model.safetensors.index.json")
        let manager = FileManager.default
        if manager.fileExists(atPath: single.path) {
            let file = try SafeTensorsFile(contentsOf: single)
            files = [file]
            location = Dictionary(uniqueKeysWithValues: file.tensorNames.map { ($0, 0) })
            description = single.path
            return
        }
        guard manager.fileExists(atPath: index.path) else {
            throw EngineError.io(file: single.path, message: "missing (a model directory needs model.safetensors or "
                                 + "model.safetensors.index.json; .bin checkpoints are not supported)")
        }
        description = index.path
        let fields = try ConfigFields.read(index)
        guard let map = try fields.object("weight_map") else {
            throw EngineError.invalidConfig(file: index.path, field: "weight_map", expected: "an object of tensor name → shard file",
                                            got: "nothing (missing)")
        }
        var shardIndex = [String: Int](), files = [SafeTensorsFile](), location = [String: Int]()
        for (name, value) in map.members {
            guard let shard = value.stringValue, !shard.contains("/"), !shard.isEmpty else {
                throw EngineError.invalidConfig(file: index.path, field: "weight_map.\(name)",
                                                expected: "a shard file name in the same directory", got: value.summary())
            }
            if shardIndex[shard] == nil {
                shardIndex[shard] = files.count
                files.append(try SafeTensorsFile(contentsOf: directory.appendingPathComponent(shard)))
            }
            let i = shardIndex[shard]!
            guard files[i].info(name) != nil else {
                throw EngineError.io(file: files[i].url.path, message: "no tensor '\(name)', which \(index.lastPathComponent) places here")
            }
            location[name] = i
        }
        self.files = files
        self.location = location
    }

    var tensorNames: [String] { location.keys.sorted() }

    func shape(of name: String) -> [Int]? { location[name].flatMap { files[$0].shape(of: name) } }

    func read(_ name: String, expectedShape: [Int]?, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard let i = location[name] else {
            throw EngineError.io(file: description, message: "missing tensor '\(name)'")
        }
        try files[i].read(name, expectedShape: expectedShape, into: buffer)
    }
}
