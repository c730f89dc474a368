import Foundation
import XCTest
import Engine
import TestSupport

/// Qwen2 (q/k/v biases, no o_proj bias) and Mistral (no biases, a sliding window) run on the Llama model: against
/// transformers' Qwen2ForCausalLM and MistralForCausalLM in float64 (fixtures by
/// scripts/goldens/make_qwen2_mistral_goldens.py), logits within 1e-4 relative and every gradient within 1e-3;
/// saved directories load back in transformers as the same class with the same logits. xright has no sliding
/// window: a Mistral model is limited to the window's length instead.
final class Qwen2MistralGoldenTests: XCTestCase {
    override func setUp() { EngineThreads.configure(2) }

    static let goldenNames = ["qwen2-gqa4x2-bias", "mistral-gqa4x1-window"]

    func test_configs_keepEachArchitecturesShape() throws {
        let qwen = try LlamaGoldenTests.loadGolden("qwen2-gqa4x2-bias").model.config
        XCTAssertEqual(qwen.modelType, "qwen2")
        XCTAssertTrue(qwen.qkvBias)
        XCTAssertFalse(qwen.outputBias)
        XCTAssertEqual("\(qwen.numHeads):\(qwen.numKVHeads)", "4:2")
        let mistral = try LlamaGoldenTests.loadGolden("mistral-gqa4x1-window").model.config
        XCTAssertEqual(mistral.modelType, "mistral")
        XCTAssertFalse(mistral.qkvBias || mistral.outputBias)
        XCTAssertEqual(mistral.maxPositions, 16, "positions are limited to the sliding window (16 of 64)")
    }

    func test_logitsLossAndGradients_matchTransformers() throws {
        for name in Self.goldenNames {
            let g = try LlamaGoldenTests.loadGolden(name)
            XCTAssertLessThan(LlamaGoldenTests.worstLogitError(g, g.model), 1e-4, "\(name): worst relative logit error")
            g.model.parameters.setTrainable(true)
            g.model.parameters.zeroGradients()
            let logProbs = g.model.forward(g.batch)
            let scored = g.batch.targets.filter { $0 >= 0 }.count
            let loss = -zip(logProbs, g.batch.targets).reduce(0.0) { $0 + ($1.1 >= 0 ? Double($1.0) : 0) } / Double(scored)
            XCTAssertEqual(loss, Double(g.loss), accuracy: 1e-4 * abs(Double(g.loss)), "\(name): loss")
            g.model.backward(dLogProbs: g.batch.targets.map { $0 >= 0 ? -1 / Float(scored) : 0 })
            for e in g.model.parameters.entries {
                let ref = try g.file.floats("grad." + e.name, expectedShape: e.shape)
                let got = try XCTUnwrap(g.model.parameters.gradientArray(e.name))
                let scale = max(ref.map { abs(Double($0)) }.max() ?? 0, 1e-8)
                let worst = zip(got, ref).map { abs(Double($0) - Double($1)) }.max() ?? 0
                XCTAssertLessThan(worst / scale, 1e-3, "\(name): gradient of \(e.name)")
            }
        }
    }

    /// Runs the generator script in check mode; skips when Python transformers is not installed.
    func test_savedModels_loadInTransformersAsTheSameClass() throws {
        let probe = Process()
        probe.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        probe.arguments = ["python3", "-c", "import transformers, torch"]
        probe.standardOutput = FileHandle.nullDevice
        probe.standardError = FileHandle.nullDevice
        try probe.run()
        probe.waitUntilExit()
        guard probe.terminationStatus == 0 else { throw XCTSkip("Python transformers/torch not installed") }
        let script = TestPaths.packageRoot.appendingPathComponent("scripts/goldens/make_qwen2_mistral_goldens.py")
        var arguments = ["python3", script.path]
        var directories = [URL]()
        defer { directories.forEach { try? FileManager.default.removeItem(at: $0) } }
        for name in Self.goldenNames {
            let dir = try TestPaths.temporaryDirectory()
            directories.append(dir)
            try ModelDirectory.save(try LlamaGoldenTests.loadGolden(name).model, to: dir)
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
        XCTAssertEqual(check.terminationStatus, 0, output)
        XCTAssertEqual(output.components(separatedBy: "OK:").count - 1, Self.goldenNames.count, output)
    }
}
