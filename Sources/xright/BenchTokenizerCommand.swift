import ArgumentParser
import Foundation
import JSON
import Text

/// Measures single-threaded encoding throughput of our tokenizer against Python `tokenizers` on the same texts.
///
/// Encodes every field (instruction, input, output) of an Alpaca JSON file, one `encode` call per text, and
/// runs scripts/bench/tokenizer_python.py (Python `tokenizers`, `encode` per text, RAYON_NUM_THREADS=1) in the
/// same run. MB/s counts 10^6 bytes of UTF-8 text over the fastest pass.
struct BenchTokenizer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Tokenizer encoding throughput, ours against Python tokenizers (single thread).")

    /// tokenizer.json, a directory holding one (or encoder.json + vocab.bpe), or `byte`.
    @Option(help: "tokenizer.json, a directory holding one (or encoder.json + vocab.bpe), or 'byte'. Default: pythia_tokenizer.json of the shared data.")
    var tokenizer: String?

    @Option(help: "Alpaca JSON file whose instruction, input and output fields are encoded. Default: alpaca_5000.json of the shared data.")
    var data: String?

    @Option(help: "Timed passes over the texts; the fastest counts.")
    var passes: Int = 3

    @Option(help: "Python interpreter that has the tokenizers package.")
    var python: String = "python3"

    @Flag(help: "Print one JSON object instead of text.")
    var json = false

    func validate() throws {
        guard passes >= 1 else { throw ValidationError("--passes must be at least 1, got \(passes)") }
        if let data, !FileManager.default.fileExists(atPath: data) {
            throw ValidationError("--data \(data): no such file; give an Alpaca JSON file")
        }
        if tokenizer == nil || data == nil, BenchPaths.sharedData() == nil {
            throw ValidationError("the shared data directory was not found (../shared/data or XRIGHT_SHARED_DATA); pass --tokenizer and --data")
        }
    }

    func run() throws {
        let tokenizerPath = tokenizer ?? BenchPaths.sharedData()!.appendingPathComponent("pythia_tokenizer.json").path
        let dataPath = data ?? BenchPaths.sharedData()!.appendingPathComponent("alpaca_5000.json").path
        let loaded = try TokenizerLoader.load(path: tokenizerPath)
        let texts = try BenchTokenizer.alpacaTexts(dataPath)

        let ours = TokenizerBenchmark.measure(loaded, texts: texts, passes: passes) { pass, done in
            if done == texts.count {
                BenchTokenizer.progress("xright pass \(pass + 1)/\(passes): \(done) texts")
            }
        }
        let python = runPython(tokenizerPath: tokenizerPath, dataPath: dataPath)

        if json {
            printJSON(tokenizerPath: tokenizerPath, dataPath: dataPath, vocabularySize: loaded.vocabularySize,
                      ours: ours, python: python)
        } else {
            printText(tokenizerPath: tokenizerPath, dataPath: dataPath, vocabularySize: loaded.vocabularySize,
                      ours: ours, python: python)
        }
    }

    /// The instruction, input and output of every record, in file order (as the Python script reads them).
    static func alpacaTexts(_ path: String) throws -> [String] {
        guard let bytes = FileManager.default.contents(atPath: path) else {
            throw ValidationError("--data \(path): cannot be read")
        }
        let root: JSONValue
        do {
            root = try JSONValue.parse([UInt8](bytes))
        } catch let error as JSONError {
            throw ValidationError("--data \(path): \(error)")
        }
        guard let records = root.arrayValue else {
            throw ValidationError("--data \(path): expected a JSON array of Alpaca records, got \(root.typeName)")
        }
        var texts: [String] = []
        texts.reserveCapacity(records.count * 3)
        for (index, record) in records.enumerated() {
            for field in ["instruction", "input", "output"] {
                guard let text = record.objectValue?[field]?.stringValue else {
                    throw ValidationError("--data \(path): record \(index): expected a string field \"\(field)\"")
                }
                texts.append(text)
            }
        }
        return texts
    }

    // MARK: Python baseline

    struct PythonResult {
        var throughput: TokenizerThroughput?
        var version: String?
        var unavailable: String?
    }

    func runPython(tokenizerPath: String, dataPath: String) -> PythonResult {
        if tokenizerPath == TokenizerLoader.byteTokenizerName {
            return PythonResult(unavailable: "the byte tokenizer has no Python tokenizers equivalent")
        }
        guard let script = BenchPaths.pythonScript() else {
            return PythonResult(unavailable: "scripts/bench/tokenizer_python.py not found (run from the checkout)")
        }
        BenchTokenizer.progress("python tokenizers: \(script.path)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [python, script.path, "--tokenizer", tokenizerPath, "--data", dataPath,
                             "--passes", String(passes)]
        var environment = ProcessInfo.processInfo.environment
        environment["RAYON_NUM_THREADS"] = "1"
        environment["TOKENIZERS_PARALLELISM"] = "false"
        process.environment = environment
        // stderr goes to a file: a chatty child can then never block on a full pipe while we read stdout.
        let errorFile = FileManager.default.temporaryDirectory
            .appendingPathComponent("xright-bench-python-\(ProcessInfo.processInfo.processIdentifier).err")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errorFile) }
        let output = Pipe()
        process.standardOutput = output
        do {
            process.standardError = try FileHandle(forWritingTo: errorFile)
            try process.run()
        } catch {
            return PythonResult(unavailable: "cannot start \(python): \(error.localizedDescription)")
        }
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errorText = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        for line in errorText.split(separator: "\n") where line.hasPrefix("python pass") {
            BenchTokenizer.progress(String(line))
        }
        guard process.terminationStatus == 0 else {
            let reason = errorText.split(separator: "\n").last.map(String.init)
                ?? "\(python) exited with status \(process.terminationStatus)"
            return PythonResult(unavailable: reason)
        }
        guard let report = try? JSONValue.parse([UInt8](data)).objectValue,
              let seconds = report["pass_seconds"]?.arrayValue?.compactMap(\.doubleValue),
              let bytes = report["bytes"]?.intValue, let texts = report["texts"]?.intValue,
              let tokens = report["tokens"]?.intValue else {
            return PythonResult(unavailable: "unexpected output from \(script.lastPathComponent): \(String(decoding: data.prefix(200), as: UTF8.self))")
        }
        return PythonResult(throughput: TokenizerThroughput(bytes: bytes, texts: texts, tokens: tokens, passSeconds: seconds),
                            version: report["tokenizers_version"]?.stringValue)
    }

    // MARK: Output

    static func progress(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    func printText(tokenizerPath: String, dataPath: String, vocabularySize: Int, ours: TokenizerThroughput,
                   python: PythonResult) {
        func mb(_ value: Double) -> String { String(format: "%.2f", value) }
        print("tokenizer  \(tokenizerPath) (\(vocabularySize) ids)")
        print("data       \(dataPath): \(ours.texts) texts, \(mb(Double(ours.bytes) / 1e6)) MB")
        print("xright     \(mb(ours.megabytesPerSecond)) MB/s  (best of \(passes); first pass \(mb(ours.firstPassMegabytesPerSecond)) MB/s; \(ours.tokens) tokens)")
        guard let theirs = python.throughput else {
            print("python tokenizers unavailable: \(python.unavailable ?? "unknown reason")")
            return
        }
        print("python     \(mb(theirs.megabytesPerSecond)) MB/s  (tokenizers \(python.version ?? "?"), single thread; first pass \(mb(theirs.firstPassMegabytesPerSecond)) MB/s; \(theirs.tokens) tokens)")
        print("ratio      \(String(format: "%.2f", ours.megabytesPerSecond / theirs.megabytesPerSecond))x  (xright / python)")
        if theirs.tokens != ours.tokens || theirs.bytes != ours.bytes {
            print("warning    token or byte counts differ: xright \(ours.tokens) tokens / \(ours.bytes) bytes, python \(theirs.tokens) / \(theirs.bytes)")
        }
    }

    func printJSON(tokenizerPath: String, dataPath: String, vocabularySize: Int, ours: TokenizerThroughput,
                   python: PythonResult) {
        func side(_ t: TokenizerThroughput) -> [String: Any] {
            ["mb_per_s": t.megabytesPerSecond, "first_pass_mb_per_s": t.firstPassMegabytesPerSecond,
             "pass_seconds": t.passSeconds, "tokens": t.tokens, "bytes": t.bytes, "texts": t.texts]
        }
        var report: [String: Any] = [
            "tokenizer": tokenizerPath, "data": dataPath, "vocabulary_size": vocabularySize,
            "passes": passes, "xright": side(ours),
        ]
        if let theirs = python.throughput {
            var entry = side(theirs)
            entry["tokenizers_version"] = python.version ?? NSNull()
            report["python"] = entry
            report["ratio"] = ours.megabytesPerSecond / theirs.megabytesPerSecond
            report["tokens_match"] = theirs.tokens == ours.tokens
        } else {
            report["python"] = NSNull()
            report["python_unavailable"] = python.unavailable ?? "unknown reason"
        }
        let data = (try? JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])) ?? Data("{}".utf8)
        print(String(decoding: data, as: UTF8.self))
    }
}

