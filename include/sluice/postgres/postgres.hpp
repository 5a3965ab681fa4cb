#pragma once
/// \file
/// The whole Postgres adaptor (libpq; CMake target sluice::postgres): connection, row and
/// COPY sources, the row_to_json encoder and JSON export source, and the COPY loader sink.

#include "connection.hpp"
#include "copy_in.hpp"
#include "copy_out.hpp"
#include "csv_encoder.hpp"
#include "json.hpp"
#include "json_lines.hpp"
#include "params.hpp"
#include "quote.hpp"
#include "row.hpp"
#include "rows.hpp"
#include "shard_plan.hpp"
#include "snapshot.hpp"
#include "subquery.hpp"
#include "task_stream.hpp"
