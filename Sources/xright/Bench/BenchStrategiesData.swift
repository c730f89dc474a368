import Data
import Foundation

/// The demo task's records as JSONL files, so SFT and DPO epochs can take the same number of steps: a DPO step
/// takes half as many pairs as an SFT step takes examples (the same number of sequences), so the preference set
/// gets half as many records. Written next to the runs, so each run's log names data that can be inspected.
enum BenchStrategiesData {
    static func write(sftCount: Int, seed: UInt64, to directory: URL) throws -> (sft: URL, preference: URL) {
        let task = try DemoTask(seed: seed)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let sft = directory.appendingPathComponent("demo_sft.jsonl")
        let preference = directory.appendingPathComponent("demo_pref.jsonl")
        try lines(task.sftExamples(count: sftCount).map { ["prompt": $0.prompt, "response": $0.response] }).write(to: sft)
        try lines(task.preferencePairs(count: max(1, sftCount / 2)).map {
            ["prompt": $0.prompt, "chosen": $0.chosen, "rejected": $0.rejected]
        }).write(to: preference)
        return (sft, preference)
    }

    private static func lines(_ records: [[String: String]]) throws -> Data {
        var out = Data()
        for record in records {
            out.append(try JSONSerialization.data(withJSONObject: record, options: [.sortedKeys]))
            out.append(0x0A)
        }
        return out
    }
}
