import ArgumentParser
import Data
import Foundation
import Text
import Training

/// `xright data …`: look at training data before training on it.
struct DataCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "data",
        abstract: "Inspect training data files.",
        subcommands: [Check.self])

    /// `xright data check FILE`: reads every record and reports what a run would get.
    struct Check: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "check",
            abstract: "Read a data file and report records, skipped records with reasons, and token lengths.",
            discussion: """
                Formats: alpaca, prompt-response, sharegpt-sft (SFT); prompt-chosen-rejected, hh, sharegpt (preference), \
                as a JSON array or JSON Lines, optionally gzip-compressed. See docs/DATA.md.
                Exit status: 0 when the file was read (bad records are reported, not fatal), 1 when it cannot \
                be read, holds no usable record, or, with --strict, holds any bad record.
                """)

        @Argument(help: "The data file (.json, .jsonl, optionally .gz).")
        var file: String

        @Option(help: "What the file must hold: sft or pref. Default: whatever its format holds.")
        var kind: String?

        @Option(help: ArgumentHelp("Record format: alpaca, prompt-response, sharegpt-sft, prompt-chosen-rejected, hh, sharegpt. "
                                   + "Default: detected from the first record's keys."))
        var format: String?

        @Option(help: "Tokenizer for the length statistics: 'byte' (one token per UTF-8 byte), a tokenizer.json or a directory. Default with --model: the model's.")
        var tokenizer: String?

        @Option(help: "The model to check the data for (a .gguf file or a model directory): its tokenizer and chat template, as `xright train --model` would use them.")
        var model: String?

        @Option(help: ArgumentHelp("Prompt format: a chat family (chatml, llama3, llama2, mistral, alpaca), xright "
                                   + "(\"User: {prompt}\\nAssistant: \"), raw, hh, or a custom text containing {prompt} "
                                   + "(\\n and \\t are understood). Default: the model's chat template, else xright."))
        var template: String?

        @Option(name: .customLong("max-len"), help: "Also count the sequences longer than this many tokens.")
        var maxLength: Int?

        @Option(help: "Longest record (line) read, in bytes; longer ones are skipped.")
        var maxRecordBytes: Int = ReadOptions.defaultMaxRecordBytes

        @Option(name: .customLong("eval-fraction"),
                help: "Also count the records a held-out split of this fraction (e.g. 0.03) would take.")
        var evalFraction: Double?

        @Option(help: "Seed of the held-out split.")
        var seed: UInt64 = 0

        @Flag(help: "Exit with status 1 when any record is bad.")
        var strict = false

        @Flag(help: "Print the report as JSON.")
        var json = false

        func validate() throws {
            _ = try parsedKind()
            _ = try parsedFormat()
            _ = try parsedTemplate()
            _ = try loadTokenizer()
            _ = try parsedEvalSplit()
            if let maxLength, maxLength < 2 {
                throw ValidationError("--max-len must be at least 2 tokens, found \(maxLength)")
            }
            if maxRecordBytes < 2 {
                throw ValidationError("--max-record-bytes must be a positive byte count, found \(maxRecordBytes)")
            }
        }

        func run() throws {
            let promptFormat: PromptFormat
            do {
                promptFormat = try PromptFormatChoice.resolve(template: template, model: model)
            } catch {
                printError(String(describing: error))
                throw ExitCode(1)
            }
            let options = DataCheckOptions(kind: try parsedKind(), format: try parsedFormat(),
                                           promptFormat: promptFormat, maxLength: maxLength,
                                           maxRecordBytes: maxRecordBytes, evalSplit: try parsedEvalSplit())
            let report: DataCheckReport
            do {
                report = try DataCheck.run(path: file, options: options, tokenizer: try loadTokenizer(),
                                           tokenizerName: tokenizer ?? model)
            } catch let error as DataError {
                printError(error.description)
                throw ExitCode(1)
            }
            if json {
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
                print(String(decoding: try encoder.encode(report), as: UTF8.self))
            } else {
                print(report.text)
            }
            if report.usable == 0 {
                printError("\(report.file) has no usable records")
                throw ExitCode(1)
            }
            if strict && report.skipped > 0 {
                printError("\(report.skipped) bad record(s) in strict mode; first: "
                           + (report.problems.first ?? report.file))
                throw ExitCode(1)
            }
        }

        private func parsedKind() throws -> DatasetKind? {
            switch kind {
            case nil: return nil
            case "sft"?: return .sft
            case "pref"?, "preference"?: return .preference
            case let other?: throw ValidationError("--kind must be sft or pref, found \"\(other)\"")
            }
        }

        private func parsedFormat() throws -> RecordFormat? {
            guard let format else { return nil }
            guard let parsed = RecordFormat(rawValue: format) else {
                throw ValidationError("--format must be one of "
                                      + RecordFormat.allCases.map(\.rawValue).joined(separator: ", ")
                                      + ", found \"\(format)\"")
            }
            return parsed
        }

        private func parsedTemplate() throws -> PromptFormat? {
            guard let template else { return nil }
            do {
                return try PromptFormat(parsing: template)
            } catch let error as DataOptionError {
                throw ValidationError(error.description)
            }
        }

        private func parsedEvalSplit() throws -> EvalSplit? {
            guard let evalFraction else { return nil }
            do {
                return try EvalSplit(fraction: evalFraction, seed: seed)
            } catch let error as DataOptionError {
                throw ValidationError(error.description)
            }
        }

        private func loadTokenizer() throws -> (any Tokenizer)? {
            if let tokenizer {
                do { return try TokenizerLoader.load(path: tokenizer) } catch {
                    throw ValidationError("--tokenizer: \(error)")
                }
            }
            guard let model else { return nil }
            guard FileManager.default.fileExists(atPath: model) else {
                throw ValidationError("--model \(model): no such file or directory (expected a .gguf file or a model directory)")
            }
            // The tokenizer `xright train --model` would use: a .gguf's own, or the directory's tokenizer.json.
            do { return try RunSetup.loadTokenizer(tokenizer: nil, model: model) } catch {
                throw ValidationError("--model: \(error)")
            }
        }

        private func printError(_ message: String) {
            FileHandle.standardError.write(Foundation.Data("xright: error: \(message)\n".utf8))
        }
    }
}
