import Foundation

/// The themes a user can pick from: `*.theme` files in `./themes`, the program's own (`programDirectories`: the
/// checkout's `themes/` or the install's `<prefix>/share/xright/themes`) and `~/.config/xright/themes`; a later
/// directory's file of the same name wins. The themes shipped in themes/ are compiled in, so they are there wherever
/// the binary is run from.
public struct ThemeLibrary {
    public private(set) var themes: [Theme]
    /// Files that failed to load: shown once on the event line, never fatal.
    public private(set) var problems: [ThemeError] = []
    public let searchDirectories: [URL]

    public static func defaultDirectories(executable: URL = ThemeLibrary.runningExecutable,
                                          home: String? = ProcessInfo.processInfo.environment["HOME"],
                                          workingDirectory: String = FileManager.default.currentDirectoryPath) -> [URL] {
        var dirs = [URL(fileURLWithPath: workingDirectory).appendingPathComponent("themes")]
        dirs += programDirectories(executable: executable)
        if let home { dirs.append(URL(fileURLWithPath: home).appendingPathComponent(".config/xright/themes")) }
        return dirs
    }

    public init(directories: [URL] = ThemeLibrary.defaultDirectories()) {
        searchDirectories = directories
        var byName = Dictionary(Theme.shipped.map { ($0.name, $0) }, uniquingKeysWith: { _, later in later })
        for dir in directories {
            guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir.path) else { continue }
            for file in files.sorted() where file.hasSuffix(".theme") {
                do {
                    let theme = try Theme.load(dir.appendingPathComponent(file))
                    byName[theme.name] = theme
                } catch let error as ThemeError {
                    problems.append(error)
                } catch {
                    problems.append(.unreadable(file: dir.appendingPathComponent(file).path, reason: "\(error)"))
                }
            }
        }
        // "default" first, then by name, so `t` cycles in a stable order.
        themes = byName.values.sorted { ($0.name == "default" ? "" : $0.name) < ($1.name == "default" ? "" : $1.name) }
    }

    public var names: [String] { themes.map(\.name) }

    public func index(of name: String) throws -> Int {
        guard let i = themes.firstIndex(where: { $0.name == name }) else {
            throw ThemeError.notFound(name: name, searched: searchDirectories.map(\.path))
        }
        return i
    }
}
