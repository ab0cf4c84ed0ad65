#!/usr/bin/env bash
# Start or stop a throwaway PostgreSQL cluster for the storage tests.
#
#   scripts/pg_test_server.sh start DIR [PORT]   # prints the URL to use as TAILOR_TEST_POSTGRES_URL
#   scripts/pg_test_server.sh stop DIR
#   scripts/pg_test_server.sh status DIR
#
# The cluster lives entirely in DIR, listens only on 127.0.0.1:PORT (default 55432) and
# trusts every local connection: it is for tests, never for data anyone cares about.
# fsync is off because a crash only loses test data, and it makes the tests much faster.
# initdb refuses to run as root, so when run as root the cluster belongs to the
# `postgres` system user (created by Debian's postgresql package).
set -euo pipefail

usage() {
    echo "usage: $0 start DIR [PORT] | stop DIR | status DIR" >&2
    exit 2
}

find_bindir() {
    local d
    for d in /usr/lib/postgresql/*/bin; do
        if [[ -x "$d/initdb" && -x "$d/pg_ctl" ]]; then
            echo "$d"
            return 0
        fi
    done
    if command -v pg_ctl >/dev/null 2>&1 && command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v pg_ctl)"
        return 0
    fi
    return 1
}

ensure_binaries() {
    if ! BINDIR="$(find_bindir)"; then
        if [[ "$(id -u)" -ne 0 ]]; then
            echo "PostgreSQL binaries not found and not root: install the 'postgresql' package" >&2
            exit 1
        fi
        echo "installing PostgreSQL (apt-get)..." >&2
        apt-get update >&2
        DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
        BINDIR="$(find_bindir)"
    fi
}

# Run a command as the cluster owner: ourselves when not root, else the postgres user.
as_owner() {
    if [[ "$(id -u)" -eq 0 ]]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

cmd="${1:-}"
dir="${2:-}"
[[ -n "$cmd" && -n "$dir" ]] || usage

case "$cmd" in
start)
    port="${3:-55432}"
    ensure_binaries
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    if [[ "$(id -u)" -eq 0 ]]; then
        chown postgres: "$dir"
        # The cluster owner must reach DIR through its parents (mktemp -d and pytest make 0700
        # directories). Grant traverse-only permission (o+x, not read) where needed, and say so.
        if ! runuser -u postgres -- test -w "$dir"; then
            parent="$(dirname "$dir")"
            while [[ "$parent" != "/" ]]; do
                if ! runuser -u postgres -- test -x "$parent"; then
                    chmod o+x "$parent"
                    echo "note: chmod o+x $parent so the postgres user can reach $dir" >&2
                fi
                parent="$(dirname "$parent")"
            done
        fi
        if ! runuser -u postgres -- test -w "$dir"; then
            echo "the postgres user cannot write $dir" >&2
            exit 1
        fi
    fi
    data="$dir/data"
    if [[ ! -f "$data/PG_VERSION" ]]; then
        as_owner "$BINDIR/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    fi
    if as_owner "$BINDIR/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        echo "already running in $dir" >&2
    else
        as_owner "$BINDIR/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null
    fi
    port_in_use="$(sed -n 4p "$data/postmaster.pid")"
    if ! as_owner "$BINDIR/psql" -h 127.0.0.1 -p "$port_in_use" -U postgres -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = 'tailor_test'" | grep -q 1; then
        as_owner "$BINDIR/psql" -h 127.0.0.1 -p "$port_in_use" -U postgres -d postgres -qc \
            "CREATE DATABASE tailor_test" >/dev/null
    fi
    echo "postgresql+psycopg://postgres@127.0.0.1:${port_in_use}/tailor_test"
    ;;
stop)
    ensure_binaries
    data="$dir/data"
    if [[ -f "$data/postmaster.pid" ]]; then
        as_owner "$BINDIR/pg_ctl" -D "$data" -m fast -w stop >/dev/null
        echo "stopped" >&2
    else
        echo "not running" >&2
    fi
    ;;
status)
    ensure_binaries
    as_owner "$BINDIR/pg_ctl" -D "$dir/data" status
    ;;
*)
    usage
    ;;
esac
