import Foundation
import TestSupport
import Telemetry
import XCTest

final class ProcessStatsTests: XCTestCase {
    func test_parseStat_countsFieldsFromTheLastParenthesis() throws {
        // The command name may hold spaces and parentheses; utime = 1500, stime = 250.
        let line = "4242 (my (odd) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1500 250 0 0 20 0 3 0 100 1000 50"
        XCTAssertEqual(try ProcessStats.parseStat(line).ticks, 1750)
    }

    func test_parseStat_reportsTooFewFields() {
        XCTAssertThrowsError(try ProcessStats.parseStat("1 (x) S 1 2")) { error in
            XCTAssertEqual(error as? TelemetryError, .malformed(source: "/proc/self/stat", line: 1, field: "utime",
                                                               expected: "at least 15 fields", found: "5 fields"))
        }
    }

    func test_parseStat_reportsMissingCommandAndNonNumbers() {
        XCTAssertThrowsError(try ProcessStats.parseStat("garbage"))
        XCTAssertThrowsError(try ProcessStats.parseStat("1 (x) S 1 2 3 4 5 6 7 8 9 10 a b")) { error in
            XCTAssertTrue("\(error)".contains("utime/stime"), "\(error)")
        }
    }

    func test_parseStatm_readsResidentPages() throws {
        XCTAssertEqual(try ProcessStats.parseStatm("1000 250 30 1 0 80 0\n", pageSize: 4096), 250 * 4096)
        XCTAssertThrowsError(try ProcessStats.parseStatm("1000", pageSize: 4096))
    }

    func test_liveReadings_areAvailableOnLinux() throws {
        #if os(Linux)
        XCTAssertNotNil(ProcessStats.readCPUTimes())
        XCTAssertGreaterThan(ProcessStats.readResidentBytes() ?? 0, 1 << 20)
        #else
        throw XCTSkip("/proc is Linux only")
        #endif
    }

    func test_cpuMeter_givesPercentOfOneCore() {
        var meter = CPUUsageMeter()
        XCTAssertNil(meter.sample(ticks: 100, wallNanoseconds: 1_000_000_000, ticksPerSecond: 100))
        // 150 ticks = 1.5 s of CPU over 1 s of wall time.
        XCTAssertEqual(meter.sample(ticks: 250, wallNanoseconds: 2_000_000_000, ticksPerSecond: 100)!, 150, accuracy: 1e-9)
    }
}

final class NvidiaSMITests: XCTestCase {
    func test_parse_readsOneGPUPerLine() throws {
        let gpus = try NvidiaSMI.parse("0, NVIDIA A100-SXM4-40GB, 87, 10240, 40960, 65, 251.33\n1, Tesla T4, [N/A], 5, 15360, 40, [Not Supported]\n")
        XCTAssertEqual(gpus.count, 2)
        XCTAssertEqual(gpus[0], GPUReading(index: 0, name: "NVIDIA A100-SXM4-40GB", utilizationPercent: 87, memoryUsedMiB: 10240,
                                           memoryTotalMiB: 40960, temperatureCelsius: 65, powerWatts: 251.33))
        XCTAssertNil(gpus[1].utilizationPercent)
        XCTAssertNil(gpus[1].powerWatts)
    }

    func test_parse_reportsWrongColumnCountWithLine() {
        XCTAssertThrowsError(try NvidiaSMI.parse("0, A, 1, 2, 3, 4, 5\n1, B, 1, 2\n")) { error in
            guard case let .malformed(_, line, field, _, found)? = error as? TelemetryError else { return XCTFail("\(error)") }
            XCTAssertEqual(line, 2)
            XCTAssertEqual(field, "columns")
            XCTAssertTrue(found.hasPrefix("4 fields"), found)
        }
    }

    func test_parse_reportsNonNumericField() {
        XCTAssertThrowsError(try NvidiaSMI.parse("0, A, lots, 2, 3, 4, 5")) { error in
            XCTAssertEqual(error as? TelemetryError, .malformed(source: "nvidia-smi output", line: 1, field: "utilization.gpu",
                                                               expected: "a number or [N/A]", found: "lots"))
        }
        XCTAssertThrowsError(try NvidiaSMI.parse("x, A, 1, 2, 3, 4, 5"))
    }

    func test_parse_reportsEmptyOutput() {
        XCTAssertThrowsError(try NvidiaSMI.parse("\n")) { error in
            XCTAssertTrue("\(error)".contains("one line per GPU"), "\(error)")
        }
    }

    private func fakeTool(_ body: String) throws -> URL {
        let dir = try TestPaths.temporaryDirectory("fake-smi")
        let url = dir.appendingPathComponent("nvidia-smi")
        try ("#!/bin/sh\n" + body + "\n").write(to: url, atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: url.path)
        return url
    }

