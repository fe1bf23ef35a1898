import Artifacts
import Foundation
import Support

/// Simulated viewing sessions. A user starts in a home topic drawn by popularity; before
/// each further watch the session stays in its current topic, moves to a sibling topic
/// (same subgenre), to a topic of a sibling subgenre (same genre), or anywhere (by
/// popularity). Videos are drawn within the topic by popularity, without repeats.
/// Lengths are `sessionMinLength` + a geometric number with mean `sessionMeanLength` −
/// `sessionMinLength`, capped at `sessionMaxLength`.
public struct SessionSimulator: Sendable {
    public let hierarchy: LatentHierarchy
    let streams: RandomStreams

    public init(hierarchy: LatentHierarchy) {
        self.hierarchy = hierarchy
        streams = RandomStreams(seed: hierarchy.configuration.seed)
    }

    /// The videos (rows) of session `index`, in watch order, written into `videos`.
    public func session(_ index: Int, into videos: inout [Int32]) {
        let c = hierarchy.configuration
        videos.removeAll(keepingCapacity: true)
        var random = streams.generator(.session, index)
        let extra = c.sessionMeanLength - Double(c.sessionMinLength)
        var length = c.sessionMinLength
        if extra > 0 {
            // Geometric on {0, 1, …} with mean `extra`: success probability 1 / (extra + 1).
            let u = max(random.unit(), 1e-300)
            length += Int(log(u) / log(extra / (extra + 1)))
        }
        length = min(length, c.sessionMaxLength)

        guard var current = anyTopic(&random) else { return }
        for step in 0..<length {
            if step > 0 { current = move(from: current, &random) }
            // A few tries to find a video not yet in the session; a topic too small skips the watch.
            for _ in 0..<8 {
                guard let video = hierarchy.drawVideo(inTopic: current, &random) else { break }
                if !videos.contains(Int32(video)) {
                    videos.append(Int32(video))
                    break
                }
            }
        }
    }

    /// Next topic of a session now in topic `t`.
    func move(from t: Int, _ random: inout SeededGenerator) -> Int {
        let c = hierarchy.configuration
        let u = random.unit()
        if u < c.stayProbability { return t }
        let perSubgenre = c.topicsPerSubgenre, perGenre = c.subgenresPerGenre * c.topicsPerSubgenre
        if u < c.stayProbability + c.siblingTopicProbability {
            let first = (t / perSubgenre) * perSubgenre
            return sibling(of: t, among: first..<(first + perSubgenre), &random) ?? t
        }
        if u < c.stayProbability + c.siblingTopicProbability + c.siblingSubgenreProbability {
            let first = (t / perGenre) * perGenre
            let own = t / perSubgenre
            // Topics of the genre outside the current subgenre.
            return sibling(of: t, among: first..<(first + perGenre), excluding: own, &random) ?? t
        }
        return anyTopic(&random) ?? t
    }

    /// A topic in `range` other than `t` (and outside subgenre `excluding`), weighted by
    /// its number of videos (so empty topics are never chosen); nil when there is none.
    private func sibling(of t: Int, among range: Range<Int>, excluding subgenre: Int? = nil,
                         _ random: inout SeededGenerator) -> Int? {
        let perSubgenre = hierarchy.configuration.topicsPerSubgenre
        func eligible(_ s: Int) -> Bool { s != t && (subgenre == nil || s / perSubgenre != subgenre!) }
        var total = 0
        for s in range where eligible(s) { total += hierarchy.videoCount(ofTopic: s) }
        guard total > 0 else { return nil }
        var target = random.below(total)
        for s in range where eligible(s) {
            let n = hierarchy.videoCount(ofTopic: s)
            if target < n { return s }
            target -= n
        }
        return nil
    }

    /// A topic with videos, drawn by popularity.
    private func anyTopic(_ random: inout SeededGenerator) -> Int? {
        for _ in 0..<64 {
            let t = hierarchy.drawTopic(&random)
            if hierarchy.videoCount(ofTopic: t) > 0 { return t }
        }
        return nil
    }

    /// Writes `session_id<TAB>video_id` lines, sessions in order, watches in order.
    public func writeSessions(to path: String, in publication: Publication, progress: Support.Progress? = nil) throws {
        let c = hierarchy.configuration
        let writer = try TextWriter(path, in: publication)
        let idWidth = max(7, String(max(0, c.sessions - 1)).count)
        let videoIDs = VideoIDFormatter(hierarchy: hierarchy)
        var videos: [Int32] = []
        videos.reserveCapacity(c.sessionMaxLength)
        for i in 0..<c.sessions {
            session(i, into: &videos)
            for v in videos {
                writer.append(byte: UInt8(ascii: "s"))
                writer.append(number: i, width: idWidth)
                writer.append(byte: 9)
                videoIDs.append(Int(v), to: writer)
                writer.append(byte: 10)
            }
            try writer.flushIfFull()
            if i & 1023 == 1023 { progress?.advance(by: 1024) }
        }
        try writer.commit()
        progress?.set(c.sessions)
    }

