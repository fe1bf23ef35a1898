import Dispatch

/// Element-wise kernels of the training step, written on SIMD8 vectors: Swift must assume
/// typed pointers may alias and keeps floating-point sums in order, so plain loops over
/// pointers stay scalar; these give the vector code explicitly. Results do not depend on
/// the thread count (all single-threaded, fixed order).
enum Kernels {
    typealias V<S: NetworkScalar> = SIMD8<S>

    @inline(__always) static func load<S: NetworkScalar>(_ p: UnsafePointer<S>, _ i: Int) -> SIMD8<S> {
        UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<S>.self)
    }

    @inline(__always) static func store<S: NetworkScalar>(_ v: SIMD8<S>, _ p: UnsafeMutablePointer<S>, _ i: Int) {
        UnsafeMutableRawPointer(p + i).storeBytes(of: v, as: SIMD8<S>.self)
    }

    /// Runs `body` on contiguous chunks of `0..<count` (bounds multiples of `alignment`), one chunk per thread
    /// when `threads` > 1 and each chunk gets at least `minimum` items, else on the calling thread. Only for the
    /// element-wise work between GEMMs: never call BLAS inside (its own threads would nest). Every item is
    /// computed by the same code whatever the split, so results do not depend on `threads`.
    static func forEachChunk(_ count: Int, threads: Int, minimum: Int, alignment: Int = 1, _ body: (Range<Int>) -> Void) {
        let chunks = min(threads, count / max(1, minimum))
        guard chunks > 1 else {
            if count > 0 { body(0..<count) }
            return
        }
        let size = ((count + chunks - 1) / chunks + alignment - 1) / alignment * alignment
        DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
            let range = (chunk * size)..<min(count, (chunk + 1) * size)
            if !range.isEmpty { body(range) }
        }
    }

    /// x += a·y (a multiply then an add per element, as the scalar loop it replaces).
    @inline(__always) static func addScaled<S: NetworkScalar>(_ n: Int, _ x: UnsafeMutablePointer<S>, _ y: UnsafePointer<S>, _ a: S) {
        let va = SIMD8<S>(repeating: a)
        var i = 0
        while i + 8 <= n {
            store(load(UnsafePointer(x), i) + va * load(y, i), x, i)
            i += 8
        }
        while i < n {
            x[i] += a * y[i]
            i += 1
        }
    }

    /// Σ a[i]·b[i].
    @inline(__always) static func dot<S: NetworkScalar>(_ n: Int, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>) -> S {
        var acc = SIMD8<S>(repeating: 0), i = 0
        while i + 8 <= n {
            acc += load(a, i) * load(b, i)
            i += 8
        }
        var sum = acc.sum()
        while i < n {
            sum += a[i] * b[i]
            i += 1
        }
        return sum
    }

    /// y[r,c] = max(y[r,c] + b[c], 0) (relu) or y[r,c] + b[c]. ReLU by bit masks: SIMD
    /// `replace(with:where:)` compiles to a per-lane loop.
    @inline(__always) static func addBias<S: NetworkScalar>(rows: Int, columns: Int, _ y: UnsafeMutablePointer<S>, _ b: UnsafePointer<S>, relu: Bool) {
        for r in 0..<rows {
            let row = y + r * columns
            var c = 0
            while c + 8 <= columns {
                let v = load(UnsafePointer(row), c) + load(b, c)
                store(relu ? S.relu(v) : v, row, c)
                c += 8
            }
            while c < columns {
                let v = row[c] + b[c]
                row[c] = relu && v < 0 ? 0 : v
                c += 1
            }
        }
    }

    /// out[c] = Σ_r x[r,c] (rows `stride` apart, default `columns`), summed in row order.
    @inline(__always) static func columnSums<S: NetworkScalar>(rows: Int, columns: Int, _ x: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>,
                                                              stride: Int? = nil) {
        out.update(repeating: 0, count: columns)
        let stride = stride ?? columns
        for r in 0..<rows { add(columns, out, x + r * stride) }
    }

    /// `columnSums` with the columns split over the threads (each column still summed in row order).
    static func columnSums<S: NetworkScalar>(rows: Int, columns: Int, _ x: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>, threads: Int) {
        forEachChunk(columns, threads: threads, minimum: 64, alignment: 8) { part in
            columnSums(rows: rows, columns: part.count, x + part.lowerBound, out + part.lowerBound, stride: columns)
        }
    }

    /// out = a ⊙ b.
    @inline(__always) static func multiply<S: NetworkScalar>(_ n: Int, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>) {
        var i = 0
        while i + 8 <= n {
            store(load(a, i) * load(b, i), out, i)
            i += 8
        }
        while i < n {
            out[i] = a[i] * b[i]
            i += 1
        }
    }

    /// x += y.
    @inline(__always) static func add<S: NetworkScalar>(_ n: Int, _ x: UnsafeMutablePointer<S>, _ y: UnsafePointer<S>) {
        var i = 0
        while i + 8 <= n {
            store(load(UnsafePointer(x), i) + load(y, i), x, i)
            i += 8
        }
        while i < n {
            x[i] += y[i]
            i += 1
        }
    }

    /// x += y; returns the largest x[i] afterwards, or `floor` when none is larger (for values that are not NaN).
    @inline(__always) static func addReturningMaximum<S: NetworkScalar>(_ n: Int, _ x: UnsafeMutablePointer<S>, _ y: UnsafePointer<S>,
                                                                        floor: S) -> S {
        var top = SIMD8<S>(repeating: floor), i = 0
        while i + 8 <= n {
            let v = load(UnsafePointer(x), i) + load(y, i)
            store(v, x, i)
            top = S.maximum(v, top)
            i += 8
        }
        var result = top.max()
        while i < n {
            x[i] += y[i]
            if x[i] > result { result = x[i] }
            i += 1
        }
        return result
    }

    /// x[i] = exp(x[i] − top) for x[i] ≤ top; returns Σ x[i] afterwards.
    @inline(__always) static func expShifted<S: NetworkScalar>(_ n: Int, _ x: UnsafeMutablePointer<S>, top: S) -> S {
        var acc = SIMD8<S>(repeating: 0), i = 0
        let vtop = SIMD8<S>(repeating: top)
        while i + 8 <= n {
            let e = S.expNegative(vtop - load(UnsafePointer(x), i))
            store(e, x, i)
            acc += e
            i += 8
        }
        var sum = acc.sum()
        while i < n {
            let e = S.exp(x[i] - top)
            x[i] = e
            sum += e
            i += 1
        }
        return sum
    }

    /// x *= s.
    @inline(__always) static func scale<S: NetworkScalar>(_ n: Int, _ x: UnsafeMutablePointer<S>, _ s: S) {
        var i = 0
        while i + 8 <= n {
            store(load(UnsafePointer(x), i) * s, x, i)
            i += 8
        }
        while i < n {
            x[i] *= s
            i += 1
        }
    }

    /// out = (g − z·d)·s.
    @inline(__always) static func tangent<S: NetworkScalar>(_ n: Int, _ g: UnsafePointer<S>, _ z: UnsafePointer<S>, _ d: S, _ s: S,
                                                           _ out: UnsafeMutablePointer<S>) {
        var i = 0
        while i + 8 <= n {
            store((load(g, i) - load(z, i) * d) * s, out, i)
            i += 8
        }
        while i < n {
            out[i] = (g[i] - z[i] * d) * s
            i += 1
        }
    }

    /// The float64 sum, in block order, of `count` vectors `x + j·stride` (j = 0..<count), added after `sums`'s own
    /// values when `continuing`: stored to `sums`, or to `rounded` rounded to the nearest S when it is given. The
    /// widening is exact, so only the float64 additions round, in the same order however the blocks are grouped.
    /// The vectors are left zero (while their cache lines are at hand), ready for GEMMs that add into them.
    @inline(__always) static func addInOrderClearing<S: NetworkScalar>(_ n: Int, _ x: UnsafeMutablePointer<S>, stride: Int, count: Int, continuing: Bool,
                                                                       sums: UnsafeMutablePointer<Double>, rounded: UnsafeMutablePointer<S>?) {
        let first = continuing ? 0 : 1, zero = SIMD8<S>(repeating: 0)
        var i = 0
        while i + 8 <= n {
            var acc = continuing ? load(UnsafePointer(sums), i) : S.widen(load(UnsafePointer(x), i))
            for j in first..<count { acc += S.widen(load(UnsafePointer(x + j * stride), i)) }
            if let rounded { store(S.narrow(acc), rounded, i) } else { store(acc, sums, i) }
            for j in 0..<count { store(zero, x + j * stride, i) }
            i += 8
        }
        while i < n {
            var acc = continuing ? sums[i] : Double(x[i])
            for j in first..<count { acc += Double(x[j * stride + i]) }
            if let rounded { rounded[i] = S(acc) } else { sums[i] = acc }
            for j in 0..<count { x[j * stride + i] = 0 }
            i += 1
        }
    }

    /// x[i] = sums[i] rounded to the nearest S.
    @inline(__always) static func round<S: NetworkScalar>(_ n: Int, _ sums: UnsafePointer<Double>, into x: UnsafeMutablePointer<S>) {
        var i = 0
        while i + 8 <= n {
            store(S.narrow(load(sums, i)), x, i)
            i += 8
        }
        while i < n {
            x[i] = S(sums[i])
            i += 1
        }
    }

    /// grad[i] = 0 where activation[i] <= 0 (ReLU backward).
    @inline(__always) static func reluMask<S: NetworkScalar>(_ n: Int, _ grad: UnsafeMutablePointer<S>, _ activation: UnsafePointer<S>) {
        var i = 0
        while i + 8 <= n {
            store(S.keep(load(UnsafePointer(grad), i), wherePositive: load(activation, i)), grad, i)
            i += 8
        }
        while i < n {
            if activation[i] <= 0 { grad[i] = 0 }
            i += 1
        }
    }
}
