# shellcheck shell=bash
# A throwaway PostgreSQL cluster for tests and benchmarks. Source this file, then:
#
#   pg_start        initdb into a temporary directory, start on 127.0.0.1 and a free port,
#                   create the database, and export the connection settings (below)
#   pg_stop         stop the cluster and remove its directory; idempotent, so it is safe in
#                   an EXIT trap and after a failed or partial pg_start
#
# Exports after pg_start:
#   PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD   for psql and any libpq client
#   SLUICE_TEST_PG_DSN       postgresql://user:password@127.0.0.1:port/db (what tests read)
#   SLUICE_TEST_PG_PASSWORD  the password, so tests can check it never leaks into messages
#   SLUICE_PG_DIR            the cluster's temporary directory (data, socket, log)
#
# The cluster uses scram-sha-256 password authentication (not trust), so the tests exercise
# a real password. Postgres refuses to run as root: when we are root, the server runs as the
# `postgres` user that Debian's package creates, or as a `sluice-pg` system user created here.
# It is tuned for throwaway use (fsync off): never point it at data you want to keep.
#
# Environment: SLUICE_PG_BINDIR (default: newest /usr/lib/postgresql/*/bin, or pg_config's),
# SLUICE_PG_DATABASE (default sluice_test), SLUICE_PG_USER (default sluice).

# _pg_bindir: prints the directory holding initdb and pg_ctl, or fails.
_pg_bindir() {
    if [[ -n ${SLUICE_PG_BINDIR:-} ]]; then
        printf '%s\n' "$SLUICE_PG_BINDIR"
        return 0
    fi
    local dir
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [[ -x $dir/initdb && -x $dir/pg_ctl ]] && { printf '%s\n' "$dir"; return 0; }
    done
    if command -v pg_config >/dev/null; then
        dir=$(pg_config --bindir)
        [[ -x $dir/initdb ]] && { printf '%s\n' "$dir"; return 0; }
    fi
    command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return 0; }
    return 1
}

# _pg_free_port: prints a TCP port that was free on 127.0.0.1 a moment ago.
_pg_free_port() {
    if command -v python3 >/dev/null; then
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
        return
    fi
    # Fallback: probe random high ports with bash's /dev/tcp (a refused connect means free).
    local port i
    for ((i = 0; i < 100; i++)); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            printf '%s\n' "$port"
            return 0
        fi
    done
    return 1
}

# _pg_server_user: the account the server runs as (when we are root), created if needed.
_pg_server_user() {
    if id -u postgres >/dev/null 2>&1; then
        printf '%s\n' postgres
        return 0
    fi
    if ! id -u sluice-pg >/dev/null 2>&1; then
        useradd --system --no-create-home --shell /usr/sbin/nologin sluice-pg >&2 || return 1
    fi
    printf '%s\n' sluice-pg
}

# _pg_as_server <command...>: runs a command as the server's account.
_pg_as_server() {
    if ((EUID == 0)); then
        if command -v runuser >/dev/null; then
            runuser -u "$_SLUICE_PG_OS_USER" -- "$@"
        else
            su -s /bin/sh "$_SLUICE_PG_OS_USER" -c "$(printf '%q ' "$@")"
        fi
    else
        "$@"
    fi
}

# pg_start: starts the cluster and exports the settings above. Returns non-zero (after
# cleaning up) when PostgreSQL is missing or does not start; the tests then skip.
pg_start() {
    if [[ -n ${SLUICE_PG_DIR:-} && -d ${SLUICE_PG_DIR} ]]; then
        echo "pg_start: a cluster is already running in $SLUICE_PG_DIR" >&2
        return 0
    fi
    local bindir
    bindir=$(_pg_bindir) || {
        echo "pg_start: PostgreSQL server binaries not found (install postgresql-15)" >&2
        return 1
    }
    _SLUICE_PG_BINDIR=$bindir
    _SLUICE_PG_OS_USER=$(id -un)
    if ((EUID == 0)); then
        _SLUICE_PG_OS_USER=$(_pg_server_user) || {
            echo "pg_start: no non-root account to run postgres as" >&2
            return 1
        }
    fi

    local dir user db password
    dir=$(mktemp -d "${TMPDIR:-/tmp}/sluice-pg.XXXXXX") || return 1
    SLUICE_PG_DIR=$dir
    export SLUICE_PG_DIR
    user=${SLUICE_PG_USER:-sluice}
    db=${SLUICE_PG_DATABASE:-sluice_test}
    # Random and URI-safe (hex), so it can sit in the DSN unescaped.
    password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    password="pw${password}"
    printf '%s\n' "$password" >"$dir/pwfile"
    chmod 600 "$dir/pwfile"
    ((EUID == 0)) && chown -R "$_SLUICE_PG_OS_USER" "$dir"

    if ! _pg_as_server "$bindir/initdb" -D "$dir/data" -U "$user" --pwfile="$dir/pwfile" \
        --auth=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-sync \
        >"$dir/initdb.log" 2>&1; then
        echo "pg_start: initdb failed:" >&2
        cat "$dir/initdb.log" >&2
        pg_stop
        return 1
    fi
    rm -f "$dir/pwfile"

    # A free port can be taken between probing and binding: retry a few times.
    local port attempt started=0
    for attempt in 1 2 3 4 5; do
        port=$(_pg_free_port) || break
        if _pg_as_server "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off \
                -c synchronous_commit=off -c full_page_writes=off -c max_connections=50 \
                -c shared_buffers=64MB" start >/dev/null 2>&1; then
            started=1
            break
        fi
    done
    if ((!started)); then
        echo "pg_start: the server did not start; its log:" >&2
        tail -n 30 "$dir/server.log" >&2 2>/dev/null
        pg_stop
        return 1
    fi

    export PGHOST=127.0.0.1 PGPORT=$port PGUSER=$user PGPASSWORD=$password
    export PGDATABASE=postgres
    if ! "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$db\"" >/dev/null; then
        echo "pg_start: cannot create database $db" >&2
        pg_stop
        return 1
    fi
    export PGDATABASE=$db
    export SLUICE_TEST_PG_PASSWORD=$password
    export SLUICE_TEST_PG_DSN="postgresql://$user:$password@127.0.0.1:$port/$db"
    echo "pg_start: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port (database $db, data in $dir)" >&2
}

# pg_stop: stops the cluster started by pg_start and removes its directory. Safe to call
# when nothing runs, twice, or after a partial start.
pg_stop() {
    local dir=${SLUICE_PG_DIR:-}
    if [[ -n $dir && -d $dir ]]; then
        if [[ -f $dir/data/postmaster.pid ]]; then
            _pg_as_server "${_SLUICE_PG_BINDIR:-$(_pg_bindir)}/pg_ctl" -D "$dir/data" \
                -m immediate -w -t 30 stop >/dev/null 2>&1 || true
        fi
        rm -rf -- "$dir"
    fi
    unset SLUICE_PG_DIR SLUICE_TEST_PG_DSN SLUICE_TEST_PG_PASSWORD
    unset PGHOST PGPORT PGUSER PGDATABASE PGPASSWORD
    return 0
}
