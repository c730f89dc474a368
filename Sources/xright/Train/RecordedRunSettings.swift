import ConfigFile
import Foundation
import Training

/// `xright train --like RUN_DIR`: the options a run recorded in its run.jsonl header, turned back into the
/// `train` options that produce them, as a settings layer under the command line and any `--config` file (the
/// same machinery as a config file: `ConfiguredLaunch`). Only what decides the run is recorded, so what cannot
/// carry to a new run (--resume, --run-dir, --runs-root, --detach, display options) never appears.
enum RecordedRunSettings {
    /// Options that exclude each other: when the newer layers set one of a group, the recorded layer gives none
    /// of it (`--like RUN --model DIR` replaces the run's `--preset`).
    static let exclusiveGroups: [Set<String>] = [["preset", "model"], ["sft", "sft-from-pref"]]

    /// The recorded run's settings as a config file over the `train` options, leaving out groups that `given`
    /// (the arguments of the newer layers) set. Errors name the run directory or its log.
    static func configFile(forRun path: String, options: [ConfigOption], given: [String]) throws -> ConfigFile {
        let directory = RunDirectory(URL(fileURLWithPath: path))
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.url.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CLIError("--like \(path): not a directory (expected a run directory holding run.jsonl)")
        }
        guard FileManager.default.fileExists(atPath: directory.log.path) else {
            throw CLIError("--like \(path): not a run directory (no run.jsonl in it)")
        }
        let recorded: RunOptions
        do { recorded = try RunSetup.options(fromRun: directory) } catch {
            throw CLIError("--like \(path): cannot read the run's recorded options: \(error)")
        }
        let givenNames = Set(given.compactMap { token -> String? in
            guard token.hasPrefix("--") else { return nil }
            return String(token.dropFirst(2).split(separator: "=", maxSplits: 1)[0])
        })
        let dropped = exclusiveGroups.filter { !$0.isDisjoint(with: givenNames) }.reduce(Set<String>()) { $0.union($1) }
        let entries = settings(of: recorded).filter { !dropped.contains($0.key) }
        return try ConfigFile(path: directory.log.path + " (recorded options, line 1)", text: yaml(entries), options: options)
    }

    /// One `train` option per recorded field, in the order `--print-config` lists them; nil values are left unset.
    static func settings(of o: RunOptions) -> [(key: String, value: Value?)] {
        let t = o.training
        var list: [(key: String, value: Value?)] = [
            ("preset", o.modelDirectory == nil ? o.modelPreset.map(Value.text) : nil),
            ("model", o.modelDirectory.map(Value.text)),
            ("tokenizer", o.tokenizer.map(Value.text)),
            ("sft", o.sftData.map(Value.text)),
            ("pref", o.preferenceData.map(Value.text)),
            ("sft-from-pref", o.sftFromPreference.map(Value.text)),
            ("sft-max-samples", o.sftMaxSamples.map { .number(String($0)) }),
            ("pref-max-samples", o.preferenceMaxSamples.map { .number(String($0)) }),
            ("format", o.dataFormat.map(Value.text)),
            ("strategy", .text(t.strategy.rawValue)),
            ("lambda", .number(String(t.lambda.value))),
            ("epochs", .number(String(t.maxEpochs))),
            ("max-steps", t.maxSteps.map { .number(String($0)) }),
            ("batch-size", .number(String(o.batchSize))),
            ("sft-batch-size", o.sftBatchSize.map { .number(String($0)) }),
            ("pref-batch-size", o.preferenceBatchSize.map { .number(String($0)) }),
            ("grad-accum", .number(String(o.microBatches))),
            ("lr", .number(String(o.learningRate))),
            ("warmup", .number(String(o.warmupSteps))),
            ("cosine", .flag(o.cosineDecay)),
            ("weight-decay", .number(String(o.weightDecay))),
            ("max-grad-norm", .number(String(o.maxGradNorm))),
            ("beta", .number(String(o.preference.beta))),
            ("loss", .text(o.preference.kind.rawValue)),
            ("label-smoothing", .number(String(o.preference.labelSmoothing))),
            ("ref-model", o.referenceModel.map(Value.text)),
            ("max-eval-steps", .number(String(t.maxEvalSteps ?? -1))),
            ("sft-opt", t.optima.map { .number(String($0.sft)) }),
            ("dpo-opt", t.optima.map { .number(String($0.dpo)) }),
            ("stop-rule", .flag(t.stopRule != nil)),
            ("ref-front", o.referenceFrontFile.map(Value.text)),
            ("lora-rank", .number(String(o.lora?.rank ?? 0))),
            ("lora-alpha", .number(String(o.lora?.alpha ?? 16))),
            // Empty: the architecture's default, which is also the option's.
            ("lora-targets", o.lora.flatMap { $0.targets.isEmpty ? nil : .text($0.targets.joined(separator: ",")) }),
            ("template", o.template.map(Value.text)),
            ("max-len", o.maxLength.map { .number(String($0)) }),
            ("eval-fraction", .number(String(o.evalFraction))),
            ("eval-every", .number(String(t.evalEvery ?? 0))),
            ("checkpoint-every", t.checkpointEvery.map { .number(String($0)) }),
            ("keep-checkpoints", .number(String(t.keepCheckpoints ?? 0))),
            ("demo-examples", .number(String(o.demoExamples))),
            ("strict", .flag(o.strictData)),
            ("seed", .number(String(o.modelSeed))),
            ("eval-suite", o.evalSuite.map { .text($0.file) }),
            ("eval-shots", o.evalSuite.map { .number(String($0.shots)) }),
            ("gradient-checkpointing", o.gradientCheckpointing.map(Value.flag)),
        ]
        list.removeAll { $0.value == nil }
        return list
    }

    enum Value: Equatable {
        case text(String)
        case number(String)
        case flag(Bool)

        /// YAML: strings as JSON strings (a valid YAML double-quoted scalar), numbers and booleans plain.
        var yaml: String {
            switch self {
            case .text(let s):
                let encoder = JSONEncoder()
                encoder.outputFormatting = .withoutEscapingSlashes
                let data = (try? encoder.encode(s)) ?? Data("\"\"".utf8)
                return String(decoding: data, as: UTF8.self)
            case .number(let s): return s
            case .flag(let on): return on ? "true" : "false"
            }
        }
    }

    static func yaml(_ entries: [(key: String, value: Value?)]) -> String {
        entries.compactMap { entry in entry.value.map { "\(entry.key): \($0.yaml)\n" } }.joined()
    }
}
