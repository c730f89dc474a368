import Foundation
import JSON

/// A reward model as TRL's RewardTrainer saves it: `GPTNeoXForSequenceClassification` or
/// `LlamaForSequenceClassification` (config.json + weights whose head is `score.weight`, [1, hidden], no bias).
/// The score of a sequence is the head applied to the final hidden state of its last token that is not the pad
/// token (transformers' rule; docs/EVAL.md). The body runs as the causal model of the same architecture with the
/// score row as row 0 of an otherwise zero output head, so its logit 0 is the score.
public final class RewardModel {
    public let model: any CausalLanguageModel
    /// config.json's `pad_token_id` (nil when absent or null): positions holding it are not the "last token".
    public let padTokenId: Int?
    public let directory: URL

    /// The score head tensor's name in a sequence-classification checkpoint.
    public static let scoreTensor = "score.weight"

    public static func load(_ directory: URL) throws -> RewardModel {
        let configURL = directory.appendingPathComponent("config.json")
        guard FileManager.default.fileExists(atPath: configURL.path) else {
            throw EngineError.io(file: configURL.path, message: "missing (a reward model directory needs config.json "
                                 + "and model.safetensors with a score.weight head)")
        }
        let fields = try ConfigFields.read(configURL)
        let weights = try ModelWeights(directory: directory)
        guard let shape = weights.shape(of: scoreTensor) else {
            throw EngineError.io(file: weights.description, message: "no '\(scoreTensor)' tensor: not a sequence-classification "
                                 + "(reward) model; expected GPTNeoXForSequenceClassification or LlamaForSequenceClassification weights")
        }
        var pad: Int?
        if let value = fields.json["pad_token_id"], !value.isNull { pad = try fields.int("pad_token_id") }
        switch try fields.string("model_type") {
        case nil, "gpt_neox":
            let config = try GPTNeoXConfig(contentsOf: configURL)
            try checkHead(shape, hidden: config.hiddenSize, file: weights.description)
            let source = ScoreHeadWeights(base: weights, headName: "embed_out.weight", vocab: config.vocabSize, hidden: config.hiddenSize)
            return RewardModel(try ModelDirectory.build(GPTNeoX.self, config: config, configSource: configURL.path, weights: source),
                               padTokenId: pad, directory: directory)
        case let type? where LlamaConfig.supportedModelTypes.contains(type):
            var config = try LlamaConfig(contentsOf: configURL)
            // The classifier has no language-model head; the score row stands in as an untied one.
            config.tieWordEmbeddings = false
            try checkHead(shape, hidden: config.hiddenSize, file: weights.description)
            let source = ScoreHeadWeights(base: weights, headName: "lm_head.weight", vocab: config.vocabSize, hidden: config.hiddenSize)
            return RewardModel(try ModelDirectory.build(Llama.self, config: config, configSource: configURL.path, weights: source),
                               padTokenId: pad, directory: directory)
        case let type?:
            throw EngineError.invalidConfig(file: configURL.path, field: "model_type",
                                            expected: "one of \(ModelDirectory.supportedModelTypes.joined(separator: ", "))",
                                            got: "\"\(type)\"")
        }
    }

    init(_ model: any CausalLanguageModel, padTokenId: Int?, directory: URL) {
        self.model = model
        self.padTokenId = padTokenId
        self.directory = directory
    }

    static func checkHead(_ shape: [Int], hidden: Int, file: String) throws {
        guard shape.count == 2, shape[1] == hidden else {
            throw EngineError.io(file: file, message: "'\(scoreTensor)' has shape \(shape); expected [1, \(hidden)] (hidden size \(hidden))")
        }
        guard shape[0] == 1 else {
            throw EngineError.io(file: file, message: "'\(scoreTensor)' has \(shape[0]) rows (num_labels \(shape[0])); a reward "
                                 + "model has one scalar score (num_labels 1)")
        }
    }

    /// Where transformers reads the score: the last position whose token is not the pad token (the last position
    /// when there is no pad token, or every token is one).
    public func scoredPosition(_ ids: [Int]) -> Int {
        guard let pad = padTokenId else { return ids.count - 1 }
        return ids.lastIndex { $0 != pad } ?? ids.count - 1
    }

    /// One score per sequence, `batchSize` sequences per forward pass.
    public func scores(_ sequences: [[Int]], batchSize: Int = 8) throws -> [Double] {
        let V = model.config.vocabSize
        var out = [Double]()
        for start in stride(from: 0, to: sequences.count, by: max(1, batchSize)) {
            let chunk = Array(sequences[start..<min(sequences.count, start + max(1, batchSize))])
            for (i, ids) in chunk.enumerated() {
                guard !ids.isEmpty else {
                    throw EngineError.invalidInput(what: "reward model input \(start + i + 1)", message: "empty sequence")
                }
                guard ids.count <= model.config.maxPositions else {
                    throw EngineError.invalidInput(what: "reward model input \(start + i + 1)",
                                                   message: "\(ids.count) tokens, more than the model's \(model.config.maxPositions) positions")
                }
                if let bad = ids.first(where: { $0 < 0 || $0 >= V }) {
                    throw EngineError.invalidInput(what: "reward model input \(start + i + 1)",
                                                   message: "token id \(bad) is outside the vocabulary of \(V)")
                }
            }
            let batch = TokenBatch(sequences: chunk, scoredFrom: chunk.map { $0.count })
            model.forward(batch)
            let logits = model.lastLogits()
            for (b, first) in batch.sequences.starts.enumerated() {
                out.append(Double(logits[(first + scoredPosition(chunk[b])) * V]))
            }
        }
        return out
    }
}

/// A sequence-classification checkpoint's tensors seen as its causal model's: `score.weight` is hidden, and the
/// output head reads as [vocab, hidden] zeros with the score row as row 0.
struct ScoreHeadWeights: WeightSource {
    let base: ModelWeights
    let headName: String
    let vocab: Int
    let hidden: Int

    var description: String { base.description }
    var tensorNames: [String] { base.tensorNames.filter { $0 != RewardModel.scoreTensor && $0 != headName } + [headName] }

    func shape(of name: String) -> [Int]? {
        if name == headName { return [vocab, hidden] }
        return name == RewardModel.scoreTensor ? nil : base.shape(of: name)
    }

    func read(_ name: String, expectedShape: [Int]?, into buffer: UnsafeMutableBufferPointer<Float>) throws {
        guard name == headName else { return try base.read(name, expectedShape: expectedShape, into: buffer) }
        buffer.update(repeating: 0)
        try base.read(RewardModel.scoreTensor, expectedShape: [1, hidden],
                      into: UnsafeMutableBufferPointer(rebasing: buffer[0..<hidden]))
    }
}
