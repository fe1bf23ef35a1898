/// How the process was started: alone, or as one rank of an MPI job.
///
/// Decided from the environment before touching MPI, so a plain run never pays
/// for MPI_Init (a singleton init costs about a quarter of a second).
public enum Launcher: Equatable, Sendable {
    /// Started directly (or by Slurm without a step of several tasks): one process, no MPI.
    case none
    /// Started by mpirun, or by srun with PMIx: initialise MPI.
    case mpi
    /// Started by srun as one of several tasks without PMIx: the tasks cannot form an MPI job.
    case withoutPMIx(tasks: Int)

    public static func detect(_ environment: [String: String]) -> Launcher {
        // mpirun (ORTE) sets OMPI_COMM_WORLD_SIZE; PMIx launchers (mpirun 4.x, srun --mpi=pmix) set PMIX_RANK.
        if environment["OMPI_COMM_WORLD_SIZE"] != nil || environment["PMIX_RANK"] != nil { return .mpi }
        // Inside an sbatch script SLURM_PROCID is set too, but only a job step of several tasks is a parallel launch.
        if environment["SLURM_STEP_ID"] != nil, let tasks = environment["SLURM_STEP_NUM_TASKS"].flatMap(Int.init), tasks > 1 {
            return .withoutPMIx(tasks: tasks)
        }
        return .none
    }
}
