#pragma once
// Options of Parquet output shared by `sluice convert` and `sluice export`.

#include <cstddef>
#include <string>

namespace cli {

/// What shapes a Parquet output (the codec is --compress, its level --level).
struct parquet_output_options {
    std::string row_group_size;    ///< --row-group-size, e.g. 64MiB; empty: the writer's 16 MiB
    std::string partition_by;      ///< --partition-by a,b: Hive-style directories
    std::size_t max_partitions = 1000;  ///< --max-partitions
    std::string partition_memory;  ///< --partition-memory: one budget for all open partitions (64MiB)
    std::string schema;            ///< convert --schema "id:int64,..."; empty: from the input
};

}  // namespace cli
