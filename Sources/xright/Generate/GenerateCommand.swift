import ArgumentParser
import Foundation
import Engine
import Text

/// `xright generate`: answers prompts with a model, streaming the reply as it is decoded (docs/GENERATE.md).
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Answer prompts with a model (Hugging Face directory, .gguf file, a run or one of its checkpoints).",
        discussion: """
            The prompt is put in the model's chat template (from the .gguf or tokenizer_config.json) unless \
            --template names another. Greedy by default; --temperature > 0 samples (filters: temperature, \
            top-k, top-p, min-p, in that order). Stops at the end-of-sequence/end-of-turn token, a --stop \
            string or --max-new-tokens. The reply streams to stdout; time to first token and tokens/s go to \
            stderr (or one JSON object per prompt on stdout with --json).
            """)

    @Option(help: "Model: a Hugging Face directory, a .gguf file, a run directory (its final/ model, else its newest checkpoint) or RUN/checkpoints/step-N.")
    var model: String

    @OptionGroup var configFile: ConfigFileArguments

    @Option(help: "The prompt.")
    var prompt: String?

    @Option(help: "A file of prompts: one per line, or JSONL objects with a \"prompt\" field.")
    var prompts: String?

    @Option(help: "Prompt format: a chat-template family (chatml, llama3, llama2, mistral, alpaca), a prompt template (xright, raw, alpaca, hh) or a string with {prompt}. Default: the model's chat template, else xright.")
    var template: String?

    @Option(help: "Most new tokens per prompt.")
    var maxNewTokens: Int = 256

    @Option(help: "Sampling temperature; 0 is greedy.")
    var temperature: Float = 0

    @Option(help: "Keep the k most likely tokens (sampling).")
    var topK: Int?

    @Option(help: "Keep the most likely tokens whose probabilities sum to p (sampling).")
    var topP: Float?

    @Option(help: "Drop tokens less likely than min-p × the most likely one's probability (sampling).")
    var minP: Float?

    @Option(help: "Seed of the sampler (same seed, same tokens).")
    var seed: UInt64 = 0

    @Option(help: "Stop when the reply contains this string (not printed); repeatable.")
    var stop: [String] = []

    @Option(help: "Engine threads (default: XRIGHT_THREADS or the core count).")
    var threads: Int?

    @Flag(help: "One JSON object per prompt on stdout instead of the streamed text.")
    var json = false

    var sampling: SamplingOptions {
        SamplingOptions(temperature: temperature, topK: topK, topP: topP, minP: minP, seed: seed)
    }

    func validate() throws {
        guard maxNewTokens >= 1 else { throw ValidationError("--max-new-tokens must be ≥ 1, got \(maxNewTokens)") }
        if let threads, threads < 1 { throw ValidationError("--threads must be ≥ 1, got \(threads)") }
        do { try sampling.validate() } catch let error as SamplingError { throw ValidationError(error.message) }
        if stop.contains("") { throw ValidationError("--stop must not be empty") }
    }

    func run() throws {
        EngineThreads.configure(threads)
        let prompts = try PromptList.read(prompt: prompt, file: self.prompts)
        let setup = try GenerationModel.load(modelPath: model, template: template)
        let encoded = try prompts.map { text -> [Int] in
            let ids = setup.tokenizer.encode(try setup.format.renderPrompt(text))
            guard !ids.isEmpty else { throw CLIError("the prompt \"\(text.prefix(40))\" encodes to no tokens") }
            return ids
        }
        let longest = encoded.map(\.count).max()! + maxNewTokens
        let limit = setup.model.config.maxPositions
        guard longest - 1 <= limit else {
            throw CLIError("a prompt of \(longest - maxNewTokens) tokens plus --max-new-tokens \(maxNewTokens) "
                + "exceeds the model's \(limit) positions; lower --max-new-tokens or shorten the prompt")
        }
        let decoder = try Decoders.make(for: setup.model, capacity: min(limit, longest))
        let out = FileHandle.standardOutput
        for (text, ids) in zip(prompts, encoded) {
            var sampler = Sampler(sampling)
            var stream = StreamingText(tokenizer: setup.tokenizer, stopStrings: stop + setup.endStrings)
            let result = try Generator.run(decoder, prompt: ids, maxNewTokens: maxNewTokens, sampler: &sampler,
                                           endTokens: setup.endTokens) { id in
                let piece = stream.append(id)
                if !json && !piece.isEmpty { out.write(Data(piece.utf8)) }
                return !stream.stopped
            }
            let tail = stream.finish()
            if json {
                let record = GenerationRecord(prompt: text, reply: stream.emitted, promptTokens: result.promptTokens,
                                              newTokens: result.ids.count, ids: result.ids,
                                              stopReason: result.stopReason.rawValue,
                                              timeToFirstTokenS: result.timeToFirstToken,
                                              decodeTokensPerS: result.decodeTokensPerSecond)
                out.write(Data((try JSONOutput.string(record) + "\n").utf8))
            } else {
                out.write(Data((tail + "\n").utf8))
                printErr("[\(result.promptTokens) prompt tokens, \(result.ids.count) new, stop: \(result.stopReason.rawValue); "
                    + String(format: "time to first token %.3f s, %.1f tokens/s]", result.timeToFirstToken,
                             result.decodeTokensPerSecond))
            }
        }
    }
}

/// One line of `xright generate --json` (docs/GENERATE.md, "JSON output").
struct GenerationRecord: Encodable {
    let prompt: String
    let reply: String
    let promptTokens: Int
    let newTokens: Int
    let ids: [Int]
    let stopReason: String
    let timeToFirstTokenS: Double
    let decodeTokensPerS: Double
}
