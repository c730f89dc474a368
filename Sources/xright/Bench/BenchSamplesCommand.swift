import ArgumentParser
import Engine
import Foundation
import Training

/// `xright bench samples`: what sampling the probe prompts costs a run, at the defaults or any train flags.
struct BenchSamplesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "samples",
        abstract: "Training time with and without probe samples (the Samples panel), in alternating pairs.",
        discussion: """
            Runs the same training (the demo's defaults, or the train flags given: --model, --lora-rank, …) with \
            samples as `xright train` takes them (default: automatic, ≤ 10% of training time; --sample-every N) and \
            with none, alternating which goes first, for --pairs pairs, without a run directory. Prints each run's \
            wall time, the time its sample events report, and the medians: the share of the sampled run's time \
            that sampling took, measured two ways (the difference of the runs, and the samples' own seconds).
            """)

    @OptionGroup var options: TrainArguments

    @Option(help: "Alternating pairs (sampled, unsampled) to run.")
    var pairs: Int = 3

    func validate() throws {
        guard pairs >= 1 else { throw ValidationError("--pairs must be at least 1, got \(pairs)") }
    }

    func run() throws {
        options.engine.configure(fallback: nil)
        var arguments = options
        if arguments.maxSteps == nil { arguments.maxSteps = 200 }
        var sampledOptions = try arguments.runOptions()
        guard let schedule = try arguments.probeSchedule() else {
            throw CLIError("--sample-every 0 samples nothing: there is nothing to measure")
        }
        sampledOptions.samples = schedule
        var plainOptions = sampledOptions
        plainOptions.samples = nil
        let every = schedule.every.map { "every \($0) steps" } ?? "automatic (≤ \(Int(schedule.maxShare * 100))%)"
        print("CPU: \(BenchGenerateCommand.cpuName()); threads \(EngineThreads.count); \(arguments.maxSteps!) steps; "
              + "samples \(every), \(schedule.maxNewTokens) new tokens; \(pairs) alternating pairs")

        var plain: [Double] = [], sampled: [Double] = [], sampling: [Double] = [], rounds: [Int] = []
        for pair in 0..<pairs {
            for withSamples in pair % 2 == 0 ? [true, false] : [false, true] {
                let result = try Self.time(withSamples ? sampledOptions : plainOptions)
                if withSamples {
                    sampled.append(result.seconds)
                    sampling.append(result.samplingSeconds)
                    rounds.append(result.rounds)
                } else {
                    plain.append(result.seconds)
                }
            }
            print(String(format: "  pair %d: without samples %.2f s, with %.2f s (%d rounds of samples taking %.2f s): "
                         + "share %.1f%% by difference, %.1f%% by the samples' own seconds",
                         pair + 1, plain.last!, sampled.last!, rounds.last!, sampling.last!,
                         100 * (sampled.last! - plain.last!) / sampled.last!, 100 * sampling.last! / sampled.last!))
        }
        let byDifference = zip(plain, sampled).map { 100 * ($1 - $0) / $1 }
        let byOwnSeconds = zip(sampling, sampled).map { 100 * $0 / $1 }
        print(String(format: "median: without %.2f s, with %.2f s; sampling share %.1f%% by difference (per pair), "
                     + "%.1f%% by the samples' own seconds", Self.median(plain), Self.median(sampled),
                     Self.median(byDifference), Self.median(byOwnSeconds)))
        if let load = try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8) {
            print("load average at the end: \(load.split(separator: " ").prefix(3).joined(separator: " ")) "
                  + "(on a loaded machine the difference of two runs is noisy; the samples' own seconds are measured inside the sampled run)")
        }
    }

    struct Timing { var seconds: Double; var samplingSeconds: Double; var rounds: Int }

    static func time(_ options: RunOptions) throws -> Timing {
        let prepared = try RunSetup.prepare(options, runDirectory: nil, programVersion: XRightVersion.string)
        let lock = NSLock()
        var samplingSeconds = 0.0, rounds = Set<Int>()
        prepared.session.subscribe { record in
            guard case .sample(let s) = record.event else { return }
            lock.lock()
            samplingSeconds += s.seconds
            rounds.insert(s.step)
            lock.unlock()
        }
        let start = DispatchTime.now().uptimeNanoseconds
        try prepared.session.run()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        lock.lock()
        defer { lock.unlock() }
        return Timing(seconds: seconds, samplingSeconds: samplingSeconds, rounds: rounds.count)
    }

    static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }
}
