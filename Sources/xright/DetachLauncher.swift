import Foundation
import Remote
import Training

/// `xright train --detach`: runs this same command again in its own session (setsid: no controlling terminal, so
/// no SIGHUP when the SSH connection goes), stdin from /dev/null, stdout and stderr to the run's `output.log`;
/// waits until the run serves its socket and prints how to reach it.
enum DetachLauncher {
    /// `arguments` are this process's (without the program name); `--detach` is removed, and `--run-dir` added
    /// when the run directory was chosen here.
    static func launch(arguments: [String], runDirectory: URL, addRunDir: Bool, waitSeconds: Double = 300) throws {
        let run = RunDirectory(runDirectory)
        try FileManager.default.createDirectory(at: runDirectory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        var childArguments = arguments.filter { $0 != "--detach" }
        if addRunDir { childArguments += ["--run-dir", runDirectory.path] }
        let pid = try spawn(executable: try selfExecutable(), arguments: childArguments, output: run.outputLog.path)

        let deadline = Date(timeIntervalSinceNow: waitSeconds)
        while Date() < deadline {
            if RunProbe.probeSocket(run.controlSocket.path) == .live { break }
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid {
                let tail = (try? String(contentsOf: run.outputLog, encoding: .utf8))?
                    .split(separator: "\n").suffix(15).joined(separator: "\n") ?? ""
                throw CLIError("the detached run (pid \(pid)) exited before it began serving; \(run.outputLog.path) ends with:\n\(tail)")
            }
            usleep(100_000)
        }
        let path = runDirectory.path
        print("""
            detached run (pid \(pid)): \(path)
              output:  \(run.outputLog.path)
              attach:  xright attach \(path)
              control: xright ctl \(path) status | pause | resume | lambda 0.3 | stop
            """)
    }

    private static func selfExecutable() throws -> String {
        #if os(Linux)
        if let resolved = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return resolved }
        #endif
        guard let path = Bundle.main.executablePath else { throw CLIError("cannot find this program's executable to re-run it detached") }
        return path
    }

    /// Open descriptors of this process (glibc's posix_spawn ignores a close of one that is no longer open).
    private static func inheritedDescriptors() -> [Int32] {
        #if os(Linux)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        return names.compactMap { Int32($0) }
        #else
        return Array(3..<256)
        #endif
    }

    /// POSIX_SPAWN_SETSID (glibc ≥ 2.26 <spawn.h>; a macro behind _GNU_SOURCE, so not imported).
    #if os(Linux)
    private static let spawnSetSID: Int16 = 0x80
    #else
    private static let spawnSetSID = Int16(POSIX_SPAWN_SETSID)
    #endif

    private static func spawn(executable: String, arguments: [String], output: String) throws -> pid_t {
        var actions = posix_spawn_file_actions_t()
        var attributes = posix_spawnattr_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawnattr_init(&attributes)
        defer {
            posix_spawn_file_actions_destroy(&actions)
            posix_spawnattr_destroy(&attributes)
        }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else is inherited: a descriptor of the launching shell (an sshd pipe, a test harness's pipe) held
        // open by the run would keep that connection or process from ending.
        for fd in inheritedDescriptors() where fd > 2 { posix_spawn_file_actions_addclose(&actions, fd) }
        posix_spawnattr_setflags(&attributes, spawnSetSID)
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, executable, &actions, &attributes, argv, environ)
        guard result == 0 else {
            throw CLIError("\(executable): cannot start the detached run: \(String(cString: strerror(result)))")
        }
        return pid
    }
}
