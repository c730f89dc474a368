import Engine
import Foundation
import TestSupport
import XCTest

/// The golden check every architecture shares: the mean token loss of `model` on `batch` equals transformers' `loss`
/// (relative 1e-4), and every parameter's gradient equals the golden file's `grad.<name>` within 1e-3 of that
/// tensor's largest magnitude (the goldens are computed in float64 by scripts/goldens/make_*_goldens.py).
func assertLossAndGradientsMatchGolden(_ model: any CausalLanguageModel, batch: TokenBatch, loss expected: Float,
                                       file: SafeTensorsFile, name: String,
                                       sourceFile: StaticString = #filePath, line: UInt = #line) throws {
    model.parameters.setTrainable(true)
    model.parameters.zeroGradients()
    let logProbs = model.forward(batch)
    let scored = batch.targets.filter { $0 >= 0 }.count
    let loss = -zip(logProbs, batch.targets).reduce(0.0) { $0 + ($1.1 >= 0 ? Double($1.0) : 0) } / Double(scored)
    XCTAssertEqual(loss, Double(expected), accuracy: 1e-4 * abs(Double(expected)), "\(name): loss", file: sourceFile, line: line)
    model.backward(dLogProbs: batch.targets.map { $0 >= 0 ? -1 / Float(scored) : 0 })
    for e in model.parameters.entries {
        let ref = try file.floats("grad." + e.name, expectedShape: e.shape)
        let got = try XCTUnwrap(model.parameters.gradientArray(e.name), file: sourceFile, line: line)
        let scale = max(ref.map { abs(Double($0)) }.max() ?? 0, 1e-8)
        let worst = zip(got, ref).map { abs(Double($0) - Double($1)) }.max() ?? 0
        XCTAssertLessThan(worst / scale, 1e-3, "\(name): gradient of \(e.name)", file: sourceFile, line: line)
    }
}

/// Saves each golden model with xright and runs the committed generator `script` in check mode on the directories:
/// transformers must load each as the golden's class with the golden logits (one "OK:" line per model). Skips when
/// Python transformers/torch is not installed.
func assertTransformersLoadsSavedGoldens(script: String, models: [(name: String, model: any CausalLanguageModel)],
                                         sourceFile: StaticString = #filePath, line: UInt = #line) throws {
    let probe = Process()
    probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    probe.arguments = ["python3", "-c", "import transformers, torch"]
    probe.standardOutput = FileHandle.nullDevice
    probe.standardError = FileHandle.nullDevice
    try probe.run()
    probe.waitUntilExit()
    guard probe.terminationStatus == 0 else { throw XCTSkip("Python transformers/torch not installed") }
    var arguments = ["python3", TestPaths.packageRoot.appendingPathComponent("scripts/goldens/\(script)").path]
    var directories = [URL]()
    defer { directories.forEach { try? FileManager.default.removeItem(at: $0) } }
    for (name, model) in models {
        let dir = try TestPaths.temporaryDirectory()
        directories.append(dir)
        try ModelDirectory.save(model, to: dir)
        arguments += ["--check-xright-model", dir.path, "--golden", TestPaths.fixture("EngineTests", name).path]
    }
    let check = Process()
    check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    check.arguments = arguments
    let pipe = Pipe()
    check.standardOutput = pipe
    check.standardError = pipe
    try check.run()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    check.waitUntilExit()
    XCTAssertEqual(check.terminationStatus, 0, output, file: sourceFile, line: line)
    XCTAssertEqual(output.components(separatedBy: "OK:").count - 1, models.count, output, file: sourceFile, line: line)
}
