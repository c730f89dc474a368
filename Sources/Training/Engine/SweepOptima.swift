import Foundation

/// What optima were measured on: a later run may use them only when it trains the same model on the same data.
public struct OptimaSource: Codable, Equatable, Sendable {
    public var modelPreset: String?
    public var modelDirectory: String?
    public var tokenizer: String?
    public var sftData: String?
    public var preferenceData: String?
    public var demoExamples: Int
    public var evalFraction: Double
    public var dataSeed: UInt64
    public var template: String?
    public var maxLength: Int?
    /// Optional: optima records from before these options existed decode as nil (not used).
    public var sftFromPreference: String?
    public var sftMaxSamples: Int?
    public var preferenceMaxSamples: Int?

    public init(_ options: RunOptions) {
        modelPreset = options.modelPreset
        modelDirectory = options.modelDirectory
        tokenizer = options.tokenizer
        sftData = options.sftData
        preferenceData = options.preferenceData
        demoExamples = options.demoExamples
        evalFraction = options.evalFraction
        dataSeed = options.dataSeed
        template = options.template
        maxLength = options.maxLength
        sftFromPreference = options.sftFromPreference
        sftMaxSamples = options.sftMaxSamples
        preferenceMaxSamples = options.preferenceMaxSamples
    }

    /// The first setting that differs from `other`, as "name: this vs other", or nil when they match.
    public func firstDifference(from other: OptimaSource) -> String? {
        func d<T: Equatable>(_ name: String, _ a: T, _ b: T) -> String? { a == b ? nil : "\(name): \(a) vs \(b)" }
        func text(_ value: Int?) -> String { value.map(String.init) ?? "-" }
        let differences: [() -> String?] = [
            { d("preset", modelPreset ?? "-", other.modelPreset ?? "-") },
            { d("model", modelDirectory ?? "-", other.modelDirectory ?? "-") },
            { d("tokenizer", tokenizer ?? "-", other.tokenizer ?? "-") },
            { d("sft", sftData ?? "demo", other.sftData ?? "demo") },
            { d("pref", preferenceData ?? "demo", other.preferenceData ?? "demo") },
            { d("demo-examples", demoExamples, other.demoExamples) },
            { d("eval-fraction", evalFraction, other.evalFraction) },
            { d("seed", dataSeed, other.dataSeed) },
            { d("template", template ?? "-", other.template ?? "-") },
            { d("max-len", text(maxLength), text(other.maxLength)) },
            { d("sft-from-pref", sftFromPreference ?? "-", other.sftFromPreference ?? "-") },
            { d("sft-max-samples", text(sftMaxSamples), text(other.sftMaxSamples)) },
            { d("pref-max-samples", text(preferenceMaxSamples), text(other.preferenceMaxSamples)) },
        ]
        return differences.lazy.compactMap { $0() }.first
    }
}

/// `optima.json`: f_sft* and f_dpo* (final held-out losses of an sft-only and a dpo-only run), written by
/// `xright optimum` and `xright sweep`, read by `xright train` when --sft-opt/--dpo-opt are not given.
public struct OptimaRecord: Codable, Equatable, Sendable {
    public var sftOpt: Double
    public var dpoOpt: Double
    public var sftRun: String
    public var dpoRun: String
    public var source: OptimaSource

    enum CodingKeys: String, CodingKey {
        case sftOpt = "sft_opt", dpoOpt = "dpo_opt", sftRun = "sft_run", dpoRun = "dpo_run", source
    }

    public init(sftOpt: Double, dpoOpt: Double, sftRun: String, dpoRun: String, source: OptimaSource) {
        self.sftOpt = sftOpt
        self.dpoOpt = dpoOpt
        self.sftRun = sftRun
        self.dpoRun = dpoRun
        self.source = source
    }

    public var optima: Optima { Optima(sft: sftOpt, dpo: dpoOpt) }

    /// Where a runs root keeps its optima.
    public static func defaultFile(runsRoot: URL) -> URL { runsRoot.appendingPathComponent("optima.json") }

    /// Written atomically (temporary file and rename): a reader never sees half a file.
    public func write(to url: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        do { try encoder.encode(self).write(to: url, options: .atomic) } catch {
            throw SessionSetupError.invalid(what: url.path, message: "cannot write the optima: \(error.localizedDescription)")
        }
    }

    public static func read(_ url: URL) throws -> OptimaRecord {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw SessionSetupError.invalid(what: url.path, message: "cannot read: \(error.localizedDescription)")
        }
        let record: OptimaRecord
        do { record = try JSONDecoder().decode(OptimaRecord.self, from: data) } catch let DecodingError.keyNotFound(key, _) {
            throw SessionSetupError.invalid(what: url.path, message: "field '\(key.stringValue)' missing; expected "
                                            + "{\"sft_opt\": number, \"dpo_opt\": number, \"sft_run\", \"dpo_run\", \"source\"}")
        } catch {
            throw SessionSetupError.invalid(what: url.path, message: "not an optima file written by xright optimum: \(error)")
        }
        guard record.sftOpt.isFinite, record.dpoOpt.isFinite else {
            throw SessionSetupError.invalid(what: url.path, message: "sft_opt and dpo_opt must be finite, got "
                                            + "\(record.sftOpt) and \(record.dpoOpt)")
        }
        return record
    }
}
