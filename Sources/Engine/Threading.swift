import CBLAS
import Dispatch

/// How many threads the engine uses: OpenBLAS for matrix products, and the same count for element-wise kernels.
/// Set once at start-up (`XRIGHT_THREADS` or the machine's core count).
public enum EngineThreads {
    public private(set) static var count: Int = 1

    public static func configure(_ requested: Int? = nil) {
        let env = ProcessInfo_threads()
        let n = max(1, requested ?? env ?? activeProcessorCount())
        count = n
        openblas_set_num_threads(Int32(n))
    }

    /// Runs `body(chunkStart, chunkEnd)` over [0, n) split into at most `count` contiguous chunks.
    /// Small ranges run inline: spawning costs more than it saves below `minimumPerThread` items.
    @inline(__always)
    public static func parallelRanges(_ n: Int, minimumPerThread: Int = 4096, _ body: (Int, Int) -> Void) {
        let workers = min(count, max(1, n / max(1, minimumPerThread)))
        if workers <= 1 { body(0, n); return }
        let chunk = (n + workers - 1) / workers
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let start = w * chunk
            let end = min(n, start + chunk)
            if start < end { body(start, end) }
        }
    }
}

import Foundation

private func ProcessInfo_threads() -> Int? {
    ProcessInfo.processInfo.environment["XRIGHT_THREADS"].flatMap { Int($0) }.flatMap { $0 > 0 ? $0 : nil }
}

private func activeProcessorCount() -> Int { ProcessInfo.processInfo.activeProcessorCount }
