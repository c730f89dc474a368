import ArgumentParser
import Foundation
import Engine
import GGUF
import Text

/// `xright bench generate`: time to first token and decode tokens/s of xright's KV-cache decoder against
/// transformers' `generate` on the same model, prompt ids, token count and thread count, in alternating pairs
/// within one run (docs/GENERATE.md, "Benchmark").
struct BenchGenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generation speed: xright vs transformers generate (SmolLM2-135M GGUF and the smollm2-135m preset).")

    @Option(help: "SmolLM2-135M-Instruct .gguf (default: ~/.cache/xright/models/SmolLM2-135M-Instruct.Q4_1.gguf when present).")
    var gguf: String?

    @Option(help: "New tokens per generation (the end token is ignored so every run decodes this many).")
    var newTokens: Int = 64

    @Option(help: "Alternating xright/transformers pairs per model.")
    var pairs: Int = 5

    @Option(help: "Threads for both (torch.set_num_threads).")
    var threads: Int = 2

    @Option(help: "Python with torch and transformers.")
    var python: String = "python3"

    @Flag(help: "Skip transformers (xright figures only).")
    var noPython = false

    func validate() throws {
        guard newTokens >= 2 else { throw ValidationError("--new-tokens must be ≥ 2, got \(newTokens)") }
        guard pairs >= 1 else { throw ValidationError("--pairs must be ≥ 1, got \(pairs)") }
        guard threads >= 1 else { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
    }

    static let question = "Tell me a long story about a dragon who learns to cook."

    func run() throws {
        EngineThreads.configure(threads)
        print("CPU: \(Self.cpuName()); threads \(threads); \(newTokens) new tokens; \(pairs) alternating pairs; medians")
        let home = ProcessInfo.processInfo.environment["HOME"] ?? NSHomeDirectory()
        let defaultGGUF = "\(home)/.cache/xright/models/SmolLM2-135M-Instruct.Q4_1.gguf"
        let ggufPath = gguf ?? (FileManager.default.fileExists(atPath: defaultGGUF) ? defaultGGUF : nil)
        if let ggufPath {
            let url = URL(fileURLWithPath: ggufPath)
            let file = try GGUFFile(contentsOf: url)
            let tokenizer = try BPETokenizer(gguf: file)
            let template = try ChatTemplate.fromGGUF(file) ?? ChatTemplate.named("chatml")!
            let prompt = tokenizer.encode(try template.renderPrompt(Self.question))
            try compare(label: "SmolLM2-135M-Instruct Q4_1 GGUF (dequantized to f32)", model: try ModelDirectory.load(url),
                        prompt: prompt, pythonModel: ["--gguf", url.path])
        } else {
            print("SmolLM2-135M GGUF: not found (\(defaultGGUF)); pass --gguf FILE")
        }
        let preset = ModelPreset.smollm2_135m
        let model = preset.makeModel()
        model.initializeRandomly(seed: 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("xright-bench-generate-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        try model.config.write(to: dir.appendingPathComponent("config.json"))
        let prompt = (0..<37).map { ($0 * 7919 + 11) % model.config.vocabSize }
        try compare(label: "smollm2-135m preset (random weights)", model: model, prompt: prompt,
                    pythonModel: ["--config-dir", dir.path])
    }

    struct Trial { var ttft: Double; var rate: Double }

    private func compare(label: String, model: any CausalLanguageModel, prompt: [Int], pythonModel: [String]) throws {
        print("\n\(label): prompt \(prompt.count) tokens")
        let decoder = try Decoders.make(for: model, capacity: prompt.count + newTokens)
        var python: PythonGenerator?
        if !noPython {
            do {
                python = try PythonGenerator(python: self.python, arguments: pythonModel + [
                    "--prompt-ids", prompt.map(String.init).joined(separator: ","), "--new", "\(newTokens)",
                    "--threads", "\(threads)"])
            } catch {
                print("transformers unavailable: \(error)")
            }
        }
        // One untimed run each to warm caches and lazy initialisation.
        _ = try ours(decoder, prompt)
        _ = try python?.trial()
        var mine = [Trial](), theirs = [Trial]()
        for _ in 0..<pairs {
            mine.append(try ours(decoder, prompt))
            if let python { theirs.append(try python.trial()) }
        }
        python?.stop()
        func median(_ x: [Double]) -> Double { let s = x.sorted(); return s[s.count / 2] }
        let a = (ttft: median(mine.map(\.ttft)), rate: median(mine.map(\.rate)))
        print(String(format: "  xright        time to first token %7.1f ms   decode %7.1f tokens/s", a.ttft * 1000, a.rate))
        guard !theirs.isEmpty else { return }
        let b = (ttft: median(theirs.map(\.ttft)), rate: median(theirs.map(\.rate)))
        print(String(format: "  transformers  time to first token %7.1f ms   decode %7.1f tokens/s", b.ttft * 1000, b.rate))
        print(String(format: "  xright / transformers: decode %.2f×, time to first token %.2f× faster", a.rate / b.rate,
                     b.ttft / a.ttft))
        print("  per pair decode tokens/s (xright, transformers): "
            + zip(mine, theirs).map { String(format: "(%.1f, %.1f)", $0.rate, $1.rate) }.joined(separator: " "))
    }

    private func ours(_ decoder: any IncrementalDecoder, _ prompt: [Int]) throws -> Trial {
        var sampler = Sampler(.greedy)
        let r = try Generator.run(decoder, prompt: prompt, maxNewTokens: newTokens, sampler: &sampler, endTokens: [])
        return Trial(ttft: r.timeToFirstToken, rate: r.decodeTokensPerSecond)
    }

    static func cpuName() -> String {
        let text = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        for line in text.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "?"
        }
        return "unknown CPU"
    }
}

/// scripts/bench/generate_transformers.py kept running: one "go" per timed generation, one JSON line back.
final class PythonGenerator {
    private let process = Process()
    private let input = Pipe(), output = Pipe()
    private var buffer = Data()

    struct Failure: Error, CustomStringConvertible { let description: String }

    init(python: String, arguments: [String]) throws {
        let relative = "scripts/bench/generate_transformers.py"
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        guard let script = [cwd.appendingPathComponent(relative), BenchPaths.packageRoot()?.appendingPathComponent(relative)]
            .compactMap({ $0 }).first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw Failure(description: "\(relative) not found (run from the checkout)")
        }
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script.path] + arguments
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let ready = try line()
        guard ready.contains("\"ready\"") else { throw Failure(description: "unexpected: \(ready)") }
    }

    func trial() throws -> BenchGenerateCommand.Trial {
        input.fileHandleForWriting.write(Data("go\n".utf8))
        let text = try line()
        guard let json = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any],
              let ttft = json["ttft_s"] as? Double, let rate = json["decode_tokens_per_s"] as? Double else {
            throw Failure(description: "unexpected output from generate_transformers.py: \(text.prefix(200))")
        }
        return .init(ttft: ttft, rate: rate)
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private func line() throws -> String {
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let line = String(decoding: buffer[buffer.startIndex..<newline], as: UTF8.self)
                buffer.removeSubrange(buffer.startIndex...newline)
                return line
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty {
                throw Failure(description: "the transformers script exited (status \(process.isRunning ? "running" : "\(process.terminationStatus)")); is torch/transformers installed?")
            }
            buffer.append(chunk)
        }
    }
}
