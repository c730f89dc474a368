import Foundation

/// OpenBLAS worker threads spin (sched_yield) for a long while after each matrix product. Between products the
/// engine runs its own element-wise kernels on the same two cores, and the spinning workers steal a whole core
/// from them: measured 3,500 → 4,400 training tokens/s on the bench preset with a short timeout. OpenBLAS reads
/// `OPENBLAS_THREAD_TIMEOUT` only when it loads, before `main`, so the process re-executes itself once with the
/// variable set. A value the user set is kept.
enum BLASEnvironment {
    static let variable = "OPENBLAS_THREAD_TIMEOUT"
    /// 2^4 cycles: workers go to sleep almost at once.
    static let timeout = "4"

    static func settleBeforeStart() {
        guard getenv(variable) == nil else { return }
        setenv(variable, timeout, 1)
        // /proc/self/exe is this binary even when started through a relative path or a symlink.
        let arguments = CommandLine.arguments
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        execv("/proc/self/exe", &argv)
        // exec failed (no /proc?): carry on with OpenBLAS's default timeout; only speed is at stake.
        for p in argv { free(p) }
    }
}
