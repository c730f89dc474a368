import Foundation

extension ThemeLibrary {
    /// Theme directories that belong to the program itself, found from its executable (symlinks resolved, so a
    /// link in `~/bin` to an installed or built `xright` finds the same themes):
    /// - inside a checkout's build folder (`<checkout>/.build/…/xright`): `<checkout>/themes`;
    /// - installed by `scripts/install` (`<prefix>/bin/xright`): `<prefix>/share/xright/themes`.
    public static func programDirectories(executable: URL) -> [URL] {
        let binary = executable.resolvingSymlinksInPath()
        var dirs = [URL]()
        var ancestor = binary.deletingLastPathComponent()
        while ancestor.path != "/" && !ancestor.path.isEmpty {
            if ancestor.lastPathComponent == ".build" {
                dirs.append(ancestor.deletingLastPathComponent().appendingPathComponent("themes"))
                break
            }
            ancestor = ancestor.deletingLastPathComponent()
        }
        let prefix = binary.deletingLastPathComponent().deletingLastPathComponent()
        dirs.append(prefix.appendingPathComponent("share/xright/themes"))
        return dirs
    }

    /// This process's executable: `/proc/self/exe` on Linux (through Foundation), so it does not matter whether
    /// it was started by a path, a symlink or a bare name found on `PATH`.
    public static var runningExecutable: URL {
        Bundle.main.executableURL ?? URL(fileURLWithPath: CommandLine.arguments.first ?? "xright")
    }
}
