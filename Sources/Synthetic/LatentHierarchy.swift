import Foundation
import Support

/// The hidden truth of a corpus: genres → subgenres → topics, each video's topic,
/// popularity and length. Topic `t` lies in subgenre `t / topicsPerSubgenre` and genre
/// `t / (subgenresPerGenre · topicsPerSubgenre)` (global ids).
public struct LatentHierarchy: Sendable {
    public let configuration: SyntheticConfiguration
    /// Topic of each video.
    public let topic: [Int32]
    /// The sibling topic each video leans toward, and how much (β in [0, topicMixing]).
    public let secondaryTopic: [Int32]
    public let mixing: [Float]
    /// Frames of each video.
    public let frameCount: [Int32]
    /// Relative popularity of each video within its topic (mean ≈ 1).
    public let popularity: [Float]
    /// Share of each topic in the corpus and in watches (Zipf-like over a random order of topics).
    public let topicShare: [Double]
    /// The attribute classes (0-based within the attributes) each topic tends to carry.
    public let topicAttributes: [[Int]]

    let topicCumulative: [Double]
    /// Videos of topic t are `videosByTopic[topicStart[t]..<topicStart[t+1]]`, by row.
    let topicStart: [Int]
    let videosByTopic: [Int32]
    /// Cumulative popularity along `videosByTopic`, restarting at each topic.
    let popularityCumulative: [Double]

    public init(_ configuration: SyntheticConfiguration) {
        self.configuration = configuration
        let c = configuration
        let streams = RandomStreams(seed: c.seed)
        var random = streams.generator(.hierarchy)
        let topics = c.topics

        var order = Array(0..<topics)
        order.shuffle(using: &random)
        var share = [Double](repeating: 0, count: topics)
        for (rank, t) in order.enumerated() { share[t] = 1 / pow(Double(rank + 1), c.topicZipfExponent) }
        let total = share.reduce(0, +)
        share = share.map { $0 / total }
        topicShare = share
        topicCumulative = Self.cumulative(share)

        var attributes: [[Int]] = []
        for _ in 0..<topics {
            var pool = Array(0..<c.attributeClasses)
            let n = min(c.attributesPerTopic, pool.count)
            pool.fisherYatesPrefix(n, using: &random)
            attributes.append(pool.prefix(n).sorted())
        }
        topicAttributes = attributes

        var topic = [Int32](repeating: 0, count: c.videos)
        var frames = [Int32](repeating: 0, count: c.videos)
        var popularity = [Float](repeating: 0, count: c.videos)
        var secondary = [Int32](repeating: 0, count: c.videos)
        var mixing = [Float](repeating: 0, count: c.videos)
        let logMedian = log(c.framesMedian)
        for v in 0..<c.videos {
            var g = streams.generator(.video, v)
            topic[v] = Int32(Self.draw(topicCumulative, g.unit()))
            popularity[v] = Float(exp(c.videoPopularitySigma * g.normal() - c.videoPopularitySigma * c.videoPopularitySigma / 2))
            let length = exp(logMedian + c.framesSigma * g.normal()).rounded()
            frames[v] = Int32(min(Double(c.framesMax), max(Double(c.framesMin), length)))
            let first = Int(topic[v]) / c.topicsPerSubgenre * c.topicsPerSubgenre
            secondary[v] = Int32(first + g.below(c.topicsPerSubgenre))
            mixing[v] = Float(g.unit() * c.topicMixing)
        }
        self.topic = topic
        frameCount = frames
        self.popularity = popularity
        secondaryTopic = secondary
        self.mixing = mixing

        // Counting sort of videos by topic; cumulative popularity within each topic.
        var start = [Int](repeating: 0, count: topics + 1)
        for t in topic { start[Int(t) + 1] += 1 }
        for t in 0..<topics { start[t + 1] += start[t] }
        var fill = start
        var byTopic = [Int32](repeating: 0, count: c.videos)
        for v in 0..<c.videos {
            byTopic[fill[Int(topic[v])]] = Int32(v)
            fill[Int(topic[v])] += 1
        }
        var cumulative = [Double](repeating: 0, count: c.videos)
        for t in 0..<topics {
            var sum = 0.0
            for i in start[t]..<start[t + 1] {
                sum += Double(popularity[Int(byTopic[i])])
                cumulative[i] = sum
            }
        }
        topicStart = start
        videosByTopic = byTopic
        popularityCumulative = cumulative
    }

    public func subgenre(ofTopic t: Int) -> Int { t / configuration.topicsPerSubgenre }
    public func genre(ofTopic t: Int) -> Int { t / (configuration.topicsPerSubgenre * configuration.subgenresPerGenre) }
    public func genre(_ video: Int) -> Int { genre(ofTopic: Int(topic[video])) }
    public func subgenre(_ video: Int) -> Int { subgenre(ofTopic: Int(topic[video])) }
    public func videoCount(ofTopic t: Int) -> Int { topicStart[t + 1] - topicStart[t] }

    /// Readable ids, wide enough for the corpus: v000000, v000001, …
    public var idWidth: Int { max(6, String(max(0, configuration.videos - 1)).count) }
    public func videoID(_ video: Int) -> String {
        let digits = String(video)
        return "v" + String(repeating: "0", count: max(0, idWidth - digits.count)) + digits
    }

    /// Total frames of the corpus.
    public var totalFrames: Int { frameCount.reduce(0) { $0 + Int($1) } }

    /// A topic drawn by popularity.
    func drawTopic(_ random: inout SeededGenerator) -> Int { Self.draw(topicCumulative, random.unit()) }

    /// A video of topic `t` drawn by popularity, or nil when the topic has no videos.
    func drawVideo(inTopic t: Int, _ random: inout SeededGenerator) -> Int? {
        let lo = topicStart[t], hi = topicStart[t + 1]
        guard hi > lo else { return nil }
        let target = random.unit() * popularityCumulative[hi - 1]   // cumulative restarts at each topic
        var a = lo, b = hi - 1
        while a < b {   // first index with cumulative > target
            let mid = (a + b) / 2
            if popularityCumulative[mid] > target { b = mid } else { a = mid + 1 }
        }
        return Int(videosByTopic[a])
    }

    static func cumulative(_ weights: [Double]) -> [Double] {
        var sum = 0.0
        return weights.map { sum += $0; return sum }
    }

    /// Index of the first cumulative weight above `u` · total.
    static func draw(_ cumulative: [Double], _ u: Double) -> Int {
        let target = u * (cumulative.last ?? 0)
        var a = 0, b = cumulative.count - 1
        while a < b {
            let mid = (a + b) / 2
            if cumulative[mid] > target { b = mid } else { a = mid + 1 }
        }
        return a
    }
}
