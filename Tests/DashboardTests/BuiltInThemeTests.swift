import Dashboard
import Foundation
import TestSupport
import XCTest

/// The themes shipped in themes/ are compiled into the binary, so `--theme light` and the `t` key work from any
/// directory; themes/*.theme stays the source of truth (scripts/embed-themes regenerates the embedded copy).
final class BuiltInThemeTests: XCTestCase {
    func test_shippedThemes_areThereWithNoThemeDirectoryAtAll() throws {
        let library = ThemeLibrary(directories: [])
        XCTAssertEqual(library.names, ["default", "high-contrast", "light"])
        XCTAssertEqual(library.problems, [])
        XCTAssertNoThrow(try library.index(of: "light"))
    }

    func test_embeddedThemes_matchTheFilesInThemes() throws {
        let themes = TestPaths.packageRoot.appendingPathComponent("themes")
        let files = try FileManager.default.contentsOfDirectory(atPath: themes.path).filter { $0.hasSuffix(".theme") }.sorted()
        let shipped = Dictionary(uniqueKeysWithValues: Theme.shipped.map { ($0.name, $0) })
        XCTAssertEqual(shipped.keys.sorted(), files.map { String($0.dropLast(".theme".count)) },
                       "run scripts/embed-themes after adding or removing a theme file")
        for file in files {
            let theme = try Theme.load(themes.appendingPathComponent(file))
            XCTAssertEqual(shipped[theme.name], theme, "\(file) differs from its embedded copy: run scripts/embed-themes")
        }
    }

    func test_defaultTheme_isTheDefaultFile_andSetsEveryKey() throws {
        let url = TestPaths.packageRoot.appendingPathComponent("themes/default.theme")
        let text = try String(contentsOf: url, encoding: .utf8)
        let keys = Set(text.split(separator: "\n").filter { !$0.hasPrefix("#") && $0.contains("=") }
            .map { $0.split(separator: "=")[0].trimmingCharacters(in: .whitespaces) })
        XCTAssertEqual(keys.subtracting(["main_bg", "selected_bg"]), Set(Theme.keys.keys),
                       "the default theme is the base of every other one: it sets every key")
        XCTAssertEqual(Theme.builtIn, try Theme.load(url))
    }
}
