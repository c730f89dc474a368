import JSON

/// One tensor as its header entry describes it; `byteRange` is relative to the start of the data region.
public struct SafeTensorsTensorInfo: Equatable, Sendable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    public let byteRange: Range<Int>

    /// Product of the shape (1 for a scalar `[]`).
    public var elementCount: Int { shape.reduce(1, *) }

    /// The product of `shape`, or nil when it overflows Int (a hostile header must not trap).
    static func checkedElementCount(_ shape: [Int]) -> Int? {
        var elements = 1
        for extent in shape {
            let (product, overflow) = elements.multipliedReportingOverflow(by: extent)
            if overflow { return nil }
            elements = product
        }
        return elements
    }
}

/// The validated header: every entry well-formed, sizes agreeing with shapes, ranges inside the data region and
/// disjoint. Mirrors the checks of the reference implementation (huggingface/safetensors `Metadata::validate`),
/// except that gaps between tensors are allowed: the bytes each tensor owns are still unambiguous.
struct SafeTensorsHeader {
    let tensors: [String: SafeTensorsTensorInfo]
    let metadata: [String: String]

    static let metadataKey = "__metadata__"
    /// Headers nest three levels (header → entry → shape); anything deeper than this is not a safetensors header.
    static let maximumDepth = 16

    /// `json` is the header text; `dataSize` the number of bytes after it. `fail` builds the error (it knows the file).
    init(json bytes: UnsafeRawBufferPointer, dataSize: Int, dataStart: Int = 0, fail: (String) -> SafeTensorsError) throws {
        let root: JSONValue
        do {
            root = try JSONValue.parse(bytes, maximumDepth: Self.maximumDepth)
        } catch let error as JSONError {
            // Offsets in the file count the 8-byte length field too.
            throw fail("invalid JSON header at byte \(8 + error.offset) of the file: \(Self.describe(error))")
        }
        guard case .object(let entries) = root else {
            throw fail("header must be a JSON object of tensor entries, found \(root.typeName): \(root.summary())")
        }

        var tensors: [String: SafeTensorsTensorInfo] = [:]
        var metadata: [String: String]?
        for (key, value) in entries.members {
            if key == Self.metadataKey {
                guard metadata == nil else { throw fail("header has \"\(key)\" twice") }
                metadata = try Self.parseMetadata(value, fail: fail)
                continue
            }
            guard tensors[key] == nil else { throw fail("header has tensor '\(key)' twice") }
            tensors[key] = try Self.parseEntry(name: key, value, fail: fail)
        }

        try Self.checkLayout(Array(tensors.values), dataSize: dataSize, dataStart: dataStart, fail: fail)
        self.tensors = tensors
        self.metadata = metadata ?? [:]
    }

    /// The parser's wording, with the end named as the header; a misspelled literal reads as any other bad value,
    /// as header errors always have.
    private static func describe(_ error: JSONError) -> String {
        if case .expectedLiteral = error.problem, case .word(let word) = error.found, let first = word.first {
            return "expected a value, found '\(first)'"
        }
        return error.message(endOfInput: "end of header")
    }

    private static func parseMetadata(_ value: JSONValue, fail: (String) -> SafeTensorsError) throws
        -> [String: String] {
        guard case .object(let entries) = value else {
            throw fail("\"\(metadataKey)\" must be an object of string values, "
                + "found \(value.typeName): \(value.summary())")
        }
        var metadata: [String: String] = [:]
        for (key, item) in entries.members {
            guard case .string(let text) = item else {
                throw fail("\"\(metadataKey)\" entry \"\(key)\" must be a string, "
                    + "found \(item.typeName): \(item.summary())")
            }
            metadata[key] = text
        }
        return metadata
    }

    private static func parseEntry(name: String, _ value: JSONValue, fail: (String) -> SafeTensorsError) throws
        -> SafeTensorsTensorInfo {
        guard case .object(let fields) = value else {
            throw fail("tensor '\(name)': entry must be an object with dtype, shape and data_offsets, "
                + "found \(value.typeName): \(value.summary())")
        }
        func field(_ key: String) throws -> JSONValue {
            guard let found = fields.first(key) else {
                throw fail("tensor '\(name)': missing field \"\(key)\"")
            }
            return found
        }

        let dtypeValue = try field("dtype")
        guard case .string(let dtypeName) = dtypeValue else {
            throw fail("tensor '\(name)': dtype must be a string, "
                + "found \(dtypeValue.typeName): \(dtypeValue.summary())")
        }
        guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
            let known = SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")
            throw fail("tensor '\(name)': unknown dtype \"\(dtypeName)\" (expected one of \(known))")
        }

