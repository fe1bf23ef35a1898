#include "gcml_mpi.h"

MPI_Comm gcml_mpi_comm_world(void) { return MPI_COMM_WORLD; }
MPI_Datatype gcml_mpi_float(void) { return MPI_FLOAT; }
MPI_Datatype gcml_mpi_double(void) { return MPI_DOUBLE; }
MPI_Datatype gcml_mpi_int8(void) { return MPI_INT8_T; }
MPI_Datatype gcml_mpi_uint8(void) { return MPI_UINT8_T; }
MPI_Datatype gcml_mpi_int32(void) { return MPI_INT32_T; }
MPI_Datatype gcml_mpi_int64(void) { return MPI_INT64_T; }
MPI_Op gcml_mpi_op_sum(void) { return MPI_SUM; }
MPI_Op gcml_mpi_op_max(void) { return MPI_MAX; }
MPI_Op gcml_mpi_op_min(void) { return MPI_MIN; }
void *gcml_mpi_in_place(void) { return MPI_IN_PLACE; }
int gcml_mpi_success(void) { return MPI_SUCCESS; }
int gcml_mpi_thread_serialized(void) { return MPI_THREAD_SERIALIZED; }
