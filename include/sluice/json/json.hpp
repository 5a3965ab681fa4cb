#pragma once
/// \file
/// The whole JSON layer: writers and encoders (no dependency) and the readers (simdjson).
/// Include the individual headers to use the writers without simdjson.

#include "../core/json_escape.hpp"
#include "array_encoder.hpp"
#include "compact.hpp"
#include "document_reader.hpp"
#include "json_array_reader.hpp"
#include "jsonl_encoder.hpp"
#include "jsonl_reader.hpp"
#include "record.hpp"
#include "write_value.hpp"
#include "writer.hpp"
