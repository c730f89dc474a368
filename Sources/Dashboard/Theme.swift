import Foundation

/// Colours and attributes per role, loaded from a `themes/NAME.theme` file in the manner of btop: one
/// `key = "value"` (or `theme[key]="value"`) per line, `#` comments. Keys left out keep the built-in default.
public struct Theme: Equatable, Sendable {
    public struct Style: Equatable, Sendable {
        public var foreground: ThemeColor
        public var background: ThemeColor
        public var bold: Bool

        public init(foreground: ThemeColor, background: ThemeColor = .terminalDefault, bold: Bool = false) {
            self.foreground = foreground
            self.background = background
            self.bold = bold
        }
    }

    public var name: String
    public var background: ThemeColor
    public private(set) var styles: [Role: Style]

    public func style(_ role: Role) -> Style { styles[role] ?? Style(foreground: .terminalDefault) }

    /// The theme file keys and the role each sets (`main_bg` sets the background of every role).
    public static let keys: [String: Role] = [
        "main_fg": .text, "inactive_fg": .muted, "title": .title, "div_line": .border, "graph_axis": .axis,
        "sft_raw": .sftRaw, "sft": .sftSmooth, "dpo_raw": .dpoRaw, "dpo": .dpoSmooth, "mix": .mix,
        "eval_mark": .evalMark, "gauge_fill": .gaugeFill, "gauge_empty": .gaugeEmpty, "trajectory": .trajectory,
        "ideal_point": .idealPoint, "ok": .good, "warning": .warning, "error": .error, "selected_fg": .selected,
        "run1": .run1, "run2": .run2, "run3": .run3, "run4": .run4, "run5": .run5, "run6": .run6,
    ]
    /// Roles drawn bold whatever the theme (titles and what needs attention).
    static let boldRoles: Set<Role> = [.title, .sftSmooth, .dpoSmooth, .warning, .error, .selected, .idealPoint]

    /// The default dark theme (themes/default.theme, compiled in); also the base every file is laid over.
    public static let builtIn: Theme = {
        let empty = Theme(name: "default", background: .terminalDefault, styles: [:])
        guard let text = BuiltInThemes.files.first(where: { $0.name == "default" })?.text,
              let theme = try? parse(text, name: "default", file: "themes/default.theme", base: empty) else {
            // ThemeTests proves the embedded file parses; this keeps a broken build readable, not crashed.
            return empty
        }
        return theme
    }()

    /// The themes shipped in themes/, compiled into the binary (scripts/embed-themes).
    public static var shipped: [Theme] {
        BuiltInThemes.files.compactMap { try? parse($0.text, name: $0.name, file: "themes/\($0.name).theme") }
    }

    /// Parses theme text over `base`. Errors name the file, the line, what was expected and what was found.
    public static func parse(_ text: String, name: String, file: String, base: Theme = .builtIn) throws -> Theme {
        var theme = base
        theme.name = name
        var selectedBackground: ThemeColor?
        for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let lineNumber = offset + 1
            let line = rawLine.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let eq = line.firstIndex(of: "=") else {
                throw ThemeError.syntax(file: file, line: lineNumber, expected: "key = \"value\"", found: line)
            }
            var key = line[..<eq].trimmingCharacters(in: .whitespaces)
            if key.hasPrefix("theme["), key.hasSuffix("]") { key = String(key.dropFirst(6).dropLast()) }
            let rawValue = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            guard rawValue.count >= 2, rawValue.hasPrefix("\""), rawValue.hasSuffix("\"") else {
                throw ThemeError.syntax(file: file, line: lineNumber, expected: "a value in double quotes", found: rawValue)
            }
            let value = String(rawValue.dropFirst().dropLast())
            guard let color = ThemeColor.parse(value) else {
                throw ThemeError.badColor(file: file, line: lineNumber, key: key, found: value)
            }
            switch key {
            case "main_bg": theme.background = color
            case "selected_bg": selectedBackground = color
            default:
                guard let role = keys[key] else {
                    throw ThemeError.unknownKey(file: file, line: lineNumber, key: key,
                                                known: (keys.keys.sorted() + ["main_bg", "selected_bg"]).sorted())
                }
                theme.styles[role] = Style(foreground: color, bold: boldRoles.contains(role))
            }
        }
        for role in Role.allCases {
            var style = theme.style(role)
            style.background = role == .selected ? (selectedBackground ?? theme.background) : theme.background
            theme.styles[role] = style
        }
        return theme
    }

    public static func load(_ url: URL) throws -> Theme {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ThemeError.unreadable(file: url.path, reason: error.localizedDescription)
        }
        guard let text = String(data: data, encoding: .utf8) else {
            throw ThemeError.unreadable(file: url.path, reason: "not UTF-8 text")
        }
        return try parse(text, name: url.deletingPathExtension().lastPathComponent, file: url.path)
    }
}

public enum ThemeError: Error, Equatable, CustomStringConvertible {
    case syntax(file: String, line: Int, expected: String, found: String)
    case badColor(file: String, line: Int, key: String, found: String)
    case unknownKey(file: String, line: Int, key: String, known: [String])
    case unreadable(file: String, reason: String)
    case notFound(name: String, searched: [String])

    public var description: String {
        switch self {
        case let .syntax(file, line, expected, found):
            return "\(file):\(line): expected \(expected); got '\(found)'"
        case let .badColor(file, line, key, found):
            return "\(file):\(line): \(key): expected a colour (\"#rrggbb\", \"#rgb\", 0–255, a colour name or \"default\"); got '\(found)'"
        case let .unknownKey(file, line, key, known):
            return "\(file):\(line): unknown key '\(key)'; expected one of: \(known.joined(separator: ", "))"
        case let .unreadable(file, reason):
            return "\(file): cannot read theme: \(reason)"
        case let .notFound(name, searched):
            return "no theme named '\(name)'; looked for \(name).theme in: \(searched.joined(separator: ", "))"
        }
    }
}
