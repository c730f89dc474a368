import Foundation

/// Scratch memory for one encoding call: the symbol list and merge heap of the word being merged, a buffer for
/// prefixing a space, and the word cache. Reused across calls so the steady state allocates only the output.
final class EncodeWorkspace {
    let cache = WordCache()
    private(set) var capacity = 0
    /// Symbol ids of the word being merged (-1 once merged into its left neighbour), and the linked list.
    private(set) var symbols: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    private(set) var previous: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    private(set) var next: UnsafeMutablePointer<Int32> = .allocate(capacity: 1)
    /// Candidate merges packed as rank << 32 | position; a min-heap orders them by rank, then position.
    private(set) var heap: UnsafeMutablePointer<UInt64> = .allocate(capacity: 1)
    var prefixed: [UInt8] = []

    init() {
        reserve(64)
    }

    deinit {
        symbols.deallocate()
        previous.deallocate()
        next.deallocate()
        heap.deallocate()
    }

    /// Room for a word of `count` bytes (every merge pushes at most two heap entries).
    @inline(__always)
    func reserve(_ count: Int) {
        guard count > capacity else { return }
        var size = max(capacity, 64)
        while size < count { size *= 2 }
        symbols.deallocate()
        previous.deallocate()
        next.deallocate()
        heap.deallocate()
        symbols = .allocate(capacity: size)
        previous = .allocate(capacity: size)
        next = .allocate(capacity: size)
        heap = .allocate(capacity: 3 * size + 4)
        capacity = size
    }
}

/// Workspaces for concurrent callers: a call takes one (under a lock, once per call, not per word) and gives
/// it back, so a tokenizer shared by several threads never shares a cache between them.
final class EncodeWorkspacePool: @unchecked Sendable {
    private let lock = NSLock()
    private var idle: [EncodeWorkspace] = []
    /// Idle workspaces beyond this are dropped (each holds a bounded cache: 3 MiB of slots, arenas up to 8 MiB).
    private let maximumIdle = 8

    func acquire() -> EncodeWorkspace {
        lock.lock()
        defer { lock.unlock() }
        return idle.popLast() ?? EncodeWorkspace()
    }

    func release(_ workspace: EncodeWorkspace) {
        lock.lock()
        defer { lock.unlock() }
        if idle.count < maximumIdle { idle.append(workspace) }
    }
}
