/// The byte-level BPE model proper: initial symbols are bytes, merges apply by rank.
struct BPEModel: Sendable {
    /// Id of each byte's single-character token, or -1 when the vocabulary lacks it (Pythia has no tokens for
    /// the bytes UTF-8 never uses).
    let byteIds: [Int32]
    let merges: MergeTable
    /// Replaces bytes without a token; -1 means such bytes are dropped (as `tokenizers` does without unk_token).
    let unknownId: Int32
    let fuseUnknown: Bool
    /// When set, a word that is itself a vocabulary token is emitted whole (Llama-3 style `ignore_merges`).
    let wholeWordIds: [[UInt8]: Int32]?

    /// Appends the ids of `word` (raw bytes of one pre-token) to `out`, using and filling the cache.
    @inline(__always)
    func encodeWord(_ word: UnsafeBufferPointer<UInt8>, workspace: EncodeWorkspace, into out: inout [Int]) {
        if word.count == 1 {
            let id = byteIds[Int(word[0])]
            if id >= 0 { out.append(Int(id)) } else if unknownId >= 0 { out.append(Int(unknownId)) }
            return
        }
        let cacheable = word.count <= WordCache.maximumWordLength
        var hash: UInt64 = 0
        if cacheable {
            hash = WordCache.hash(word)
            if let ids = workspace.cache.lookup(word, hash: hash) {
                for id in ids { out.append(Int(id)) }
                return
            }
        }
        let symbolCount = merge(word, workspace: workspace)
        let symbols = workspace.symbols
        let next = workspace.next
        // Compact the surviving symbols to the front (positions only move left, so this is in place).
        var kept = 0
        var i = 0
        while i < symbolCount {
            symbols[kept] = symbols[i]
            kept += 1
            i = Int(next[i])
        }
        for k in 0..<kept { out.append(Int(symbols[k])) }
        if cacheable {
            workspace.cache.insert(word, hash: hash, ids: UnsafeBufferPointer(start: symbols, count: kept))
        }
    }

    /// Runs BPE on `word`; returns the number of initial symbols. The merged word is the list starting at
    /// position 0 and linked through `workspace.next` (merged-away positions hold -1).
    @inline(__always)
    private func merge(_ word: UnsafeBufferPointer<UInt8>, workspace: EncodeWorkspace) -> Int {
        workspace.reserve(word.count)
        let symbols = workspace.symbols
        var n = 0
        for byte in word {
            let id = byteIds[Int(byte)]
            if id >= 0 {
                symbols[n] = id
                n += 1
            } else if unknownId >= 0, !(fuseUnknown && n > 0 && symbols[n - 1] == unknownId) {
                symbols[n] = unknownId
                n += 1
            }
        }
        if let wholeWordIds, let id = wholeWordIds[Array(word)] {
            symbols[0] = id
            workspace.next[0] = 1
            return 1
        }
        let previous = workspace.previous
        let next = workspace.next
        for i in 0..<n {
            previous[i] = Int32(i - 1)
            next[i] = Int32(i + 1)
        }
        guard n >= 2 else { return n }

        // Candidate merges in a binary min-heap; stale entries are skipped when popped (as in `tokenizers`,
        // `Word::merge_all`): each merge costs O(log n), no rescans of the word.
        let heap = workspace.heap
        var heapCount = 0
        @inline(__always) func push(_ value: UInt64) {
            var child = heapCount
            heapCount += 1
            while child > 0 {
                let parent = (child - 1) >> 1
                if heap[parent] <= value { break }
                heap[child] = heap[parent]
                child = parent
            }
            heap[child] = value
        }
        @inline(__always) func pop() -> UInt64 {
            let top = heap[0]
            heapCount -= 1
            let last = heap[heapCount]
            var parent = 0
            while true {
                var child = 2 * parent + 1
                if child >= heapCount { break }
                if child + 1 < heapCount, heap[child + 1] < heap[child] { child += 1 }
                if heap[child] >= last { break }
                heap[parent] = heap[child]
                parent = child
            }
            heap[parent] = last
            return top
        }
        @inline(__always) func candidate(_ position: Int, _ rank: Int32) -> UInt64 {
            UInt64(UInt32(bitPattern: rank)) << 32 | UInt64(position)
        }

        for i in 0..<(n - 1) {
            if let rule = merges.lookup(symbols[i], symbols[i + 1]) { push(candidate(i, rule.rank)) }
        }
        while heapCount > 0 {
            let top = pop()
            let position = Int(top & 0xFFFF_FFFF)
            let rank = Int32(truncatingIfNeeded: top >> 32)
            let left = symbols[position]
            if left < 0 { continue }
            let right = Int(next[position])
            if right >= n { continue }
            // The pair at this position may have changed since the entry was pushed.
            guard let rule = merges.lookup(left, symbols[right]), rule.rank == rank else { continue }
            symbols[position] = rule.merged
            symbols[right] = -1
            let after = Int(next[right])
            next[position] = Int32(after)
            if after < n { previous[after] = Int32(position) }
            let before = Int(previous[position])
            if before >= 0, let r = merges.lookup(symbols[before], rule.merged) { push(candidate(before, r.rank)) }
            if after < n, let r = merges.lookup(rule.merged, symbols[after]) { push(candidate(position, r.rank)) }
        }
        return n
    }
}