    func test_query_runsTheToolWithTheQueryArguments() throws {
        let tool = try fakeTool("""
            case "$1" in --query-gpu=index,name,*) ;; *) echo "bad args $@" >&2; exit 2;; esac
            echo "0, Fake GPU, 42, 1024, 8192, 55, 120.5"
            """)
        defer { try? FileManager.default.removeItem(at: tool.deletingLastPathComponent()) }
        XCTAssertEqual(NvidiaSMI.locate(path: "/nonexistent:" + tool.deletingLastPathComponent().path), tool.path)
        let gpus = try NvidiaSMI.query(executable: tool.path)
        XCTAssertEqual(gpus.first?.name, "Fake GPU")
        XCTAssertEqual(gpus.first?.utilizationPercent, 42)
    }

    func test_query_reportsAFailingTool() throws {
        let tool = try fakeTool("echo 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver' >&2; exit 9")
        defer { try? FileManager.default.removeItem(at: tool.deletingLastPathComponent()) }
        XCTAssertThrowsError(try NvidiaSMI.query(executable: tool.path)) { error in
            XCTAssertTrue("\(error)".contains("exit status 9"), "\(error)")
            XCTAssertTrue("\(error)".contains("could not communicate"), "\(error)")
        }
    }

    func test_query_givesUpOnAHangingTool() throws {
        let tool = try fakeTool("exec sleep 30")
        defer { try? FileManager.default.removeItem(at: tool.deletingLastPathComponent()) }
        let start = Date()
        XCTAssertThrowsError(try NvidiaSMI.query(executable: tool.path, timeout: 0.5)) { error in
            XCTAssertTrue("\(error)".contains("no answer"), "\(error)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(start), 5)
    }

    func test_probe_usesAFakeNvidiaSMIOnPath() throws {
        let tool = try fakeTool("echo '0, Fake GPU, 42, 1024, 8192, 55, 120.5'")
        defer { try? FileManager.default.removeItem(at: tool.deletingLastPathComponent()) }
        let probe = SystemProbe(options: TelemetryOptions(searchPath: tool.deletingLastPathComponent().path))
        let sample = probe.sample()
        if sample.gpuSource == .nvml { throw XCTSkip("this machine has NVML; nvidia-smi is not consulted") }
        XCTAssertEqual(sample.gpuSource, .nvidiaSMI(path: tool.path))
        XCTAssertEqual(sample.gpus.map(\.name), ["Fake GPU"])
        XCTAssertEqual(sample.warnings, [])
    }

    func test_probe_brokenNvidiaSMIBecomesNoGPUAndAWarning() throws {
        let tool = try fakeTool("echo 'garbage'")
        defer { try? FileManager.default.removeItem(at: tool.deletingLastPathComponent()) }
        let probe = SystemProbe(options: TelemetryOptions(searchPath: tool.deletingLastPathComponent().path))
        let first = probe.sample()
        if first.gpuSource == .nvml { throw XCTSkip("this machine has NVML; nvidia-smi is not consulted") }
        XCTAssertEqual(first.gpus, [])
        XCTAssertEqual(first.gpuSource.label, "no GPU")
        XCTAssertEqual(first.warnings.count, 1)
        XCTAssertTrue(first.warnings[0].contains("nvidia-smi output line 1"), first.warnings[0])
        XCTAssertEqual(probe.sample().warnings, [], "the warning is given once, the tool not asked again")
    }

    func test_probe_noGPUFlagTouchesNoTool() throws {
        let tool = try fakeTool("touch \"$0.ran\"; echo '0, Fake, 1, 1, 1, 1, 1'")
        defer { try? FileManager.default.removeItem(at: tool.deletingLastPathComponent()) }
        let sample = SystemProbe(options: TelemetryOptions(pollGPU: false, searchPath: tool.deletingLastPathComponent().path)).sample()
        XCTAssertEqual(sample.gpuSource, .none(reason: "GPU polling off (--no-gpu)"))
        XCTAssertFalse(FileManager.default.fileExists(atPath: tool.path + ".ran"))
    }

    func test_nvml_isAbsentWithoutADriver() throws {
        if FileManager.default.fileExists(atPath: "/proc/driver/nvidia/version") { throw XCTSkip("an NVIDIA driver is present") }
        XCTAssertNil(NVMLReader())
        XCTAssertNil(NVMLReader(libraryName: "libdefinitely-not-there.so"))
    }

    func test_sampler_publishesSamplesOffTheCallingThread() throws {
        let sampler = TelemetrySampler(options: TelemetryOptions(pollGPU: false, interval: 0.05))
        sampler.start()
        defer { sampler.stop() }
        let deadline = Date(timeIntervalSinceNow: 5)
        while sampler.snapshot().generation < 2 && Date() < deadline { usleep(10_000) }
        XCTAssertGreaterThanOrEqual(sampler.snapshot().generation, 2)
        XCTAssertNotNil(sampler.snapshot().sample?.residentBytes)
    }
}
