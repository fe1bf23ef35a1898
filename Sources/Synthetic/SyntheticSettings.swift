import Support

extension SyntheticConfiguration {
    /// The configuration's settable values by parameter key: what a caller may
    /// override on top of a profile, and the keys `validate()` names in its errors.
    public static let settings: [String: PartialKeyPath<SyntheticConfiguration>] = [
        "quantize": \.storage, "pairs": \.pairs, "videoLevel": \.videoLevel, "threads": \.threads,
        "videos": \.videos, "genres": \.genres, "subgenresPerGenre": \.subgenresPerGenre, "topicsPerSubgenre": \.topicsPerSubgenre,
        "topicZipf": \.topicZipfExponent, "popularitySigma": \.videoPopularitySigma, "topicMixing": \.topicMixing,
        "framesMedian": \.framesMedian, "framesSigma": \.framesSigma, "framesMin": \.framesMin, "framesMax": \.framesMax,
        "visualDim": \.visual.dimension, "visualGenreStrength": \.visual.genreStrength,
        "visualSubgenreStrength": \.visual.subgenreStrength, "visualTopicStrength": \.visual.topicStrength,
        "visualVideoStrength": \.visual.videoStrength, "visualStyleRank": \.visual.styleRank,
        "visualStyleStrength": \.visual.styleStrength, "visualFrameStyle": \.visual.frameStyleStrength,
        "visualClutterRank": \.visual.clutterRank, "visualClutterStrength": \.visual.clutterStrength,
        "visualNoise": \.visual.frameNoise,
        "audioDim": \.audio.dimension, "audioGenreStrength": \.audio.genreStrength, "audioSubgenreStrength": \.audio.subgenreStrength,
        "audioTopicStrength": \.audio.topicStrength, "audioStyleRank": \.audio.styleRank,
        "audioStyleStrength": \.audio.styleStrength, "audioNoise": \.audio.frameNoise,
        "attributeClasses": \.attributeClasses, "attributesPerTopic": \.attributesPerTopic, "attributeRate": \.attributeRate,
        "labelMissing": \.labelMissingRate, "labelNoise": \.labelNoiseRate,
        "sessions": \.sessions, "sessionMeanLength": \.sessionMeanLength, "sessionMinLength": \.sessionMinLength,
        "sessionMaxLength": \.sessionMaxLength, "stay": \.stayProbability, "siblingTopic": \.siblingTopicProbability,
        "siblingSubgenre": \.siblingSubgenreProbability, "pairWindow": \.pairWindow,
    ]

    /// Sets the value of a parameter key (see `settings`).
    public mutating func set(_ key: String, to value: Any) throws {
        guard let path = Self.settings[key] else { throw GCMLError("no synthetic parameter named \(key)") }
        switch (path, value) {
        case (let path as WritableKeyPath<Self, Int>, let value as Int): self[keyPath: path] = value
        case (let path as WritableKeyPath<Self, Double>, let value as Double): self[keyPath: path] = value
        case (let path as WritableKeyPath<Self, Bool>, let value as Bool): self[keyPath: path] = value
        case (let path as WritableKeyPath<Self, FrameStorage>, let value as FrameStorage): self[keyPath: path] = value
        default: throw GCMLError(parameter: key, expected: "a value of the parameter's type", found: "\(value) (\(type(of: value)))")
        }
    }
}

extension SyntheticConfiguration {
    /// `profile` with `seed`, `threads` and each of `overrides` (parameter key, value; see `settings`)
    /// set over it: given parameters override the profile.
    public static func profile(_ profile: Profile, seed: UInt64, threads: Int,
                               overrides: [(name: String, value: Any)]) throws -> SyntheticConfiguration {
        var configuration = Self.profile(profile)
        (configuration.seed, configuration.threads) = (seed, threads)
        for (key, value) in overrides { try configuration.set(key, to: value) }
        return configuration
    }
}
