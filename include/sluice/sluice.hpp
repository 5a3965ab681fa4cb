#pragma once
/// \file
/// The umbrella header: everything of sluice that needs only the standard library (and
/// POSIX), which is exactly
///   - core/      every header (stages, sources, sinks, closure, run, errors, context, metrics,
///                chunks, the worker, the adaptor helper, the codec and record-encoder
///                concepts, text utilities: UTF-8, JSON strings and objects, ASCII case;
///                random-access inputs, shutdown and signals);
///   - policy/    every header (error_policy, retry, circuit_breaker, endpoint_breakers);
///   - sources/, adaptors/, sinks/   every header: every source, stage and sink with no
///                dependency, parallel_map, prefetch, validate and try_map included;
///   - encoders/line_encoder.hpp and compress/identity.hpp, the dependency-free record encoder
///                and codec.
/// Not included, though they need nothing either: CSV (csv/csv.hpp), the JSON writers
/// (json/jsonl_encoder.hpp, json/array_encoder.hpp), record-format names
/// (formats/data_format.hpp) and the progress display and run report (report/): include them
/// where they are used. Parts with a dependency (JSON reading: simdjson; compression: zlib,
/// libzstd; parquet/: those and libsnappy; postgres/: libpq; net/, s3/, http/: libcurl,
/// OpenSSL) have their own headers and CMake targets. tests/cmake/check_include_layers.cmake
/// checks that this list stays whole. Convenient, not cheap: a program that includes only
/// the stages it uses compiles faster (docs/benchmarks.md, "Header cost").

#include "core/adaptor.hpp"
#include "core/ascii.hpp"
#include "core/block_gate.hpp"
#include "core/byte_count.hpp"
#include "core/chunk.hpp"
#include "core/closure.hpp"
#include "core/codec.hpp"
#include "core/config.hpp"
#include "core/context.hpp"
#include "core/drainable.hpp"
#include "core/error.hpp"
#include "core/generator.hpp"
#include "core/json_escape.hpp"
#include "core/json_object.hpp"
#include "core/maybe.hpp"
#include "core/memory_budget.hpp"
#include "core/metrics.hpp"
#include "core/owned.hpp"
#include "core/random_access.hpp"
#include "core/range_source.hpp"
#include "core/record_encoder.hpp"
#include "core/run.hpp"
#include "core/shutdown.hpp"
#include "core/sink.hpp"
#include "core/stage.hpp"
#include "core/text_block.hpp"
#include "core/type_traits.hpp"
#include "core/units.hpp"
#include "core/utf8.hpp"
#include "core/worker.hpp"

#include "policy/circuit_breaker.hpp"
#include "policy/endpoint_breakers.hpp"
#include "policy/error_policy.hpp"
#include "policy/retry.hpp"

#include "sources/any_bytes.hpp"
#include "sources/iota.hpp"
#include "sources/read_file.hpp"

#include "adaptors/batch.hpp"
#include "adaptors/compress.hpp"
#include "adaptors/encode.hpp"
#include "adaptors/filter.hpp"
#include "adaptors/line_blocks.hpp"
#include "adaptors/lines.hpp"
#include "adaptors/map.hpp"
#include "adaptors/meter.hpp"
#include "adaptors/parallel_map.hpp"
#include "adaptors/prefetch.hpp"
#include "adaptors/progress.hpp"
#include "adaptors/take.hpp"
#include "adaptors/tap.hpp"
#include "adaptors/try_map.hpp"
#include "adaptors/unpack_blocks.hpp"
#include "adaptors/validate.hpp"

#include "sinks/any_bytes.hpp"
#include "sinks/count.hpp"
#include "sinks/dead_letter_file.hpp"
#include "sinks/fold.hpp"
#include "sinks/for_each.hpp"
#include "sinks/to_file.hpp"
#include "sinks/to_vector.hpp"

#include "compress/identity.hpp"
#include "encoders/line_encoder.hpp"
