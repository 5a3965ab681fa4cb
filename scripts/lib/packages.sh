# shellcheck shell=bash
# Debian packages needed to build and test sluice, and an idempotent installer.
# Sourced by scripts/test and scripts/demo.

SLUICE_PACKAGES=(
    build-essential cmake ninja-build ccache pkg-config
    librange-v3-dev libsimdjson-dev catch2 libcli11-dev libfmt-dev libbenchmark-dev
    zlib1g-dev libdeflate-dev libisal-dev libzstd-dev libsnappy-dev
    libpq-dev postgresql-15
    libcurl4-openssl-dev libssl-dev libcpp-httplib-dev
    zstd pigz gzip python3 python3-boto3 python3-yaml curl
)

# sluice_package_installed <package>: true iff dpkg has it fully installed.
sluice_package_installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# sluice_install_packages [package...]: installs the missing ones (default: SLUICE_PACKAGES).
# Touches apt only when something is missing, so repeated runs are fast and offline-safe.
sluice_install_packages() {
    local packages=("$@")
    ((${#packages[@]})) || packages=("${SLUICE_PACKAGES[@]}")
    local missing=() package
    for package in "${packages[@]}"; do
        sluice_package_installed "$package" || missing+=("$package")
    done
    ((${#missing[@]})) || return 0

    echo "sluice: installing missing packages: ${missing[*]}" >&2
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null || {
            echo "sluice: need root (or sudo) to install: ${missing[*]}" >&2
            return 1
        }
        sudo=(sudo)
    fi
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -q --no-install-recommends "${missing[@]}"
}

# sluice_cmake_generator_args <build-dir>: prints "-G Ninja" (one word per line) for a fresh
# build directory when ninja is available; nothing for an existing one (its generator is fixed).
sluice_cmake_generator_args() {
    if [[ ! -f "$1/CMakeCache.txt" ]] && command -v ninja >/dev/null; then
        printf '%s\n' -G Ninja
    fi
}

# sluice_cmake_launcher_args: prints the ccache launcher option when ccache is installed.
sluice_cmake_launcher_args() {
    if command -v ccache >/dev/null; then
        printf '%s\n' -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
    fi
}
