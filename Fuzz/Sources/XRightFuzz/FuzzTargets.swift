import ConfigFile
import Dashboard
import Data
import Engine
import Foundation
import GGUF
import JSON
import Remote
import Text
import Training

/// One fuzz target per parser, chosen by `XRIGHT_FUZZ_TARGET` (scripts/fuzz sets it). Each takes the input as
/// the file or text a user could hand xright and runs the same entry point the program uses; a thrown error is
/// the expected answer to bad input, a crash, trap, hang or runaway allocation is a finding (docs/FUZZING.md).
enum FuzzTarget: String, CaseIterable {
    case json, safetensors, gguf, config, llamaConfig = "llama-config", tokenizer, gpt2Vocabulary = "gpt2-vocab"
    case dataAlpaca = "data-alpaca", dataPromptResponse = "data-prompt-response"
    case dataPreference = "data-preference", dataHH = "data-hh", dataShareGPT = "data-sharegpt"
    case dataDetect = "data-detect", dataGzip = "data-gzip"
    case runLog = "run-log", lineFramer = "line-framer", clientMessage = "client-message", serverMessage = "server-message"
    case theme, yamlConfig = "yaml-config"

    static let selected: FuzzTarget = {
        let name = ProcessInfo.processInfo.environment["XRIGHT_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            FileHandle.standardError.write(Data("XRIGHT_FUZZ_TARGET must be one of: \(allCases.map(\.rawValue).joined(separator: " "))\n".utf8))
            exit(2)
        }
        return target
    }()
}

