import Support

/// How a synthetic modality (visual or audio) mixes its parts. Strengths are
/// per-dimension standard deviations, so a frame's expected squared norm is
/// dimension · (sum of the squared strengths).
public struct ModalityModel: Equatable, Sendable {
    /// Raw feature dimension (2048 visual, 128 audio as in YouTube-8M).
    public var dimension: Int
    /// Topic signal: genre > subgenre > topic.
    public var genreStrength: Double
    public var subgenreStrength: Double
    public var topicStrength: Double
    /// A per-video direction shared by all frames of the video (its individuality).
    public var videoStrength: Double
    /// Nuisance "style" (lighting, recording quality …): `styleRank` random directions,
    /// per-video coefficients; unrelated to topics and stronger than the topic signal.
    public var styleRank: Int
    public var styleStrength: Double
    /// Frame-to-frame wobble of the style coefficients within a video.
    public var frameStyleStrength: Double
    /// Nuisance "clutter": `clutterRank` further random directions with per-video
    /// coefficients, each direction about as strong as a topic direction, so that
    /// whitening alone cannot tell nuisance from topic.
    public var clutterRank: Int
    public var clutterStrength: Double
    /// Independent per-frame, per-dimension noise.
    public var frameNoise: Double
    /// A global offset of the features (the mean PCA removes).
    public var offsetStrength: Double

    public init(dimension: Int, genreStrength: Double, subgenreStrength: Double, topicStrength: Double, videoStrength: Double,
                styleRank: Int, styleStrength: Double, frameStyleStrength: Double, clutterRank: Int = 0, clutterStrength: Double = 0,
                frameNoise: Double, offsetStrength: Double) {
        self.dimension = dimension
        self.genreStrength = genreStrength
        self.subgenreStrength = subgenreStrength
        self.topicStrength = topicStrength
        self.videoStrength = videoStrength
        self.styleRank = styleRank
        self.styleStrength = styleStrength
        self.frameStyleStrength = frameStyleStrength
        self.clutterRank = clutterRank
        self.clutterStrength = clutterStrength
        self.frameNoise = frameNoise
        self.offsetStrength = offsetStrength
    }

    /// Per-dimension variance of one frame around the global offset.
    public var frameVariance: Double {
        [genreStrength, subgenreStrength, topicStrength, videoStrength, styleStrength, frameStyleStrength, clutterStrength, frameNoise]
            .reduce(0) { $0 + $1 * $1 }
    }

    /// The default visual model: style variance (0.40²) is 1.8× the whole topic signal
    /// (0.22² + 0.16² + 0.12²) and lives in 24 directions; clutter (0.25²) spreads over 128
    /// directions, each about as strong as a topic direction.
    public static let visual = ModalityModel(dimension: 2048, genreStrength: 0.22, subgenreStrength: 0.16, topicStrength: 0.12,
                                             videoStrength: 0.10, styleRank: 24, styleStrength: 0.40, frameStyleStrength: 0.10,
                                             clutterRank: 128, clutterStrength: 0.25, frameNoise: 0.30, offsetStrength: 0.10)
    /// The default audio model: mostly genre, its own nuisance.
    public static let audio = ModalityModel(dimension: 128, genreStrength: 0.30, subgenreStrength: 0.08, topicStrength: 0.03,
                                            videoStrength: 0.10, styleRank: 8, styleStrength: 0.35, frameStyleStrength: 0.10,
                                            frameNoise: 0.30, offsetStrength: 0.10)
}

/// How frames are stored in frames.h5.
public enum FrameStorage: String, CaseIterable, Sendable {
    /// YouTube-8M's uint8 quantisation over [-2, 2].
    case uint8
    case float32
}

/// Every size and strength of the generator. Start from a profile and change what you need.
public struct SyntheticConfiguration: Equatable, Sendable {
    public enum Profile: String, CaseIterable, Sendable { case tiny, demo, large }

    public var seed: UInt64 = 1

    // Latent hierarchy.
    public var videos: Int
    public var genres = 8
    public var subgenresPerGenre = 8
    public var topicsPerSubgenre = 8
    /// Topic popularity ∝ 1 / rank^exponent (ranks in a random order of topics).
    public var topicZipfExponent = 0.7
    /// Each video leans toward a second topic of its subgenre: its topic centre is
    /// (1 − β) · topic + β · second topic with β uniform in [0, topicMixing].
    public var topicMixing = 0.5
    /// Video popularity within its topic: log-normal with this sigma.
    public var videoPopularitySigma = 1.0

