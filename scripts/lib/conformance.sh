# shellcheck shell=bash
# Conformance data and tools the tests read that are not vendored: the npm packages pinned in
# tests/data/npm/package-lock.json: csv-spectrum, and @duckdb/node-api + hyparquet, the two
# independent Parquet readers (JSONTestSuite is vendored under tests/data/).
#
#   source scripts/lib/conformance.sh
#   conformance_install <npm-dir>   # npm ci into <npm-dir> once (again when the lock changes);
#                                   # the files are then in <npm-dir>/node_modules/csv-spectrum,
#                                   # the readers in <npm-dir>/node_modules/{@duckdb,hyparquet}
#
# The build reads csv-spectrum from <build dir>/npm/conformance (CMake's SLUICE_CSV_SPECTRUM_DIR),
# so scripts/test installs there. Returns non-zero when node/npm are missing or the install
# fails: the tests that need the data then fail, naming the missing directory.

_CONFORMANCE_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

conformance_install() {
    local dir=${1:?usage: conformance_install <npm-dir>}
    local src=$_CONFORMANCE_ROOT/tests/data/npm
    command -v npm >/dev/null || {
        echo "conformance: npm is needed to install tests/data/npm (csv-spectrum, DuckDB, hyparquet)" >&2
        return 1
    }
    mkdir -p "$dir"
    if [[ -f $dir/node_modules/csv-spectrum/package.json &&
        -f $dir/node_modules/hyparquet/package.json &&
        -f $dir/node_modules/hyparquet-compressors/package.json &&
        -f $dir/node_modules/@duckdb/node-api/package.json ]] &&
        cmp -s "$src/package-lock.json" "$dir/package-lock.json.installed"; then
        return 0
    fi
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    echo "conformance: installing tests/data/npm into $dir" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2) || return 1
    cp "$src/package-lock.json" "$dir/package-lock.json.installed"
}