/// Inputs that must reach a parser as a file go to one scratch file per process (libFuzzer forks workers).
enum Scratch {
    static let directory: URL = {
        // Memory-backed when there is /dev/shm: the file-based targets spend most of an execution writing it.
        let base = FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory()
        let url = URL(fileURLWithPath: base).appendingPathComponent("xright-fuzz-\(getpid())")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    static func file(_ name: String, _ data: Data) -> URL {
        let url = directory.appendingPathComponent(name)
        FileManager.default.createFile(atPath: url.path, contents: data)
        return url
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ start: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let data = start.map { Data(bytes: $0, count: count) } ?? Data()
    run(FuzzTarget.selected, data)
    return 0
}

private func run(_ target: FuzzTarget, _ data: Data) {
    let text = String(decoding: data, as: UTF8.self)
    switch target {
    case .json:
        _ = try? JSONValue.parse([UInt8](data), allowsByteOrderMark: true)
    case .safetensors:
        guard let file = try? SafeTensorsFile(contentsOf: Scratch.file("model.safetensors", data)) else { return }
        // Every tensor the header admits must convert without reading outside the file.
        for name in file.tensorNames { _ = try? file.floats(name) }
    case .gguf:
        guard let file = try? GGUFFile(contentsOf: Scratch.file("model.gguf", data)) else { return }
        // Every tensor the index admits must dequantize (or be refused) without reading outside the mapping…
        for name in file.tensorNames { _ = try? file.floats(name) }
        // …and, for a llama/qwen2 file, as a checkpoint: metadata → config, Hugging Face names, Q/K un-permuted,
        // the config decoded as ModelDirectory.loadGGUF decodes it.
        guard let checkpoint = try? GGUFCheckpoint(file: file) else { return }
        if let object = checkpoint.config.objectValue { _ = try? LlamaConfig(json: object, source: "fuzz.gguf") }
        for name in checkpoint.tensorNames {
            _ = try? checkpoint.floats(name, expectedShape: checkpoint.shape(of: name))
        }
    case .config:
        _ = try? GPTNeoXConfig(contentsOf: Scratch.file("config.json", data))
    case .llamaConfig:
        _ = try? LlamaConfig(contentsOf: Scratch.file("config.json", data))
    case .tokenizer:
        guard let tokenizer = try? BPETokenizer(tokenizerJSON: Scratch.file("tokenizer.json", data)) else { return }
        let ids = tokenizer.encode("Hello, wörld!\n  <|endoftext|> 123")
        _ = tokenizer.decode(ids)
    case .gpt2Vocabulary:
        // encoder.json from the input, a fixed small merges file: the GPT-2 pair reader.
        let encoder = Scratch.file("encoder.json", data)
        let merges = Scratch.file("vocab.bpe", Data("#version: 0.2\nh e\nl l\n".utf8))
        if let tokenizer = try? BPETokenizer(encoderJSON: encoder, merges: merges) { _ = tokenizer.encode("hello") }
    case .dataAlpaca: readRecords(data, name: "data.jsonl", format: .alpaca)
    case .dataPromptResponse: readRecords(data, name: "data.jsonl", format: .promptResponse)
    case .dataPreference: readRecords(data, name: "data.jsonl", format: .promptChosenRejected)
    case .dataHH: readRecords(data, name: "data.jsonl", format: .anthropicHH)
    case .dataShareGPT: readRecords(data, name: "data.json", format: .sharegpt)
    case .dataDetect: readRecords(data, name: "data.json", format: nil)
    case .dataGzip: readRecords(data, name: "data.jsonl.gz", format: nil)
    case .runLog:
        _ = try? RunLogReader.read(Scratch.file("run.jsonl", data))
    case .lineFramer:
        // The first byte picks a chunk size, so message boundaries fall anywhere in the reads.
        var framer = LineFramer(maxMessageBytes: 4096)
        let chunk = max(1, Int(data.first ?? 1) % 64)
        let body = data.dropFirst()
        var offset = body.startIndex
        let decoder = RunLogCoding.makeDecoder()
        while offset < body.endIndex {
            let end = min(body.endIndex, offset + chunk)
            let piece = body[offset..<end]
            let ok: Bool = piece.withUnsafeBytes { raw in
                do {
                    try framer.feed(raw) { line in _ = try? decoder.decode(ClientRequest.self, from: Data(line)) }
                    return true
                } catch { return false }
            }
            if !ok { break }
            offset = end
        }
    case .clientMessage:
        _ = try? RunLogCoding.makeDecoder().decode(ClientRequest.self, from: data)
    case .serverMessage:
        _ = try? RunLogCoding.makeDecoder().decode(ServerMessage.self, from: data)
    case .theme:
        _ = try? Theme.parse(text, name: "fuzz", file: "fuzz.theme")
    case .yamlConfig:
        // `train --config run.yaml`: read from the file, checked against a fixed option list, turned into arguments.
        let path = Scratch.file("run.yaml", data).path
        guard let file = try? ConfigFile(path: path, options: yamlConfigOptions,
                                         forbidden: ["config": "a config file cannot name another"]) else { return }
        _ = file.arguments(yieldingTo: [])
        _ = file.arguments(yieldingTo: ["--lambda", "0.5", "--headless"])
        _ = file.line(ofOptionNamed: "--lora-targets")
    }
}

/// A train-like command's options, a few of each kind, named as the fixtures' keys are.
private let yamlConfigOptions: [ConfigOption] = [
    ConfigOption(name: "lambda", kind: .option, valueType: .number, defaultValue: "0.5"),
    ConfigOption(name: "learning-rate", kind: .option, valueType: .number),
    ConfigOption(name: "lambdas", kind: .option, valueType: .number, isRepeating: true),
    ConfigOption(name: "batch-size", kind: .option, valueType: .integer, defaultValue: "8"),
    ConfigOption(name: "max-steps", kind: .option, valueType: .integer),
    ConfigOption(name: "threads", kind: .option, valueType: .integer),
    ConfigOption(name: "demo-examples", kind: .option, valueType: .integer),
    ConfigOption(name: "lora-rank", kind: .option, valueType: .integer),
    ConfigOption(name: "preset", kind: .option, valueType: .choice(["tiny", "small", "pythia-70m"])),
    ConfigOption(name: "strategy", kind: .option, valueType: .choice(["alright", "maxright", "mix"])),
    ConfigOption(name: "strategies", kind: .option, valueType: .choice(["alright", "maxright", "mix"]), isRepeating: true),
    ConfigOption(name: "run-dir", kind: .option, valueType: .string, otherNames: ["-o"]),
    ConfigOption(name: "data", kind: .option, valueType: .string),
    ConfigOption(name: "lora-targets", kind: .option, valueType: .string, isRepeating: true),
    ConfigOption(name: "headless", kind: .flag(inversion: nil), valueType: .boolean),
    ConfigOption(name: "cosine", kind: .flag(inversion: "no-cosine"), valueType: .boolean),
    ConfigOption(name: "half", kind: .flag(inversion: nil), valueType: .boolean),
]

private func readRecords(_ data: Data, name: String, format: RecordFormat?) {
    let url = Scratch.file(name, data)
    let options = ReadOptions(format: format, strict: false, maxRecordBytes: 1 << 20)
    guard let reader = try? DatasetReader(path: url.path, options: options) else { return }
    var count = 0
    // A bounded number of records: the reader streams, the fuzzer should not time out on a long valid input.
    while count < 10_000, (try? reader.next()) != nil { count += 1 }
}