    // Frames per video: log-normal around the median, clamped.
    public var framesMedian = 24.0
    public var framesSigma = 0.6
    public var framesMin = 5
    public var framesMax = 150

    public var visual = ModalityModel.visual
    public var audio = ModalityModel.audio
    public var storage = FrameStorage.uint8

    // Labels: genre, subgenre and topic classes plus topic-correlated attributes.
    public var attributeClasses = 64
    public var attributesPerTopic = 4
    /// Chance that a video of a topic carries each of the topic's attributes.
    public var attributeRate = 0.5
    /// Chance that each hierarchical label (genre, subgenre, topic) is missing.
    public var labelMissingRate = 0.1
    /// Chance that a video carries one extra label of a random class.
    public var labelNoiseRate = 0.05

    // Sessions.
    public var sessions: Int
    public var sessionMeanLength = 8.0
    public var sessionMinLength = 2
    public var sessionMaxLength = 64
    /// At each watch after the first: stay in the current topic, move to a sibling topic,
    /// to a topic of a sibling subgenre, or anywhere (by popularity). The rest of the
    /// probability mass after the first three is "anywhere".
    public var stayProbability = 0.70
    public var siblingTopicProbability = 0.18
    public var siblingSubgenreProbability = 0.08
    /// With `pairs`, write aggregated co-watch pairs within this many consecutive watches.
    public var pairs = false
    public var pairWindow = 5

    /// Write video-level features.h5 (gcml.features/1) instead of frames.h5: the frame
    /// average is drawn directly (frame noise and wobble shrink by 1/√frames).
    public var videoLevel = false

    /// Worker threads for feature generation (output is identical for any count).
    public var threads = 2

    public init(videos: Int, sessions: Int) {
        self.videos = videos
        self.sessions = sessions
    }

    public static func profile(_ profile: Profile) -> SyntheticConfiguration {
        switch profile {
        case .tiny:
            var c = SyntheticConfiguration(videos: 2000, sessions: 20000)
            c.genres = 4; c.subgenresPerGenre = 4; c.topicsPerSubgenre = 4
            c.framesMedian = 10; c.framesSigma = 0.5; c.framesMin = 4; c.framesMax = 60
            c.attributeClasses = 16; c.attributesPerTopic = 3
            return c
        case .demo:
            return SyntheticConfiguration(videos: 20000, sessions: 200_000)
        case .large:
            var c = SyntheticConfiguration(videos: 1_000_000, sessions: 5_000_000)
            c.framesMedian = 60; c.framesSigma = 0.8; c.framesMin = 10; c.framesMax = 300
            c.storage = .float32
            c.videoLevel = true
            c.visual.dimension = 256
            c.pairs = true
            return c
        }
    }

    public var subgenres: Int { genres * subgenresPerGenre }
    public var topics: Int { subgenres * topicsPerSubgenre }
    public var anywhereProbability: Double { 1 - stayProbability - siblingTopicProbability - siblingSubgenreProbability }
    public var numClasses: Int { genres + subgenres + topics + attributeClasses }

