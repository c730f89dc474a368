import Engine
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
