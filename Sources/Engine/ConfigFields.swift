import Foundation
import JSON

/// Typed reads of a Hugging Face config.json object; every error names the file and the field.
struct ConfigFields {
    let json: JSONObject
    let source: String

    /// Reads and parses `url` as a JSON object.
    static func read(_ url: URL) throws -> ConfigFields {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw EngineError.io(file: url.path, message: "cannot read: \(error.localizedDescription)")
        }
        let value: JSONValue
        do { value = try JSONValue.parse([UInt8](data)) } catch {
            throw EngineError.invalidConfig(file: url.path, field: "(file)", expected: "a JSON object", got: "invalid JSON (\(error))")
        }
        guard let object = value.objectValue else {
            throw EngineError.invalidConfig(file: url.path, field: "(file)", expected: "a JSON object", got: value.typeName)
        }
        return ConfigFields(json: object, source: url.path)
    }

    func bad(_ field: String, _ expected: String, _ got: String) -> EngineError {
        EngineError.invalidConfig(file: source, field: field, expected: expected, got: got)
    }

    private func present(_ key: String, in object: JSONObject? = nil) -> JSONValue? {
        guard let v = (object ?? json)[key], !v.isNull else { return nil }
        return v
    }

    /// An integer; `default` when the key is absent or null (nil default: required).
    func int(_ key: String, default value: Int? = nil) throws -> Int {
        guard let raw = present(key) else {
            if let value { return value }
            throw bad(key, "an integer", "nothing (missing)")
        }
        guard let n = raw.intValue else { throw bad(key, "an integer", raw.summary()) }
        return n
    }

    /// A number from `object` (default: the top level), nil when absent or null; `field` names it in errors.
    func double(_ key: String, in object: JSONObject? = nil, field: String? = nil) throws -> Double? {
        guard let raw = present(key, in: object) else { return nil }
        guard let d = raw.doubleValue else { throw bad(field ?? key, "a number", raw.summary()) }
        return d
    }

    func bool(_ key: String, default value: Bool) throws -> Bool {
        guard let raw = present(key) else { return value }
        guard let b = raw.boolValue else { throw bad(key, "true or false", raw.summary()) }
        return b
    }

    func string(_ key: String, in object: JSONObject? = nil) throws -> String? {
        guard let raw = present(key, in: object) else { return nil }
        guard let s = raw.stringValue else { throw bad(key, "a string", raw.summary()) }
        return s
    }

    /// An object, nil when absent or null.
    func object(_ key: String) throws -> JSONObject? {
        guard let raw = present(key) else { return nil }
        guard let o = raw.objectValue else { throw bad(key, "an object or null", raw.summary()) }
        return o
    }

    /// A token id given as an integer or a list of them (Llama 3 lists several eos ids; the first is used).
    func tokenID(_ key: String, default value: Int) throws -> Int {
        if let list = present(key)?.arrayValue {
            guard let first = list.first?.intValue else { throw bad(key, "an integer or a list of integers", present(key)!.summary()) }
            return first
        }
        return try int(key, default: value)
    }
}
