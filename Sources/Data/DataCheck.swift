import Text

/// What `xright data check` looks at, and how.
public struct DataCheckOptions: Sendable {
    public var kind: DatasetKind?
    public var format: RecordFormat?
    /// The prompt format the token statistics and the masked share are computed in (a text or chat template).
    public var promptFormat: PromptFormat
    /// When set, the report counts the sequences longer than this many tokens.
    public var maxLength: Int?
    public var maxRecordBytes: Int
    public var problemsKept: Int
    /// When set, the report counts the usable records this split holds out for evaluation.
    public var evalSplit: EvalSplit?

    public init(kind: DatasetKind? = nil, format: RecordFormat? = nil, promptFormat: PromptFormat = .text(.xright),
                maxLength: Int? = nil, maxRecordBytes: Int = ReadOptions.defaultMaxRecordBytes,
                problemsKept: Int = 10, evalSplit: EvalSplit? = nil) {
        self.kind = kind
        self.format = format
        self.promptFormat = promptFormat
        self.maxLength = maxLength
        self.maxRecordBytes = maxRecordBytes
        self.problemsKept = problemsKept
        self.evalSplit = evalSplit
    }
}

/// The findings on one data file.
public struct DataCheckReport: Codable, Equatable, Sendable {
    public var file: String
    public var gzip: Bool
    public var container: RecordContainer?
    public var format: RecordFormat?
    public var kind: DatasetKind?
    /// Records met, usable or not.
    public var records: Int
    public var usable: Int
    public var skipped: Int
    /// Skipped records per reason (`DataError.Reason` raw values).
    public var skippedByReason: [String: Int]
    /// The first problems, each as `file:line[:column]: message`.
    public var problems: [String]
    public var template: String
    public var tokenizer: String?
    /// Lengths in tokens of templated prompt + response + eos (both sequences of each pair); nil without a
    /// tokenizer or without usable records.
    public var tokenLengths: LengthSummary?
    /// Usable records the eval split holds out, when a split was given.
    public var evalRecords: Int?
    /// Conversation data (sharegpt, OpenAI messages): messages in the usable conversations, system ones included.
    public var turns: Int?
    /// Conversation data for SFT: the trained replies, one training sequence each.
    public var trainedTurns: Int?
    /// With a tokenizer: the share of tokens the loss does not cover (template, system message, history,
    /// prompts), over every sequence a run would train on.
    public var maskedShare: Double?

    /// A human-readable summary, one fact per line.
    public var text: String {
        var lines: [String] = []
        let layout = [gzip ? "gzip" : nil, container?.displayName, format.map { "format \($0.rawValue)" },
                      kind.map { $0.displayName }].compactMap { $0 }.joined(separator: ", ")
        lines.append("\(file) (\(layout))")
        var counts = "records: \(records)  usable: \(usable)  skipped: \(skipped)"
        if let evalRecords { counts += "  held out for eval: \(evalRecords)" }
        lines.append(counts)
        for (reason, count) in skippedByReason.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            lines.append("  \(reason): \(count)")
        }
        if let turns {
            var line = "turns: \(turns) messages in \(usable) conversations"
            if let trainedTurns { line += "  trained replies: \(trainedTurns) (one sequence each, after the whole history)" }
            lines.append(line)
        }
        if let maskedShare {
            lines.append(String(format: "masked share: %.1f%% of tokens (prompts, history, template); the loss covers the rest", maskedShare * 100))
        }
        if let tokenLengths, let tokenizer {
            var line = "tokens (\(tokenizer), template \(template), \(tokenLengths.count) sequences): "
                + "min \(tokenLengths.min)  median \(tokenLengths.median)  p95 \(tokenLengths.p95)  max \(tokenLengths.max)"
            if let over = tokenLengths.overLimit { line += "  over limit: \(over)" }
            lines.append(line)
        }
        if !problems.isEmpty {
            lines.append("problems (first \(problems.count) of \(skipped)):")
            lines.append(contentsOf: problems.map { "  " + $0 })
        }
        return lines.joined(separator: "\n")
    }
}

/// Reads a whole data file and reports what a training run would get from it.
public enum DataCheck {
    /// Reads every record of `path`. Throws only when the file as a whole cannot be read; bad records are
    /// counted in the report. `tokenizerName` labels the token statistics.
    public static func run(path: String, options: DataCheckOptions = DataCheckOptions(),
                           tokenizer: (any Tokenizer)? = nil, tokenizerName: String? = nil) throws -> DataCheckReport {
        let reader = try DatasetReader(path: path, options: ReadOptions(
            format: options.format, kind: options.kind, strict: false, maxRecordBytes: options.maxRecordBytes,
            problemsKept: options.problemsKept))
        let encoder = try tokenizer.map { try ExampleTokenizer(tokenizer: $0, format: options.promptFormat) }
        var lengths: [Int] = []
        var tokenizationProblems = ProblemLog(keep: options.problemsKept)
        var evalRecords = 0
        var maskedTokens = 0, allTokens = 0
        while let record = try reader.next() {
            if options.evalSplit?.isEval(record) == true { evalRecords += 1 }
            guard let encoder else { continue }
            do {
                switch record {
                case .sft(let example):
                    let tokenized = try encoder.tokenize(example)
                    lengths.append(tokenized.ids.count)
                    maskedTokens += tokenized.promptTokenCount
                    allTokens += tokenized.ids.count
                case .preference(let pair):
                    let tokenized = try encoder.tokenize(pair)
                    for sequence in [tokenized.chosen, tokenized.rejected] {
                        lengths.append(sequence.ids.count)
                        maskedTokens += sequence.promptTokenCount
                        allTokens += sequence.ids.count
                    }
                }
            } catch let problem as DataError {
                tokenizationProblems.add(problem)
            }
        }
        var counts: [String: Int] = [:]
        for (reason, count) in reader.problems.countsByReason { counts[reason.rawValue, default: 0] += count }
        for (reason, count) in tokenizationProblems.countsByReason { counts[reason.rawValue, default: 0] += count }
        let problems = (reader.problems.first + tokenizationProblems.first)
            .sorted { ($0.line ?? 0) < ($1.line ?? 0) }
            .prefix(options.problemsKept)
            .map(\.description)
        return DataCheckReport(
            file: path, gzip: reader.isGzip, container: reader.container, format: reader.format,
            kind: reader.format?.kind ?? options.kind, records: reader.recordsRead,
            usable: reader.usableRecords - tokenizationProblems.total,
            skipped: reader.problems.total + tokenizationProblems.total, skippedByReason: counts,
            problems: Array(problems), template: options.promptFormat.description,
            tokenizer: tokenizer == nil ? nil : (tokenizerName ?? "tokenizer"),
            tokenLengths: LengthSummary(lengths: lengths, limit: options.maxLength),
            evalRecords: options.evalSplit == nil ? nil : evalRecords,
            turns: reader.format == .sharegpt || reader.format == .sharegptSFT ? reader.conversationTurns : nil,
            trainedTurns: reader.format == .sharegptSFT ? reader.examplesProduced : nil,
            maskedShare: allTokens > 0 ? Double(maskedTokens) / Double(allTokens) : nil)
    }
}
