import Engine
import Foundation
import TestSupport
import XCTest

final class SafeTensorsWriterTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws { directory = try TestPaths.temporaryDirectory("safetensors-writer") }
    override func tearDownWithError() throws { try? FileManager.default.removeItem(at: directory) }

    private var awkwardValues: [Float] {
        [0, -0.0, 1, -1.5, .infinity, -.infinity, .nan, Float(bitPattern: 0xFFC0_1234), .leastNonzeroMagnitude,
         .greatestFiniteMagnitude, .ulpOfOne, 3.14159265]
    }

    func test_roundTrip_isBitIdenticalIncludingNaNPayloadsAndNegativeZero() throws {
        let url = directory.appendingPathComponent("round.safetensors")
        let values = awkwardValues
        let ramp = (0..<60).map { Float($0) * 0.37 - 5 }
        try SafeTensorsWriter.write(arrays: [
            (name: "b.awkward", shape: [3, 4], values: values),
            (name: "a.ramp", shape: [3, 4, 5], values: ramp),
            (name: "scalar", shape: [], values: [7]),
            (name: "empty", shape: [2, 0], values: []),
        ], metadata: ["format": "pt", "step": "12"], to: url)

        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(file.tensorNames, ["a.ramp", "b.awkward", "empty", "scalar"])
        XCTAssertEqual(file.metadata, ["format": "pt", "step": "12"])
        XCTAssertEqual(try file.floats("b.awkward", expectedShape: [3, 4]).map(\.bitPattern), values.map(\.bitPattern))
        XCTAssertEqual(try file.floats("a.ramp", expectedShape: [3, 4, 5]), ramp)
        XCTAssertEqual(try file.floats("scalar", expectedShape: []), [7])
        XCTAssertEqual(try file.floats("empty", expectedShape: [2, 0]), [])
        XCTAssertEqual(file.info("a.ramp")?.dtype, .f32)
    }

    func test_writer_storesTensorsSortedContiguouslyAfterEightByteAlignedHeader() throws {
        let url = directory.appendingPathComponent("layout.safetensors")
        try SafeTensorsWriter.write(arrays: [(name: "z", shape: [1], values: [1]), (name: "a", shape: [2], values: [2, 3])],
                                    to: url)
        let bytes = try Data(contentsOf: url)
        let headerLength = bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        XCTAssertEqual(headerLength % 8, 0)
        XCTAssertEqual(bytes.count, 8 + headerLength + 12)
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(file.info("a")?.byteRange, 0..<8)
        XCTAssertEqual(file.info("z")?.byteRange, 8..<12)
    }

    func test_writer_escapesNamesAndMetadataSoTheyReadBackUnchanged() throws {
        let url = directory.appendingPathComponent("names.safetensors")
        let name = "layer \"0\"\\weight\n\t\u{1}é🙂"
        let metadata = ["quote\"key": "line\nbreak \\ \u{7f} ü", "empty": ""]
        try SafeTensorsWriter.write(arrays: [(name: name, shape: [1], values: [5])], metadata: metadata, to: url)
        let file = try SafeTensorsFile(contentsOf: url)
        XCTAssertEqual(file.tensorNames, [name])
        XCTAssertEqual(file.metadata, metadata.merging(["format": "pt"]) { a, _ in a })
    }

    func test_writer_marksFilesAsPyTorchFormatUnlessToldOtherwise() throws {
        // transformers 4.x rejects safetensors metadata without "format"; save_pretrained writes "pt".
        let url = directory.appendingPathComponent("format.safetensors")
        try SafeTensorsWriter.write(arrays: [(name: "w", shape: [1], values: [1])], to: url)
        XCTAssertEqual(try SafeTensorsFile(contentsOf: url).metadata, ["format": "pt"])
        try SafeTensorsWriter.write(arrays: [(name: "w", shape: [1], values: [1])], metadata: ["format": "mlx"], to: url)
        XCTAssertEqual(try SafeTensorsFile(contentsOf: url).metadata, ["format": "mlx"])
    }

    func test_writer_replacesExistingFileAndLeavesNoTemporaryFile() throws {
        let url = directory.appendingPathComponent("model.safetensors")
        try SafeTensorsWriter.write(arrays: [(name: "w", shape: [2], values: [1, 2])], to: url)
        try SafeTensorsWriter.write(arrays: [(name: "w", shape: [3], values: [4, 5, 6])], to: url)
        XCTAssertEqual(try SafeTensorsFile(contentsOf: url).floats("w"), [4, 5, 6])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["model.safetensors"])
    }

    func test_writer_keepsOldFileWhenTheNewOneIsRejected() throws {
        let url = directory.appendingPathComponent("model.safetensors")
        try SafeTensorsWriter.write(arrays: [(name: "w", shape: [2], values: [1, 2])], to: url)
        XCTAssertThrowsError(try SafeTensorsWriter.write(arrays: [(name: "w", shape: [3], values: [1])], to: url))
        XCTAssertEqual(try SafeTensorsFile(contentsOf: url).floats("w"), [1, 2])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["model.safetensors"])
    }

    private func writeError(_ tensors: [(name: String, shape: [Int], values: [Float])], to url: URL? = nil)
        -> SafeTensorsError? {
        let target = url ?? directory.appendingPathComponent("bad.safetensors")
        do {
            try SafeTensorsWriter.write(arrays: tensors, to: target)
        } catch let error as SafeTensorsError {
            XCTAssertEqual(error.file, target.path)
            return error
        } catch {
            XCTFail("unexpected \(error)")
        }
        XCTFail("expected the write to be rejected")
        return nil
    }

    func test_writer_reportsShapeThatDisagreesWithValueCount() {
        XCTAssertEqual(writeError([(name: "w", shape: [2, 2], values: [1, 2, 3])])?.message,
                       "cannot write tensor 'w': shape [2, 2] needs 4 values, got 3")
    }

    func test_writer_reportsNegativeExtent() {
        XCTAssertEqual(writeError([(name: "w", shape: [-1], values: [])])?.message,
                       "cannot write tensor 'w': shape [-1] has a negative extent")
    }

    func test_writer_reportsDuplicateAndReservedNames() {
        XCTAssertEqual(writeError([(name: "w", shape: [1], values: [1]), (name: "w", shape: [1], values: [2])])?.message,
                       "cannot write tensor 'w': the name appears twice")
        XCTAssertEqual(writeError([(name: "__metadata__", shape: [1], values: [1])])?.message,
                       "cannot write tensor '__metadata__': the name is empty or reserved")
    }

    func test_writer_reportsEmptyNameAndShapeWhoseSizeOverflows() {
        XCTAssertEqual(writeError([(name: "", shape: [1], values: [1])])?.message,
                       "cannot write tensor '': the name is empty or reserved")
        XCTAssertEqual(writeError([(name: "w", shape: [Int.max, 2], values: [1])])?.message,
                       "cannot write tensor 'w': shape [\(Int.max), 2] has more elements than Int can count")
    }

    func test_writer_reportsTargetThatIsADirectoryAndCleansUp() throws {
        let target = directory.appendingPathComponent("taken")
        try FileManager.default.createDirectory(at: target.appendingPathComponent("inside"),
                                                withIntermediateDirectories: true)
        let message = writeError([(name: "w", shape: [1], values: [1])], to: target)?.message ?? ""
        XCTAssertTrue(message.contains("cannot rename") && message.contains("over it"), message)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: directory.path), ["taken"])
    }

    func test_writer_reportsDirectoryThatDoesNotExist() {
        let url = directory.appendingPathComponent("missing/model.safetensors")
        let message = writeError([(name: "w", shape: [1], values: [1])], to: url)?.message ?? ""
        XCTAssertTrue(message.contains("cannot create") && message.contains("No such file"), message)
    }

    func test_writer_rewritesEveryGoldenModelBitIdentically() throws {
        for name in ["neox-rot25-parallel", "neox-rot100-sequential", "neox-rot50-parallel-odd"] {
            let source = try SafeTensorsFile(contentsOf: TestPaths.fixture("EngineTests", name)
                .appendingPathComponent("model.safetensors"))
            let tensors = try source.tensorNames.map { (name: $0, shape: source.shape(of: $0)!, values: try source.floats($0)) }
            let url = directory.appendingPathComponent("\(name).safetensors")
            try SafeTensorsWriter.write(arrays: tensors, metadata: source.metadata, to: url)
            let copy = try SafeTensorsFile(contentsOf: url)
            XCTAssertEqual(copy.tensorNames, source.tensorNames)
            XCTAssertEqual(copy.metadata, source.metadata)
            for tensor in tensors {
                XCTAssertEqual(try copy.floats(tensor.name, expectedShape: tensor.shape).map(\.bitPattern),
                               tensor.values.map(\.bitPattern), "\(name): \(tensor.name)")
            }
        }
    }
}
