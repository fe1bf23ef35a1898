import ArgumentParser
import Artifacts
import Embedding
import Graphs
import Interactions
import Metrics
import Sampling
import Synthetic

// Every choice an option offers is a typed value: parsed (and listed in --help)
// by swift-argument-parser, never a string compared inside run().
extension SchemaKind: ExpressibleByArgument {}
extension EdgeWeighting: ExpressibleByArgument {}
extension VideoRowMap.Mode: ExpressibleByArgument {}
extension AffinityClustering.Linkage: ExpressibleByArgument {}
extension TripletSampler.Strategy: ExpressibleByArgument {}
extension NeighbourSampler.Mode: ExpressibleByArgument {}
extension Mining: ExpressibleByArgument {}
extension Proposal: ExpressibleByArgument {}
extension RetrievalEvaluation.Candidates: ExpressibleByArgument {}
extension RetrievalEvaluation.Queries: ExpressibleByArgument {}
extension SyntheticConfiguration.Profile: ExpressibleByArgument {}
extension FrameStorage: ExpressibleByArgument {}

extension LevelChoice: ExpressibleByArgument {
    /// `--level-mix w1,w2,…`.
    public init?(argument: String) { self.init(weights: argument) }
}
