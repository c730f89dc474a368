/// The members of a JSON object in file order, duplicates kept. Keys compare byte for byte: Swift's `String ==`
/// would merge canonically equivalent keys ("é" and "e\u{301}"), which a vocabulary must keep apart.
public struct JSONObject: Equatable, Sendable {
    public var keys: [String]
    public var values: [JSONValue]

    public init(keys: [String] = [], values: [JSONValue] = []) {
        precondition(keys.count == values.count, "one value per key")
        self.keys = keys
        self.values = values
    }

    public var count: Int { keys.count }
    public var isEmpty: Bool { keys.isEmpty }

    public var members: Zip2Sequence<[String], [JSONValue]> { zip(keys, values) }

    /// The value of the last member named `key`, as serde and Python's json take duplicates.
    public subscript(key: String) -> JSONValue? {
        let wanted = key.utf8
        for index in keys.indices.reversed() where keys[index].utf8.elementsEqual(wanted) {
            return values[index]
        }
        return nil
    }

    /// The value of the first member named `key`, for readers that reject duplicates themselves.
    public func first(_ key: String) -> JSONValue? {
        let wanted = key.utf8
        for index in keys.indices where keys[index].utf8.elementsEqual(wanted) {
            return values[index]
        }
        return nil
    }

    mutating func append(key: String, value: JSONValue) {
        keys.append(key)
        values.append(value)
    }

    public static func == (lhs: JSONObject, rhs: JSONObject) -> Bool {
        lhs.count == rhs.count && lhs.values == rhs.values
            && zip(lhs.keys, rhs.keys).allSatisfy { $0.utf8.elementsEqual($1.utf8) }
    }
}