    /// Writes aggregated co-watch pairs `video_a<TAB>video_b<TAB>count` (a < b by row):
    /// every pair of distinct videos within `pairWindow` consecutive watches of a session
    /// counts once. Pairs are collected in passes over ranges of `a`, so memory stays
    /// under about `budget` pair keys; the output is sorted by (a, b).
    public func writePairs(to path: String, in publication: Publication, budget: Int = 16 << 20, progress: Support.Progress? = nil) throws {
        let c = hierarchy.configuration
        let window = c.pairWindow
        let estimate = Double(c.sessions) * c.sessionMeanLength * Double(window - 1) * 1.2
        let passes = max(1, Int((estimate / Double(budget)).rounded(.up)))
        let writer = try TextWriter(path, in: publication)
        let videoIDs = VideoIDFormatter(hierarchy: hierarchy)
        var videos: [Int32] = []
        var keys: [UInt64] = []
        for pass in 0..<passes {
            let lo = c.videos * pass / passes, hi = c.videos * (pass + 1) / passes
            keys.removeAll(keepingCapacity: true)
            for i in 0..<c.sessions {
                session(i, into: &videos)
                for j in 0..<videos.count {
                    for k in (j + 1)..<min(videos.count, j + window) {
                        let a = Int(min(videos[j], videos[k])), b = Int(max(videos[j], videos[k]))
                        if a >= lo && a < hi { keys.append(UInt64(a) << 32 | UInt64(b)) }
                    }
                }
            }
            keys.sort()
            var start = 0
            while start < keys.count {
                var end = start + 1
                while end < keys.count && keys[end] == keys[start] { end += 1 }
                videoIDs.append(Int(keys[start] >> 32), to: writer)
                writer.append(byte: 9)
                videoIDs.append(Int(keys[start] & 0xFFFF_FFFF), to: writer)
                writer.append(byte: 9)
                writer.append(number: end - start, width: 1)
                writer.append(byte: 10)
                try writer.flushIfFull()
                start = end
            }
            progress?.advance(by: 1, note: "\(keys.count) co-watches")
        }
        try writer.commit()
    }
}

/// Writes video ids ("v" + zero-padded row) without building strings.
struct VideoIDFormatter {
    let width: Int
    init(hierarchy: LatentHierarchy) { width = hierarchy.idWidth }
    func append(_ video: Int, to writer: TextWriter) {
        writer.append(byte: UInt8(ascii: "v"))
        writer.append(number: video, width: width)
    }
}

/// A text file prepared in a publication: bytes go to the publication's temporary for `path`,
/// handed back by `commit()` (published with the other outputs); dropped without commit,
/// the temporary is removed.
final class TextWriter {
    let path: String
    private let publication: Publication
    private let temporary: TemporaryFile
    private let handle: FileHandle
    private var buffer: [UInt8] = []
    private static let flushSize = 1 << 20

    init(_ path: String, in publication: Publication) throws {
        self.path = path
        self.publication = publication
        temporary = try publication.temporary(for: path)
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil),
              let handle = FileHandle(forWritingAtPath: temporary.path) else {
            throw GCMLError("\(path): could not create the temporary file \(temporary.path)")
        }
        self.handle = handle
        buffer.reserveCapacity(Self.flushSize + 4096)
    }

    deinit { try? handle.close() }

    @inline(__always) func append(byte: UInt8) { buffer.append(byte) }

    /// Appends a non-negative decimal number, zero-padded to `width` digits.
    func append(number: Int, width: Int) {
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                     UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        var n = max(0, number)
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                d[count] = UInt8(48 + n % 10)
                n /= 10
                count += 1
            } while n > 0
            for _ in count..<max(count, min(width, 20)) { buffer.append(48) }
            for i in stride(from: count - 1, through: 0, by: -1) { buffer.append(d[i]) }
        }
    }

    func flushIfFull() throws {
        if buffer.count >= Self.flushSize { try flush() }
    }

    private func flush() throws {
        do { try handle.write(contentsOf: buffer) } catch {
            throw GCMLError("\(path): could not write: \(error.localizedDescription)")
        }
        buffer.removeAll(keepingCapacity: true)
    }

    func commit() throws {
        try flush()
        do { try handle.close() } catch {
            throw GCMLError("\(path): could not write: \(error.localizedDescription)")
        }
        publication.adopt(temporary, as: path)
    }
}
