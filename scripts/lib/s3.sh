# shellcheck shell=bash
# The S3 test stack for tests/s3: s3rver (pinned in tests/s3/proxy/package.json) on
# 127.0.0.1 with a temporary directory, and tests/s3/proxy/proxy.js in front of it
# (SigV4 verification, upload lifecycle, part checks, fault injection).
#
#   source scripts/lib/s3.sh
#   s3_start     # installs the npm packages if needed, starts both, exports:
#                #   AWS_ENDPOINT_URL, SLUICE_TEST_S3_ENDPOINT   http://127.0.0.1:<proxy port>
#                #   AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
#                #   SLUICE_TEST_S3_BUCKET (sluice-test), SLUICE_TEST_S3_UPSTREAM (s3rver, direct)
#   s3_stop      # idempotent: stops both and removes the temporary directory
#
# npm packages go to $SLUICE_NPM_DIR (default build/npm/s3, under the gitignored build
# area); `npm ci` against the committed package-lock.json, so a fresh machine with the npm
# registry reachable gets exactly the pinned versions. Logs: $SLUICE_S3_DIR/{s3rver,proxy}.log.
# Returns non-zero (and starts nothing) when node/npm are missing or the install fails, so
# the tests then SKIP.

_S3_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)

# s3_install: installs the pinned npm packages once (re-installs when the lock file changes).
s3_install() {
    local dir=${SLUICE_NPM_DIR:-$_S3_ROOT/build/npm/s3}
    local src=$_S3_ROOT/tests/s3/proxy
    command -v node >/dev/null && command -v npm >/dev/null || {
        echo "s3: node and npm are needed for the S3 test server" >&2
        return 1
    }
    mkdir -p "$dir"
    if [[ -x $dir/node_modules/.bin/s3rver ]] && cmp -s "$src/package-lock.json" "$dir/package-lock.json.installed"; then
        return 0
    fi
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    echo "s3: installing s3rver into $dir" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >&2) || return 1
    cp "$src/package-lock.json" "$dir/package-lock.json.installed"
}

# _s3_wait_port <port> <pid>: waits up to 15 s for a listener on 127.0.0.1:<port>.
_s3_wait_port() {
    local i
    for ((i = 0; i < 150; i++)); do
        kill -0 "$2" 2>/dev/null || return 1
        (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
        sleep 0.1
    done
    return 1
}

_s3_free_port() {
    node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

s3_start() {
    s3_install || return 1
    local dir=${SLUICE_NPM_DIR:-$_S3_ROOT/build/npm/s3}
    SLUICE_S3_DIR=$(mktemp -d "${TMPDIR:-/tmp}/sluice-s3.XXXXXX")
    export SLUICE_S3_DIR
    mkdir -p "$SLUICE_S3_DIR/data"
    local bucket=sluice-test upstream_port
    upstream_port=$(_s3_free_port) || return 1
    "$dir/node_modules/.bin/s3rver" -d "$SLUICE_S3_DIR/data" -a 127.0.0.1 -p "$upstream_port" \
        --silent --no-vhost-buckets --configure-bucket "$bucket" \
        >"$SLUICE_S3_DIR/s3rver.log" 2>&1 &
    _S3_SERVER_PID=$!
    if ! _s3_wait_port "$upstream_port" "$_S3_SERVER_PID"; then
        echo "s3: s3rver did not start (log: $SLUICE_S3_DIR/s3rver.log)" >&2
        s3_stop
        return 1
    fi
    node "$_S3_ROOT/tests/s3/proxy/proxy.js" --port 0 --upstream-port "$upstream_port" \
        --port-file "$SLUICE_S3_DIR/proxy.port" >"$SLUICE_S3_DIR/proxy.log" 2>&1 &
    _S3_PROXY_PID=$!
    local i
    for ((i = 0; i < 150; i++)); do
        [[ -s $SLUICE_S3_DIR/proxy.port ]] && break
        sleep 0.1
    done
    local proxy_port
    proxy_port=$(cat "$SLUICE_S3_DIR/proxy.port" 2>/dev/null) || true
    if [[ -z $proxy_port ]] || ! _s3_wait_port "$proxy_port" "$_S3_PROXY_PID"; then
        echo "s3: the test proxy did not start (log: $SLUICE_S3_DIR/proxy.log)" >&2
        s3_stop
        return 1
    fi
    export AWS_ENDPOINT_URL="http://127.0.0.1:$proxy_port"
    export SLUICE_TEST_S3_ENDPOINT=$AWS_ENDPOINT_URL
    export SLUICE_TEST_S3_UPSTREAM="http://127.0.0.1:$upstream_port"
    export SLUICE_TEST_S3_BUCKET=$bucket
    export AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
    unset AWS_SESSION_TOKEN AWS_PROFILE AWS_ENDPOINT_URL_S3
    echo "s3: s3rver on 127.0.0.1:$upstream_port behind the proxy on $AWS_ENDPOINT_URL" >&2
}

s3_stop() {
    local pid
    # A proxy that died during the tests made every later S3 test fail with "connection
    # refused": show why, before its log is removed.
    if [[ -n ${_S3_PROXY_PID:-} ]] && ! kill -0 "$_S3_PROXY_PID" 2>/dev/null && [[ -f ${SLUICE_S3_DIR:-}/proxy.log ]]; then
        echo "s3: the test proxy had exited before s3_stop; the end of its log:" >&2
        tail -n 40 "$SLUICE_S3_DIR/proxy.log" >&2 || true
    fi
    for pid in ${_S3_PROXY_PID:-} ${_S3_SERVER_PID:-}; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true  # the killed server's status is not ours
    done
    _S3_PROXY_PID= _S3_SERVER_PID=
    if [[ -n ${SLUICE_S3_DIR:-} && -d $SLUICE_S3_DIR ]]; then
        # Keep the logs when asked (SLUICE_KEEP_S3_LOGS=1), else remove everything.
        [[ ${SLUICE_KEEP_S3_LOGS:-0} == 1 ]] || rm -rf "$SLUICE_S3_DIR"
    fi
    unset SLUICE_TEST_S3_ENDPOINT SLUICE_TEST_S3_UPSTREAM
    return 0
}