    /// Checks that the numbers make a corpus; errors name the parameter (its key in `settings`).
    public func validate() throws {
        func require(_ ok: Bool, _ key: String, _ expected: GCMLError.Text, _ found: Any) throws {
            if !ok { throw GCMLError(parameter: key, expected: expected, found: "\(found)") }
        }
        try require(videos >= 1, "videos", "at least 1", videos)
        try require(genres >= 1, "genres", "at least 1", genres)
        try require(subgenresPerGenre >= 1, "subgenresPerGenre", "at least 1", subgenresPerGenre)
        try require(topicsPerSubgenre >= 1, "topicsPerSubgenre", "at least 1", topicsPerSubgenre)
        try require(topicMixing >= 0 && topicMixing <= 1, "topicMixing", "a number in [0, 1]", topicMixing)
        try require(topicZipfExponent >= 0, "topicZipf", "a number >= 0", topicZipfExponent)
        try require(videoPopularitySigma >= 0, "popularitySigma", "a number >= 0", videoPopularitySigma)
        try require(framesMin >= 1 && framesMin <= framesMax, "framesMin", "1 <= it <= \(parameter: "framesMax")", "\(framesMin)...\(framesMax)")
        try require(framesMedian > 0, "framesMedian", "a positive number", framesMedian)
        try require(framesSigma >= 0, "framesSigma", "a number >= 0", framesSigma)
        for (name, model) in [("visual", visual), ("audio", audio)] {
            try require(model.dimension >= (name == "audio" ? 0 : 1), "\(name)Dim", name == "audio" ? "at least 0" : "at least 1", model.dimension)
            try require(model.styleRank >= 0, "\(name)StyleRank", "at least 0", model.styleRank)
            try require(model.clutterRank >= 0, "\(name)ClutterRank", "at least 0", model.clutterRank)
            let strengths = [model.genreStrength, model.subgenreStrength, model.topicStrength, model.videoStrength,
                             model.styleStrength, model.frameStyleStrength, model.clutterStrength, model.frameNoise, model.offsetStrength]
            guard strengths.allSatisfy({ $0 >= 0 && $0.isFinite }) else {
                throw GCMLError("\(name) strengths: expected finite values >= 0, found \(strengths)")
            }
        }
        try require(attributeClasses >= 0, "attributeClasses", "at least 0", attributeClasses)
        try require(attributesPerTopic >= 0 && (attributesPerTopic == 0 || attributesPerTopic <= attributeClasses),
                    "attributesPerTopic", "between 0 and \(parameter: "attributeClasses") (\(attributeClasses))", attributesPerTopic)
        for (key, p) in [("attributeRate", attributeRate), ("labelMissing", labelMissingRate), ("labelNoise", labelNoiseRate)] {
            try require(p >= 0 && p <= 1, key, "a probability in [0, 1]", p)
        }
        try require(sessions >= 0, "sessions", "at least 0", sessions)
        try require(sessionMinLength >= 1 && sessionMinLength <= sessionMaxLength, "sessionMinLength",
                    "1 <= it <= \(parameter: "sessionMaxLength")", "\(sessionMinLength)...\(sessionMaxLength)")
        try require(sessionMeanLength >= Double(sessionMinLength) && sessionMeanLength <= Double(sessionMaxLength),
                    "sessionMeanLength", "between the minimum and maximum session length", sessionMeanLength)
        let moves = [stayProbability, siblingTopicProbability, siblingSubgenreProbability]
        guard moves.allSatisfy({ $0 >= 0 }) && anywhereProbability >= -1e-12 else {
            throw GCMLError("\(parameter: "stay"), \(parameter: "siblingTopic"), \(parameter: "siblingSubgenre"): expected probabilities >= 0 with a sum <= 1, found \(moves)")
        }
        try require(pairWindow >= 2, "pairWindow", "at least 2", pairWindow)
        try require(threads >= 1, "threads", "at least 1", threads)
    }

    /// The options as a JSON object (stored as the `parameters` provenance and in truth.h5).
    public var parameters: [String: Any] {
        func model(_ m: ModalityModel) -> [String: Any] {
            ["dimension": m.dimension, "genre_strength": m.genreStrength, "subgenre_strength": m.subgenreStrength,
             "topic_strength": m.topicStrength, "video_strength": m.videoStrength, "style_rank": m.styleRank,
             "style_strength": m.styleStrength, "frame_style_strength": m.frameStyleStrength,
             "clutter_rank": m.clutterRank, "clutter_strength": m.clutterStrength, "frame_noise": m.frameNoise,
             "offset_strength": m.offsetStrength]
        }
        return [
            "seed": Int64(bitPattern: seed), "videos": videos, "genres": genres, "subgenres_per_genre": subgenresPerGenre,
            "topics_per_subgenre": topicsPerSubgenre, "topic_mixing": topicMixing, "topic_zipf_exponent": topicZipfExponent,
            "video_popularity_sigma": videoPopularitySigma, "frames_median": framesMedian, "frames_sigma": framesSigma,
            "frames_min": framesMin, "frames_max": framesMax, "visual": model(visual), "audio": model(audio),
            "storage": storage.rawValue, "attribute_classes": attributeClasses, "attributes_per_topic": attributesPerTopic,
            "attribute_rate": attributeRate, "label_missing_rate": labelMissingRate, "label_noise_rate": labelNoiseRate,
            "sessions": sessions, "session_mean_length": sessionMeanLength, "session_min_length": sessionMinLength,
            "session_max_length": sessionMaxLength, "stay_probability": stayProbability,
            "sibling_topic_probability": siblingTopicProbability, "sibling_subgenre_probability": siblingSubgenreProbability,
            "pairs": pairs, "pair_window": pairWindow, "video_level": videoLevel,
        ]
    }
}
