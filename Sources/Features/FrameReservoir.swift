import Support

/// A uniform sample of `capacity` frames from a stream of unknown length
/// (reservoir sampling, Algorithm R): after t frames every frame is held with
/// probability capacity/t. The same frames are kept for every modality, and the
/// same seed keeps the same frames. Memory is capacity × (sum of widths) floats.
public final class FrameReservoir {
    public let capacity: Int
    public let widths: [Int]
    /// Frames offered so far.
    public private(set) var seen = 0
    /// Rows held, per modality (row-major, `held` rows).
    public private(set) var rows: [[Float]]
    private var generator: SeededGenerator

    public init(capacity: Int, widths: [Int], seed: UInt64) {
        precondition(capacity > 0)
        self.capacity = capacity
        self.widths = widths
        rows = widths.map { _ in [] }
        generator = SeededGenerator(seed: seed)
    }

    /// Rows currently held (min(seen, capacity)).
    public var held: Int { min(seen, capacity) }

    /// Offers frame `row` of each modality's `frames` (one row-major buffer per modality).
    public func offer(_ frames: [UnsafePointer<Float>], row: Int) {
        let slot: Int
        if seen < capacity {
            slot = seen
            for m in widths.indices { rows[m].append(contentsOf: UnsafeBufferPointer(start: frames[m] + row * widths[m], count: widths[m])) }
        } else {
            slot = generator.below(seen + 1)
            if slot < capacity {
                for m in widths.indices {
                    let w = widths[m]
                    rows[m].withUnsafeMutableBufferPointer { target in
                        (target.baseAddress! + slot * w).update(from: frames[m] + row * w, count: w)
                    }
                }
            }
        }
        seen += 1
    }
}
