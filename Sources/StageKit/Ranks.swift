import Artifacts
import Distributed
import Support

extension Stage {
    /// Runs the stage's body on every rank of `communicator` (`Communicator.agree`): a rank whose
    /// body throws prints the error, with its rank and in this stage's option names, and ends the job.
    /// Rank 0's publication of the outputs (only rank 0 locks, writes and publishes them; every
    /// file records the number of ranks); nil on the other ranks.
    public func publication(on world: Communicator, outputs: [(String, String?)], inputs: [(String, String?)]) throws -> Publication? {
        world.isRoot ? try publication(outputs: outputs, inputs: inputs, ranks: world.size) : nil
    }

    public func onEveryRank<R>(_ communicator: Communicator, _ body: () throws -> R) throws -> R {
        try communicator.agree(Self.stageName) {
            do {
                return try body()
            } catch let error as GCMLError {
                throw error.renamingParameters(Self.optionName)
            }
        }
    }
}