        let shape = try nonNegativeIntegers(try field("shape"), field: "shape", tensor: name, fail: fail)
        let offsetsValue = try field("data_offsets")
        let offsets = try nonNegativeIntegers(offsetsValue, field: "data_offsets", tensor: name, fail: fail)
        guard offsets.count == 2 else {
            throw fail("tensor '\(name)': data_offsets must be [begin, end], found \(offsetsValue.summary())")
        }
        let (begin, end) = (offsets[0], offsets[1])
        guard begin <= end else {
            throw fail("tensor '\(name)': data_offsets [\(begin), \(end)] have begin after end")
        }

        guard let elements = SafeTensorsTensorInfo.checkedElementCount(shape) else {
            throw fail("tensor '\(name)': shape \(shape) has more elements than Int can count")
        }
        let (byteCount, overflow) = elements.multipliedReportingOverflow(by: dtype.byteSize)
        guard !overflow else { throw fail("tensor '\(name)': shape \(shape) of \(dtypeName) overflows a byte count") }
        guard byteCount == end - begin else {
            throw fail("tensor '\(name)': shape \(shape) of \(dtypeName) (\(dtype.byteSize) bytes each) needs "
                + "\(byteCount) bytes, but data_offsets [\(begin), \(end)] span \(end - begin)")
        }
        return SafeTensorsTensorInfo(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
    }

    private static func nonNegativeIntegers(_ value: JSONValue, field: String, tensor: String,
                                            fail: (String) -> SafeTensorsError) throws -> [Int] {
        let expectation = "tensor '\(tensor)': \(field) must be an array of non-negative integers"
        guard case .array(let items) = value else {
            throw fail("\(expectation), found \(value.typeName): \(value.summary())")
        }
        return try items.map { item in
            // Exact: an offset written as 2.0 or 1e3, or beyond Int, is not an integer here.
            guard case .number(let number) = item, let n = number.int64Value.flatMap(Int.init(exactly:)), n >= 0 else {
                throw fail("\(expectation), found \(item.summary()) in \(value.summary())")
            }
            return n
        }
    }

    /// Every range lies inside the data region and no two share a byte.
    private static func checkLayout(_ tensors: [SafeTensorsTensorInfo], dataSize: Int, dataStart: Int,
                                    fail: (String) -> SafeTensorsError) throws {
        let ordered = tensors.sorted {
            ($0.byteRange.lowerBound, $0.byteRange.upperBound, $0.name)
                < ($1.byteRange.lowerBound, $1.byteRange.upperBound, $1.name)
        }
        var previous: SafeTensorsTensorInfo?
        for info in ordered {
            let range = info.byteRange
            guard range.upperBound <= dataSize else {
                throw fail("tensor '\(info.name)': data_offsets [\(range.lowerBound), \(range.upperBound)] run past "
                    + "the end of the data region (\(dataSize) bytes after the header)")
            }
            // Empty tensors own no bytes, so they cannot overlap anything.
            if !range.isEmpty {
                if let earlier = previous, earlier.byteRange.upperBound > range.lowerBound {
                    throw fail("tensors '\(earlier.name)' [\(earlier.byteRange.lowerBound), "
                        + "\(earlier.byteRange.upperBound)] and '\(info.name)' [\(range.lowerBound), "
                        + "\(range.upperBound)] overlap")
                }
                previous = info
            }
        }
        // The format ends with its last tensor (the reference reader refuses an incompletely covered buffer):
        // bytes beyond it are a truncated rewrite or a concatenation, not weights to ignore.
        let end = tensors.map(\.byteRange.upperBound).max() ?? 0
        if end < dataSize {
            throw fail("\(dataSize - end) bytes of trailing data after the last tensor, starting at byte "
                + "\(dataStart + end) of the file (data region ends at \(end) of \(dataSize) bytes after the header)")
        }
    }
}
