/// One metadata value of a GGUF file, with the type the file gave it (see docs/GGUF.md, "Metadata").
public enum GGUFValue: Equatable, Sendable {
    case uint8(UInt8)
    case int8(Int8)
    case uint16(UInt16)
    case int16(Int16)
    case uint32(UInt32)
    case int32(Int32)
    case float32(Float)
    case bool(Bool)
    case string(String)
    case array([GGUFValue])
    case uint64(UInt64)
    case int64(Int64)
    case float64(Double)

    /// The GGUF type name, for messages ("expected an integer, found string").
    public var typeName: String {
        switch self {
        case .uint8: return "uint8"
        case .int8: return "int8"
        case .uint16: return "uint16"
        case .int16: return "int16"
        case .uint32: return "uint32"
        case .int32: return "int32"
        case .float32: return "float32"
        case .bool: return "bool"
        case .string: return "string"
        case .array: return "array"
        case .uint64: return "uint64"
        case .int64: return "int64"
        case .float64: return "float64"
        }
    }

    /// The value of any integer type, when it fits an Int.
    public var intValue: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return Int(exactly: v)
        case .int64(let v): return Int(v)
        default: return nil
        }
    }

    /// The value of a float or integer type as a Double (float32 widened exactly).
    public var doubleValue: Double? {
        switch self {
        case .float32(let v): return Double(v)
        case .float64(let v): return v
        default: return intValue.map(Double.init)
        }
    }

    public var boolValue: Bool? {
        if case .bool(let flag) = self { return flag }
        return nil
    }

    public var stringValue: String? {
        if case .string(let text) = self { return text }
        return nil
    }

    public var arrayValue: [GGUFValue]? {
        if case .array(let elements) = self { return elements }
        return nil
    }

    /// A short rendering for messages: arrays give their length and first elements.
    public var summary: String {
        switch self {
        case .string(let text): return text.count > 40 ? "\"\(text.prefix(37))...\"" : "\"\(text)\""
        case .array(let elements):
            let head = elements.prefix(3).map(\.summary).joined(separator: ", ")
            return "[\(head)\(elements.count > 3 ? ", ..." : "")] (\(elements.count) elements)"
        case .bool(let flag): return String(flag)
        case .float32(let v): return String(v)
        case .float64(let v): return String(v)
        default: return intValue.map(String.init) ?? typeName
        }
    }
}
