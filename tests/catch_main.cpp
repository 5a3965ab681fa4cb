// Catch2's main(), compiled once into sluice_catch_main and shared by every test executable.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