/// Where the benchmark finds the shared data and the Python script when not told: next to the working
/// directory, or next to the checkout the binary was built in (.build/<triple>/<config>/xright).
enum BenchPaths {
    static func sharedData() -> URL? {
        var candidates: [URL] = []
        if let env = ProcessInfo.processInfo.environment["XRIGHT_SHARED_DATA"] {
            candidates.append(URL(fileURLWithPath: env))
        }
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        candidates.append(cwd.appendingPathComponent("../shared/data").standardizedFileURL)
        candidates.append(cwd.appendingPathComponent("shared/data"))
        if let root = packageRoot() {
            candidates.append(root.deletingLastPathComponent().appendingPathComponent("shared/data"))
        }
        return candidates.first { isDirectory($0) }
    }

    static func pythonScript() -> URL? {
        let relative = "scripts/bench/tokenizer_python.py"
        let cwd = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        let candidates = [cwd.appendingPathComponent(relative), packageRoot()?.appendingPathComponent(relative)]
        return candidates.compactMap { $0 }.first { FileManager.default.fileExists(atPath: $0.path) }
    }

    /// The nearest directory above the executable that holds Package.swift.
    static func packageRoot() -> URL? {
        let executable = Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments[0])
        var url = executable.resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) { return url }
            url = url.deletingLastPathComponent()
        }
        return nil
    }

    private static func isDirectory(_ url: URL) -> Bool {
        var flag: ObjCBool = false
        return FileManager.default.fileExists(atPath: url.path, isDirectory: &flag) && flag.boolValue
    }
}
