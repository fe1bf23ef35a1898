import ArgumentParser
import Foundation
import StageKit
import Synthetic

@main
struct SynthCommand: Stage {
    static let configuration = CommandConfiguration(
        commandName: "gcml-synth",
        abstract: "Generate a synthetic video corpus with known hierarchical truth.",
        discussion: """
            Writes <out>/frames.h5 (gcml.frames/1; with --video-level <out>/features.h5, gcml.features/1), \
            <out>/sessions.tsv (with --pairs <out>/pairs.tsv) and <out>/truth.h5 (gcml.truth/1). \
            Profiles: tiny (2 000 videos, 4×4×4 topics), demo (20 000 videos, 8×8×8 topics, uint8 frames), \
            large (1 000 000 videos, video-level features and pairs). Options override the profile. \
            The same seed gives the same output. See docs/gcml-synth.md for the generative model.
            """)

    @Option(help: "Profile: tiny, demo or large.") var profile: SyntheticConfiguration.Profile = .demo
    @Option(help: "Output folder.") var out: String
    @OptionGroup var seed: SeedOption<SeedOne>
    @Option(help: "Frame storage: uint8 (YouTube-8M quantisation, [-2, 2]) or float32.") var quantize: FrameStorage?
    @Flag(inversion: .prefixedNo, help: "Write aggregated co-watch pairs.tsv instead of sessions.tsv.") var pairs: Bool?
    @Flag(inversion: .prefixedNo, help: "Write video-level features.h5 instead of frames.h5.") var videoLevel: Bool?
    @OptionGroup var threads: ThreadsOption

    @Option(help: "Number of videos.") var videos: Int?
    @Option(help: "Genres.") var genres: Int?
    @Option(help: "Subgenres per genre.") var subgenresPerGenre: Int?
    @Option(help: "Topics per subgenre.") var topicsPerSubgenre: Int?
    @Option(help: "Zipf exponent of topic popularity.") var topicZipf: Double?
    @Option(help: "Log-normal sigma of video popularity within a topic.") var popularitySigma: Double?
    @Option(help: "Median frames per video.") var framesMedian: Double?
    @Option(help: "Log-normal sigma of frames per video.") var framesSigma: Double?
    @Option(help: "Fewest frames per video.") var framesMin: Int?
    @Option(help: "Most frames per video.") var framesMax: Int?

    @Option(help: "Visual dimension.") var visualDim: Int?
    @Option(help: "Visual genre strength (per-dimension standard deviation).") var visualGenreStrength: Double?
    @Option(help: "Visual subgenre strength.") var visualSubgenreStrength: Double?
    @Option(help: "Visual topic strength.") var visualTopicStrength: Double?
    @Option(help: "Visual per-video strength.") var visualVideoStrength: Double?
    @Option(help: "Visual nuisance style directions.") var visualStyleRank: Int?
    @Option(help: "Visual nuisance style strength.") var visualStyleStrength: Double?
    @Option(help: "Visual per-frame style wobble.") var visualFrameStyle: Double?
    @Option(help: "Visual nuisance clutter directions.") var visualClutterRank: Int?
    @Option(help: "Visual nuisance clutter strength.") var visualClutterStrength: Double?
    @Option(help: "Visual per-frame noise.") var visualNoise: Double?
    @Option(help: "Largest lean of a video toward a sibling topic (0…1).") var topicMixing: Double?
    @Option(help: "Audio dimension (0 = no audio).") var audioDim: Int?
    @Option(help: "Audio genre strength.") var audioGenreStrength: Double?
    @Option(help: "Audio subgenre strength.") var audioSubgenreStrength: Double?
    @Option(help: "Audio topic strength.") var audioTopicStrength: Double?
    @Option(help: "Audio nuisance style directions.") var audioStyleRank: Int?
    @Option(help: "Audio nuisance style strength.") var audioStyleStrength: Double?
    @Option(help: "Audio per-frame noise.") var audioNoise: Double?

    @Option(help: "Attribute label classes.") var attributeClasses: Int?
    @Option(help: "Attributes per topic.") var attributesPerTopic: Int?
    @Option(help: "Chance a video carries each attribute of its topic.") var attributeRate: Double?
    @Option(help: "Chance each genre/subgenre/topic label is missing.") var labelMissing: Double?
    @Option(help: "Chance of one extra random label.") var labelNoise: Double?

    @Option(help: "Number of sessions.") var sessions: Int?
    @Option(help: "Mean session length.") var sessionMeanLength: Double?
    @Option(help: "Shortest session.") var sessionMinLength: Int?
    @Option(help: "Longest session.") var sessionMaxLength: Int?
    @Option(help: "Chance the next watch stays in the current topic.") var stay: Double?
    @Option(help: "Chance it moves to a sibling topic.") var siblingTopic: Double?
    @Option(help: "Chance it moves to a sibling subgenre (the rest: anywhere).") var siblingSubgenre: Double?
    @Option(help: "With --pairs: co-watch window (pairs within this many consecutive watches).") var pairWindow: Int?

    func makeConfiguration() throws -> SyntheticConfiguration {
        try .profile(profile, seed: seed.seed, threads: threads.threads, overrides: givenOptions.filter { $0.name != "out" })
    }

    func validate() throws { try OptionCheck.folder(out, option: "--out") }

    func execute() throws {
        var corpus = try SyntheticCorpus(makeConfiguration())
        corpus.createdBy = Self.stageName
        let c = corpus.configuration
        note("\(c.videos) videos, \(c.genres)×\(c.subgenresPerGenre)×\(c.topicsPerSubgenre) topics, " +
             (c.videoLevel ? "video-level features" : "\(corpus.hierarchy.totalFrames) frames (\(c.storage.rawValue))") +
             ", \(c.sessions) sessions")
        let summary = try corpus.generate(to: out)
        var bytes = 0
        for file in summary.files {
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? NSNumber)??.intValue ?? 0
            bytes += size
            print("\(file)\t\(size) bytes")
        }
        print(String(format: "wrote %d videos, %d frames, %d sessions in %.1f s, %.1f MB",
                     summary.videos, summary.frames, summary.sessions, summary.seconds, Double(bytes) / 1e6))
    }
}
