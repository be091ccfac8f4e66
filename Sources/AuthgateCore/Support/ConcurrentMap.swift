import Dispatch

extension Array {
    /// `map`, with the elements spread over the machine's cores. The transform must
    /// not touch shared mutable state; the result is in order, as `map` gives it, so
    /// output never depends on scheduling.
    func concurrentMap<T>(_ transform: (Element) -> T) -> [T] {
        let count = self.count
        guard count > 1 else { return map(transform) }
        return [T](unsafeUninitializedCapacity: count) { buffer, initialized in
            // A few chunks per core keep the cores busy when elements cost unevenly.
            let chunks = Swift.min(count, 16)
            withoutActuallyEscaping(transform) { transform in
                nonisolated(unsafe) let transform = transform
                nonisolated(unsafe) let elements = self
                nonisolated(unsafe) let base = buffer.baseAddress!
                DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
                    for index in (count * chunk / chunks)..<(count * (chunk + 1) / chunks) {
                        (base + index).initialize(to: transform(elements[index]))
                    }
                }
            }
            initialized = count
        }
    }
}
