#pragma once
/// \file
/// The CSV layer (standard library only; CMake target sluice::core), exactly: the reader
/// `csv::read` (read.hpp; rows or typed records), `csv::row` and `csv::header` (row.hpp),
/// typed fields `csv::as<T>` (as.hpp), the record encoder `csv::encoder` (encoder.hpp),
/// their options (options.hpp) and `csv::record_blocks` (record_blocks.hpp: whole records in
/// blocks, for parsing on several threads). Each header can be included alone.

#include "as.hpp"
#include "encoder.hpp"
#include "options.hpp"
#include "read.hpp"
#include "record_blocks.hpp"
#include "row.hpp"
