import Support

/// Multi-label annotations: the video's genre, subgenre and topic classes (each missing
/// with `labelMissingRate`), the topic's attribute classes (each with `attributeRate`),
/// and with `labelNoiseRate` one extra class drawn uniformly (label noise).
/// Class ids: genres, then subgenres, then topics, then attributes.
public struct LabelModel: Sendable {
    let hierarchy: LatentHierarchy
    let streams: RandomStreams

    init(hierarchy: LatentHierarchy) {
        self.hierarchy = hierarchy
        streams = RandomStreams(seed: hierarchy.configuration.seed)
    }

    public var numClasses: Int { hierarchy.configuration.numClasses }

    /// Class names: genre_3, subgenre_3.5, topic_3.5.2, attribute_17.
    public var classNames: [String] {
        let c = hierarchy.configuration
        var names: [String] = (0..<c.genres).map { "genre_\($0)" }
        names += (0..<c.subgenres).map { "subgenre_\($0 / c.subgenresPerGenre).\($0 % c.subgenresPerGenre)" }
        names += (0..<c.topics).map { t in
            let s = t / c.topicsPerSubgenre
            return "topic_\(s / c.subgenresPerGenre).\(s % c.subgenresPerGenre).\(t % c.topicsPerSubgenre)"
        }
        names += (0..<c.attributeClasses).map { "attribute_\($0)" }
        return names
    }

    /// The labels of `video`, sorted and unique, appended to `labels`.
    func append(labelsOf video: Int, to labels: inout [Int32]) {
        let c = hierarchy.configuration
        var random = streams.generator(.labels, video)
        let t = Int(hierarchy.topic[video])
        let start = labels.count
        let hierarchical = [hierarchy.genre(ofTopic: t), c.genres + hierarchy.subgenre(ofTopic: t), c.genres + c.subgenres + t]
        for label in hierarchical where random.unit() >= c.labelMissingRate { labels.append(Int32(label)) }
        for a in hierarchy.topicAttributes[t] where random.unit() < c.attributeRate {
            labels.append(Int32(c.genres + c.subgenres + c.topics + a))
        }
        if random.unit() < c.labelNoiseRate {
            let extra = Int32(random.below(c.numClasses))
            if !labels[start...].contains(extra) { labels.append(extra) }
        }
        labels[start...].sort()
    }
}
