#pragma once
/// \file
/// The whole JSON layer (CMake target sluice::json), exactly: the dependency-free writers
/// (writer.hpp, write_value.hpp, the JSON string escaper of core/json_escape.hpp,
/// compact.hpp), the record encoders (jsonl_encoder.hpp, array_encoder.hpp), and the
/// simdjson readers (jsonl_reader.hpp, json_array_reader.hpp, document_reader.hpp) with their
/// records (record.hpp). Include the writer and encoder headers alone to use them without
/// simdjson.

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
