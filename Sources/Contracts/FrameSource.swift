/// One video's frames as they come from an input (frames.h5 or TFRecord shards),
/// already dequantised to float.
public struct VideoFrames {
    public var id: String
    public var frameCount: Int
    /// frameCount × visualDimension, row-major.
    public var visual: [Float]
    /// frameCount × audioDimension, row-major (empty when the input has no audio).
    public var audio: [Float]
    /// Class ids (empty when unlabelled or when the input has no labels).
    public var labels: [Int32]
    /// The byte codes `visual` was dequantised from (the source's `visualQuantization`), same
    /// layout; nil for float input. extract-pca's exact statistics are sums of these codes.
    public var visualCodes: [UInt8]?
    /// The same for `audio` (the source's `audioQuantization`).
    public var audioCodes: [UInt8]?

    public init(id: String, frameCount: Int, visual: [Float], audio: [Float], labels: [Int32],
                visualCodes: [UInt8]? = nil, audioCodes: [UInt8]? = nil) {
        self.id = id
        self.frameCount = frameCount
        self.visual = visual
        self.audio = audio
        self.labels = labels
        self.visualCodes = visualCodes
        self.audioCodes = audioCodes
    }
}

/// A stream of videos with frame-level features. extract-pca reads through this,
/// so frames.h5 and YouTube-8M TFRecord shards go through the same PCA and pooling.
public protocol FrameSource: AnyObject {
    /// A name for messages (file path or shard pattern).
    var description: String { get }
    var visualDimension: Int { get }
    /// 0 when there is no audio.
    var audioDimension: Int { get }
    /// Number of label classes, nil when the input carries no labels.
    var numClasses: Int? { get }
    /// Class names when known.
    var labelNames: [String]? { get }
    /// Videos in the input when known in advance (for progress and ETA).
    var videoCountHint: Int? { get }
    /// Frames in the input when known in advance (progress in frames/s with an ETA); nil by default.
    var frameCountHint: Int? { get }
    /// The byte quantisation the visual frames were dequantised from (nil for float input); when
    /// set, every video carries its `visualCodes` and extract-pca accumulates exact statistics of them.
    var visualQuantization: Quantization? { get }
    /// The same for the audio frames.
    var audioQuantization: Quantization? { get }
    /// Positions in this reader's stream of videos (0 = the first video `next()` returns) where a
    /// fixed block of the fitting statistics starts, after the first; empty: one block. A reader of
    /// a fixed global layout (frames.h5) reports the layout's blocks, so any split of its rows into
    /// whole blocks accumulates the same blocks (float frames: the same PCA bits under any ranks).
    var statisticsBlockStarts: [Int] { get }
    /// Starts again from the first video (PCA fitting and pooling are two passes).
    func rewind() throws
    /// The next video, or nil at the end.
    func next() throws -> VideoFrames?
}

extension FrameSource {
    public var frameCountHint: Int? { nil }
    public var statisticsBlockStarts: [Int] { [] }
    public var visualQuantization: Quantization? { nil }
    public var audioQuantization: Quantization? { nil }
}
