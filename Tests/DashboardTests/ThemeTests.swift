import Dashboard
import TestSupport
import XCTest

final class ThemeTests: XCTestCase {
    func test_parse_readsBothKeySyntaxes() throws {
        let theme = try Theme.parse("""
            # comment
            sft = "#ff0000"
            theme[dpo]="12"
            main_bg = "#000"
            """, name: "t", file: "t.theme")
        XCTAssertEqual(theme.style(.sftSmooth).foreground, .rgb(255, 0, 0))
        XCTAssertEqual(theme.style(.dpoSmooth).foreground, .indexed(12))
        XCTAssertEqual(theme.style(.text).background, .rgb(0, 0, 0))
        XCTAssertEqual(theme.style(.axis), Theme.Style(foreground: Theme.builtIn.style(.axis).foreground, background: .rgb(0, 0, 0)),
                       "keys left out keep the built-in colour")
    }

    func test_parse_reportsMissingQuotesWithLine() {
        XCTAssertThrowsError(try Theme.parse("sft = \"#fff\"\n\ndpo = #fff", name: "t", file: "x.theme")) { error in
            XCTAssertEqual(error as? ThemeError, .syntax(file: "x.theme", line: 3, expected: "a value in double quotes", found: "#fff"))
            XCTAssertTrue("\(error)".hasPrefix("x.theme:3:"))
        }
    }

    func test_parse_reportsLineWithoutEquals() {
        XCTAssertThrowsError(try Theme.parse("sft \"#fff\"", name: "t", file: "x.theme")) { error in
            XCTAssertEqual(error as? ThemeError, .syntax(file: "x.theme", line: 1, expected: "key = \"value\"", found: "sft \"#fff\""))
        }
    }

    func test_parse_reportsBadColour() {
        XCTAssertThrowsError(try Theme.parse("sft = \"#ggg\"", name: "t", file: "x.theme")) { error in
            XCTAssertEqual(error as? ThemeError, .badColor(file: "x.theme", line: 1, key: "sft", found: "#ggg"))
        }
        XCTAssertThrowsError(try Theme.parse("sft = \"300\"", name: "t", file: "x.theme"))
    }

    func test_parse_reportsUnknownKeyAndListsKnownOnes() {
        XCTAssertThrowsError(try Theme.parse("sfft = \"#fff\"", name: "t", file: "x.theme")) { error in
            guard case let .unknownKey(file, line, key, known)? = error as? ThemeError else { return XCTFail("\(error)") }
            XCTAssertEqual([file, String(line), key], ["x.theme", "1", "sfft"])
            XCTAssertTrue(known.contains("sft"))
        }
    }

    func test_library_loadsTheShippedThemes() throws {
        let library = ThemeLibrary(directories: [TestPaths.packageRoot.appendingPathComponent("themes")])
        XCTAssertEqual(library.problems, [])
        for name in ["default", "light", "high-contrast"] { XCTAssertNoThrow(try library.index(of: name)) }
        XCTAssertEqual(library.names.first, "default")
    }

    func test_library_unknownThemeNamesTheDirectoriesSearched() {
        let library = ThemeLibrary(directories: [URL(fileURLWithPath: "/nonexistent/themes")])
        XCTAssertThrowsError(try library.index(of: "solarized")) { error in
            XCTAssertEqual(error as? ThemeError, .notFound(name: "solarized", searched: ["/nonexistent/themes"]))
        }
    }

    func test_library_laterDirectoryWinsAndBrokenFilesAreReported() throws {
        let a = try TestPaths.temporaryDirectory("themes-a"), b = try TestPaths.temporaryDirectory("themes-b")
        defer { try? FileManager.default.removeItem(at: a); try? FileManager.default.removeItem(at: b) }
        try "sft = \"#111111\"".write(to: a.appendingPathComponent("mine.theme"), atomically: true, encoding: .utf8)
        try "sft = \"#222222\"".write(to: b.appendingPathComponent("mine.theme"), atomically: true, encoding: .utf8)
        try "sft = nope".write(to: b.appendingPathComponent("broken.theme"), atomically: true, encoding: .utf8)
        let library = ThemeLibrary(directories: [a, b])
        let mine = library.themes[try library.index(of: "mine")]
        XCTAssertEqual(mine.style(.sftSmooth).foreground, .rgb(0x22, 0x22, 0x22))
        XCTAssertEqual(library.problems.count, 1)
        XCTAssertTrue("\(library.problems[0])".contains("broken.theme:1"))
    }

    func test_colours_mapTo256_16_and8() {
        XCTAssertEqual(ThemeColor.rgb(255, 0, 0).paletteIndex(colors: 256), 9, "pure red is bright red in the ANSI 16")
        XCTAssertEqual(ThemeColor.rgb(0x5f, 0x87, 0xaf).paletteIndex(colors: 256), 67, "cube colour 67 = (95,135,175)")
        XCTAssertEqual(ThemeColor.rgb(250, 10, 10).paletteIndex(colors: 8), 1)
        XCTAssertEqual(ThemeColor.indexed(75).paletteIndex(colors: 16).map { $0 < 16 }, true)
        XCTAssertEqual(ThemeColor.rgb(0x80, 0x80, 0x80).paletteIndex(colors: 8), 7, "grey stays grey, not yellow")
        XCTAssertEqual(ThemeColor.rgb(0x80, 0x80, 0x80).paletteIndex(colors: 16), 8)
        XCTAssertNil(ThemeColor.terminalDefault.paletteIndex(colors: 256))
        XCTAssertEqual(ThemeColor.parse("#abc"), .rgb(0xaa, 0xbb, 0xcc))
        XCTAssertEqual(ThemeColor.parse("bright-blue"), .indexed(12))
        XCTAssertNil(ThemeColor.parse("#12345"))
    }
}
