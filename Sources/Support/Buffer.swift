/// A fixed-size, manually owned array for the training hot loop: pointer access
/// without copy-on-write or exclusivity checks, allocated once per run.
public final class Buffer<Element>: @unchecked Sendable {
    public let pointer: UnsafeMutablePointer<Element>
    public let count: Int

    public init(count: Int, repeating value: Element) {
        self.count = count
        pointer = .allocate(capacity: max(1, count))
        pointer.initialize(repeating: value, count: max(1, count))
    }

    public init(_ values: [Element]) {
        precondition(!values.isEmpty, "Buffer: empty initial values")
        count = values.count
        pointer = .allocate(capacity: values.count)
        values.withUnsafeBufferPointer { pointer.initialize(from: $0.baseAddress!, count: values.count) }
    }

    deinit { pointer.deallocate() }

    @inline(__always) public subscript(index: Int) -> Element {
        get { pointer[index] }
        set { pointer[index] = newValue }
    }

    public var array: [Element] { Array(UnsafeBufferPointer(start: pointer, count: count)) }

    public func copy(from values: [Element]) {
        precondition(values.count == count, "Buffer: \(values.count) values for \(count)")
        values.withUnsafeBufferPointer { pointer.update(from: $0.baseAddress!, count: count) }
    }
}
