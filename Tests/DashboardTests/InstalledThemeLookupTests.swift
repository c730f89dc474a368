import Dashboard
import Foundation
import TestSupport
import XCTest

/// `xright` finds its own themes wherever it runs from: installed (`<prefix>/bin` + `<prefix>/share/xright/themes`),
/// from a checkout's build folder (`<checkout>/.build/release/xright` + `<checkout>/themes`), or through a symlink
/// to either, whatever the working directory.
final class InstalledThemeLookupTests: XCTestCase {
    private var scratch: URL!

    override func setUpWithError() throws {
        scratch = try TestPaths.temporaryDirectory("xright-theme-lookup")
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: scratch)
    }

    /// A file standing in for the program, and a `<name>.theme` in `themes` naming itself.
    private func layout(program: String, themes: String, themeName: String) throws -> URL {
        let files = FileManager.default
        let binary = scratch.appendingPathComponent(program)
        try files.createDirectory(at: binary.deletingLastPathComponent(), withIntermediateDirectories: true)
        files.createFile(atPath: binary.path, contents: Data("#!/bin/sh\n".utf8))
        let dir = scratch.appendingPathComponent(themes)
        try files.createDirectory(at: dir, withIntermediateDirectories: true)
        let source = try String(contentsOf: TestPaths.packageRoot.appendingPathComponent("themes/light.theme"), encoding: .utf8)
        try source.write(to: dir.appendingPathComponent("\(themeName).theme"), atomically: true, encoding: .utf8)
        return binary
    }

    private func themeNames(executable: URL) -> [String] {
        let elsewhere = scratch.appendingPathComponent("cwd")
        try? FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        let dirs = ThemeLibrary.defaultDirectories(executable: executable, home: nil, workingDirectory: elsewhere.path)
        return ThemeLibrary(directories: dirs).names
    }

    func test_installedProgram_findsThemesInPrefixShare() throws {
        let binary = try layout(program: "prefix/bin/xright", themes: "prefix/share/xright/themes", themeName: "installed")
        XCTAssertTrue(themeNames(executable: binary).contains("installed"))
    }

    func test_symlinkToInstalledProgram_findsThemesOfTheTarget() throws {
        let binary = try layout(program: "prefix/bin/xright", themes: "prefix/share/xright/themes", themeName: "installed")
        let link = scratch.appendingPathComponent("home/bin/xright")
        try FileManager.default.createDirectory(at: link.deletingLastPathComponent(), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: binary)
        XCTAssertTrue(themeNames(executable: link).contains("installed"))
    }

    func test_programInBuildFolder_findsTheCheckoutsThemes() throws {
        let binary = try layout(program: "checkout/.build/x86_64-unknown-linux-gnu/release/xright",
                                themes: "checkout/themes", themeName: "checkout")
        XCTAssertTrue(themeNames(executable: binary).contains("checkout"))
        // Through the build folder's own `release` symlink too.
        let link = scratch.appendingPathComponent("checkout/.build/release")
        try FileManager.default.createSymbolicLink(at: link, withDestinationURL: binary.deletingLastPathComponent())
        XCTAssertTrue(themeNames(executable: link.appendingPathComponent("xright")).contains("checkout"))
    }

    func test_programElsewhere_hasOnlyTheBuiltInTheme() throws {
        let binary = try layout(program: "loose/xright", themes: "unrelated/themes", themeName: "unrelated")
        XCTAssertFalse(themeNames(executable: binary).contains("unrelated"))
    }
}
