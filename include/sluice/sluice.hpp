#pragma once
/// \file
/// The umbrella header: the core and every stage that needs nothing but the standard
/// library. Optional parts (CSV needs nothing either, but JSON reading needs simdjson,
/// compression zlib/zstd, ...) have their own headers and CMake targets.

#include "core/chunk.hpp"
#include "core/closure.hpp"
#include "core/context.hpp"
#include "core/drainable.hpp"
#include "core/error.hpp"
#include "core/generator.hpp"
#include "core/maybe.hpp"
#include "core/metrics.hpp"
#include "core/owned.hpp"
#include "core/range_source.hpp"
#include "core/run.hpp"
#include "core/sink.hpp"
#include "core/stage.hpp"

#include "sources/any_bytes.hpp"
#include "sources/iota.hpp"
#include "sources/read_file.hpp"

#include "adaptors/batch.hpp"
#include "adaptors/compress.hpp"
#include "adaptors/encode.hpp"
#include "adaptors/filter.hpp"
#include "adaptors/lines.hpp"
#include "adaptors/map.hpp"
#include "adaptors/meter.hpp"
#include "adaptors/progress.hpp"
#include "adaptors/take.hpp"
#include "adaptors/tap.hpp"

#include "encoders/line_encoder.hpp"
#include "compress/identity.hpp"

#include "sinks/any_bytes.hpp"
#include "sinks/count.hpp"
#include "sinks/fold.hpp"
#include "sinks/for_each.hpp"
#include "sinks/to_file.hpp"
#include "sinks/to_vector.hpp"
