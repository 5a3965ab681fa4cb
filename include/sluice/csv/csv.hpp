#pragma once
/// \file
/// The CSV layer (standard library only): `csv::read` (rows or typed records),
/// `csv::as<T>`, `csv::encoder`, and their options.

#include "as.hpp"
#include "encoder.hpp"
#include "options.hpp"
#include "read.hpp"
#include "row.hpp"
