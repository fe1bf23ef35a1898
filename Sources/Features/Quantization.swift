/// YouTube-8M byte quantisation of frame features: a byte x stands for
/// x·(max−min)/255 + (max−min)/512 + min (the centre of its bucket).
public struct Quantization: Equatable, Sendable {
    public let minimum: Double
    public let maximum: Double
    /// Float value of every byte.
    public let table: [Float]

    public init(minimum: Double, maximum: Double) {
        self.minimum = minimum
        self.maximum = maximum
        let scale = (maximum - minimum) / 255, offset = (maximum - minimum) / 512 + minimum
        table = (0..<256).map { Float(Double($0) * scale + offset) }
    }

    /// The value a byte stands for, in double precision (the reference formula).
    public func value(of byte: UInt8) -> Double {
        Double(byte) * (maximum - minimum) / 255 + (maximum - minimum) / 512 + minimum
    }

    /// Dequantises `count` bytes into floats through a 256-entry table (exact per byte).
    public func dequantize(_ bytes: UnsafePointer<UInt8>, count: Int, into output: UnsafeMutablePointer<Float>) {
        table.withUnsafeBufferPointer { t in
            for i in 0..<count { output[i] = t[Int(bytes[i])] }
        }
    }
}
