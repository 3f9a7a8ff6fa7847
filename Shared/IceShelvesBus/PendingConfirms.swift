/// The publishes that wait for the broker's confirm, in publish order.
///
/// Confirm sequence numbers rise on a channel, so the waiting publishes form a queue: a
/// `multiple` confirm settles a prefix of it in one pass and a single confirm finds its entry by
/// binary search, with no scan of every waiting publish per confirm frame. Thread-confined to the
/// connection loop.
struct PendingConfirms {
    typealias Done = @Sendable (Result<Void, AMQPError>) -> Void

    private var seqs: [UInt64] = []
    private var dones: [Done?] = []
    private var head = 0
    /// How many entries from `head` on still wait.
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }

    /// Adds a publish; `seq` must be above every earlier one.
    mutating func add(_ seq: UInt64, _ done: @escaping Done) {
        seqs.append(seq)
        dones.append(done)
        count += 1
    }

    /// Removes and returns, in order, what a confirm of `tag` settles.
    mutating func settle(_ tag: UInt64, multiple: Bool) -> [(seq: UInt64, done: Done)] {
        var settled: [(seq: UInt64, done: Done)] = []
        if multiple {
            while head < seqs.count, seqs[head] <= tag {
                if let done = dones[head] { settled.append((seqs[head], done)) }
                dones[head] = nil
                head += 1
            }
        } else if let i = index(of: tag), let done = dones[i] {
            settled.append((tag, done))
            dones[i] = nil
        }
        count -= settled.count
        // Skip what single confirms settled out of order, and give memory back now and then.
        while head < seqs.count, dones[head] == nil { head += 1 }
        if head > 1024, head * 2 > seqs.count {
            seqs.removeFirst(head)
            dones.removeFirst(head)
            head = 0
        }
        return settled
    }

    /// Removes and returns every waiting publish (a lost connection or shutdown).
    mutating func removeAll() -> [Done] {
        let all = dones[head...].compactMap { $0 }
        self = PendingConfirms()
        return all
    }

    private func index(of tag: UInt64) -> Int? {
        var lo = head
        var hi = seqs.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if seqs[mid] < tag { lo = mid + 1 } else { hi = mid }
        }
        return lo < seqs.count && seqs[lo] == tag ? lo : nil
    }
}
