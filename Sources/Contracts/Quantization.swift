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
        // As the YouTube-8M starter code computes it in TensorFlow: float32 scalar and bias,
        // the product rounded to float32 before the add (two ops), so frames.h5 and
        // TFRecord inputs dequantise to the same bits.
        let scalar = Float((maximum - minimum) / 255)
        let bias = Float((maximum - minimum) / 512 + minimum)
        table = (0..<256).map { x in
            let product = Float(x) * scalar
            return product + bias
        }
    }

    /// The value a byte stands for, in double precision (the reference formula).
    public func value(of byte: UInt8) -> Double {
        Double(byte) * (maximum - minimum) / 255 + (maximum - minimum) / 512 + minimum
    }

    /// Dequantises `count` bytes into floats through the 256-entry table.
    public func dequantize(_ bytes: UnsafePointer<UInt8>, count: Int, into output: UnsafeMutablePointer<Float>) {
        table.withUnsafeBufferPointer { t in
            for i in 0..<count { output[i] = t[Int(bytes[i])] }
        }
    }
}
