import Distributed
import Support

extension Stage {
    /// Runs the stage's body on every rank of `communicator` (`Communicator.agree`): a rank whose
    /// body throws prints the error, with its rank and in this stage's option names, and ends the job.
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
