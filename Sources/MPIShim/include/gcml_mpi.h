#ifndef GCML_MPI_H
#define GCML_MPI_H
// MPI's handles and constants are macros (casts of addresses of library globals in
// OpenMPI) that Swift cannot import; these functions hand them over as values.
#include <mpi.h>

MPI_Comm gcml_mpi_comm_world(void);
MPI_Datatype gcml_mpi_float(void);
MPI_Datatype gcml_mpi_double(void);
MPI_Datatype gcml_mpi_int8(void);
MPI_Datatype gcml_mpi_uint8(void);
MPI_Datatype gcml_mpi_int32(void);
MPI_Datatype gcml_mpi_int64(void);
MPI_Op gcml_mpi_op_sum(void);
MPI_Op gcml_mpi_op_max(void);
MPI_Op gcml_mpi_op_min(void);
void *gcml_mpi_in_place(void);
int gcml_mpi_success(void);
int gcml_mpi_thread_serialized(void);
#endif
