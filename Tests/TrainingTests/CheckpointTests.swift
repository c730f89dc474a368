import Foundation
import TestSupport
import Training
import XCTest

final class CheckpointTests: XCTestCase {
    private var root: URL!

    override func setUpWithError() throws {
        root = try TestPaths.temporaryDirectory("xright-checkpoints")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: root)
    }

    private func names(_ dir: URL) throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    }

    func test_periodicCheckpoints_areCompleteDirectories_withNoTemporaryLeftBehind() throws {
        let dir = RunDirectory(root)
        let run = try StandInRun(TrainingConfig(strategy: .alright, lambda: lambda(0.5), maxSteps: 25, checkpointEvery: 10), runDirectory: dir)
        try run.run()
        XCTAssertEqual(try names(dir.checkpoints), ["step-000010", "step-000020", "step-000025"])
        for name in try names(dir.checkpoints) {
            let checkpoint = try CheckpointStore.open(dir.checkpoints.appendingPathComponent(name))
            XCTAssertEqual(try names(checkpoint.directory), ["backend", "session.json"])
            XCTAssertEqual(try names(checkpoint.backendDirectory), ["state.bin"])
            XCTAssertEqual(try SessionState.load(checkpoint.sessionFile).step, checkpoint.step)
        }
        let saved = run.events.compactMap { if case .checkpointSaved(let c) = $0 { return c.step } else { return nil } }
        XCTAssertEqual(saved, [10, 20, 25])
    }

    func test_latest_ignoresIncompleteAndTemporaryDirectories() throws {
        let store = CheckpointStore(directory: root)
        let backend = QuadraticBackend()
        try store.save(step: 7, sessionState: Data("{}".utf8), backend: backend)
        try store.save(step: 12, sessionState: Data("{}".utf8), backend: backend)
        // What a crash mid-write leaves, and an unrelated folder.
        try FileManager.default.createDirectory(at: root.appendingPathComponent(".tmp-step-000030-abcd/backend"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("step-000040/backend"), withIntermediateDirectories: true)
        try FileManager.default.createDirectory(at: root.appendingPathComponent("notes"), withIntermediateDirectories: true)
        XCTAssertEqual(try store.list().map(\.step), [7, 12])
        XCTAssertEqual(try store.latest()?.step, 12)
        XCTAssertEqual(try CheckpointStore(directory: root.appendingPathComponent("absent")).latest(), nil)
    }

    func test_checkpointUnderARegularFile_failsClearly() throws {
        let file = root.appendingPathComponent("not-a-directory")
        try Data("x".utf8).write(to: file)
        let store = CheckpointStore(directory: file.appendingPathComponent("checkpoints"))
        XCTAssertThrowsError(try store.save(step: 3, sessionState: Data("{}".utf8), backend: QuadraticBackend())) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("step-000003") && text.contains("Not a directory") && text.contains("earlier checkpoints are kept"), text)
        }
    }

    func test_checkpoint_whenTheDiskFills_keepsThePreviousOne_andLeavesNoPartialDirectory() throws {
        let store = CheckpointStore(directory: root)
        let backend = QuadraticBackend()
        try store.save(step: 10, sessionState: Data("{\"step\":10}".utf8), backend: backend)
        store.writeFile = { _, url in throw FileSystemError(path: url.path, operation: "write", code: ENOSPC) }
        XCTAssertThrowsError(try store.save(step: 20, sessionState: Data("{}".utf8), backend: backend)) { error in
            let text = "\(error)"
            XCTAssertTrue(text.contains("No space left on device") && text.contains("session.json"), text)
        }
        XCTAssertEqual(try names(root), ["step-000010"])
        XCTAssertEqual(try Data(contentsOf: root.appendingPathComponent("step-000010/session.json")), Data("{\"step\":10}".utf8))
    }

    func test_checkpoint_whenTheBackendCannotSave_keepsThePreviousOne() throws {
        let store = CheckpointStore(directory: root)
        let backend = QuadraticBackend()
        try store.save(step: 1, sessionState: Data("{}".utf8), backend: backend)
        backend.failSave = true
        XCTAssertThrowsError(try store.save(step: 2, sessionState: Data("{}".utf8), backend: backend)) { error in
            XCTAssertTrue("\(error)".contains("saving the model and optimizer state"), "\(error)")
        }
        XCTAssertEqual(try names(root), ["step-000001"])
    }

    func test_checkpoint_inAReadOnlyDirectory_failsClearly() throws {
        if getuid() == 0 { throw XCTSkip("root ignores directory permissions; the failing-writer tests cover this path") }
        let store = CheckpointStore(directory: root)
        try store.save(step: 1, sessionState: Data("{}".utf8), backend: QuadraticBackend())
        chmod(root.path, 0o555)
        defer { chmod(root.path, 0o755) }
        XCTAssertThrowsError(try store.save(step: 2, sessionState: Data("{}".utf8), backend: QuadraticBackend())) { error in
            XCTAssertTrue("\(error)".contains("Permission denied"), "\(error)")
        }
        XCTAssertEqual(try store.latest()?.step, 1)
    }

    func test_checkpointingTheSameStepTwice_replacesIt() throws {
        let store = CheckpointStore(directory: root)
        try store.save(step: 4, sessionState: Data("{\"v\":1}".utf8), backend: QuadraticBackend())
        try store.save(step: 4, sessionState: Data("{\"v\":2}".utf8), backend: QuadraticBackend())
        XCTAssertEqual(try names(root), ["step-000004"])
        XCTAssertEqual(try Data(contentsOf: root.appendingPathComponent("step-000004/session.json")), Data("{\"v\":2}".utf8))
    }

    func test_keepLast_prunesOlderCheckpoints() throws {
        let store = CheckpointStore(directory: root, keepLast: 2)
        for step in [1, 2, 3, 4] { try store.save(step: step, sessionState: Data("{}".utf8), backend: QuadraticBackend()) }
        XCTAssertEqual(try store.list().map(\.step), [3, 4])
    }

    func test_sessionCheckpointFailure_isAWarning_andTheRunGoesOn() throws {
        let backend = QuadraticBackend()
        backend.failSave = true
        let run = try StandInRun(TrainingConfig(strategy: .mix, lambda: lambda(0.5), maxSteps: 6, checkpointEvery: 3),
                                 runDirectory: RunDirectory(root), backend: backend)
        let finished = try run.run()
        XCTAssertEqual(finished.reason, .maxSteps)
        XCTAssertEqual(run.steps.count, 6)
        let failures = run.warnings.filter { $0.kind == .checkpointFailed }
        XCTAssertEqual(failures.map(\.step), [3, 6, 6], "steps 3 and 6, then the final checkpoint")
        XCTAssertTrue(failures[0].message.contains("No space left on device (simulated)"), failures[0].message)
        XCTAssertEqual(try CheckpointStore(directory: RunDirectory(root).checkpoints).list(), [])
    }
}
