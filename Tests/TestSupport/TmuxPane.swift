#if canImport(Glibc)
import Glibc
#endif
import Foundation
import XCTest

/// Runs the real `xright` binary in a detached tmux pane of a given size, on a private tmux server, and reads
/// the screen back: what a user sees, keystroke by keystroke. Shared by the dashboard, replay and bridge tests.
public final class TmuxPane {
    public let socket = "xright-test-\(UUID().uuidString.prefix(8))"
    public let session = "dash"

    /// The dashboard command under test: `xright demo` (the lead wires it to the engine), or what
    /// XRIGHT_DASH_COMMAND names (e.g. a local stand-in) while the demo is not built yet.
    public static var dashboardCommand: String { ProcessInfo.processInfo.environment["XRIGHT_DASH_COMMAND"] ?? "demo" }

    public static var binary: URL {
        if let path = ProcessInfo.processInfo.environment["XRIGHT_BIN"] { return URL(fileURLWithPath: path) }
        // The test runner sits next to the built binary in .build/<configuration>/.
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        if dir.lastPathComponent == "MacOS" { dir = dir.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent() }
        return dir.appendingPathComponent("xright")
    }

    /// Skips unless tmux exists and `xright <dashboard command> --help` succeeds.
    public static func requirements() throws {
        guard run("/usr/bin/env", ["tmux", "-V"]).status == 0 else { throw XCTSkip("tmux is not installed") }
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw XCTSkip("\(binary.path) is not built (swift build first)")
        }
        // An unknown subcommand's --help prints the root help and exits 0, so look for the subcommand's usage.
        let help = run(binary.path, [dashboardCommand, "--help"])
        guard help.status == 0, help.output.contains("xright \(dashboardCommand)") else {
            throw XCTSkip("`xright \(dashboardCommand)` is not available yet (set XRIGHT_DASH_COMMAND to a stand-in)")
        }
    }

    /// Runs a program to completion, its output captured through a file: the tmux server forks off and would
    /// hold a pipe open forever. posix_spawn + waitpid, because Foundation's Process can miss the exit of a
    /// client whose server child lives on.
    @discardableResult
    public static func run(_ executable: String, _ arguments: [String]) -> (status: Int32, output: String) {
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("tmux-out-\(UUID().uuidString)").path
        defer { unlink(outputPath) }
        var actions: posix_spawn_file_actions_t = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { return (-1, "cannot start \(executable): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let output = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED / WEXITSTATUS by hand: the macros do not import.
        let exitStatus: Int32 = status & 0x7f == 0 ? (status >> 8) & 0xff : -1
        return (exitStatus, output)
    }

    @discardableResult
    public func tmux(_ arguments: [String]) -> (status: Int32, output: String) {
        Self.run("/usr/bin/env", ["tmux", "-L", socket, "-f", "/dev/null"] + arguments)
    }

    /// Starts `xright <dashboard command> <arguments>` in a width×height pane.
    public convenience init(width: Int, height: Int, arguments: [String], environment: [String: String] = [:]) throws {
        try self.init(width: width, height: height, xright: [Self.dashboardCommand] + arguments, environment: environment)
    }

    /// Starts `xright <xright…>` in a width×height pane. When the program ends, the shell prints its exit status
    /// and the terminal modes, so a test can see the terminal was given back.
    public init(width: Int, height: Int, xright arguments: [String], environment: [String: String] = [:]) throws {
        var environment = environment
        if environment["TERM"] == nil { environment["TERM"] = "tmux-256color" }
        let env = environment.map { "\($0.key)='\($0.value)'" }.joined(separator: " ")
        let command = ([Self.binary.path] + arguments).map { "'\($0)'" }.joined(separator: " ")
        let script = "\(env.isEmpty ? "" : "env \(env) ")\(command); echo \"EXITED:$?\"; stty -a | tr '\\n' ' '; echo; exec sleep 600"
        let result = tmux(["new-session", "-d", "-s", session, "-x", String(width), "-y", String(height), "sh", "-c", script,
])
        guard result.status == 0 else { throw XCTSkip("tmux could not start a session: \(result.output)") }
    }

    public func close() {
        tmux(["kill-server"])
        unlink("/tmp/tmux-\(getuid())/\(socket)")
    }

    public func capture(escapes: Bool = false) -> String {
        tmux(["capture-pane", "-p", "-t", session] + (escapes ? ["-e"] : [])).output
    }

    public func send(_ keys: String...) { tmux(["send-keys", "-t", session] + keys) }

    /// Polls the screen until `predicate` holds; returns the last screen either way.
    @discardableResult
    public func waitFor(_ timeout: TimeInterval = 15, _ predicate: (String) -> Bool) -> (Bool, String) {
        let deadline = Date(timeIntervalSinceNow: timeout)
        var screen = capture()
        while !predicate(screen) {
            if Date() > deadline { return (false, screen) }
            usleep(100_000)
            screen = capture()
        }
        return (true, screen)
    }

    /// The "step N/M" count the Control panel shows.
    public static func step(in screen: String) -> Int? {
        guard let range = screen.range(of: #"step (\d+)"#, options: .regularExpression) else { return nil }
        return Int(screen[range].dropFirst(5))
    }
}
