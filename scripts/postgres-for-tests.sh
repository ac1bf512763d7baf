#!/usr/bin/env bash
# postgres-for-tests.sh start|halt|stop|url|status — a private PostgreSQL 15 cluster for the collector's
# storage tests, apart from Debian's own cluster (which need not run).
#
#   start   creates the cluster when missing (initdb as the `postgres` user, the role `execwatch`
#           with a random password, the database `execwatch_test`), starts it when stopped, and
#           prints its URL. Running it again while the cluster runs only prints the URL.
#   url     prints postgres://execwatch:PASSWORD@127.0.0.1:55432/execwatch_test?sslmode=disable
#   halt    stops the server and keeps the cluster: `start` runs it again with its data (a test of
#           the collector with its PostgreSQL gone uses it on a cluster of its own).
#   stop    stops the cluster and removes everything it had (data, socket, log, password).
#   status  exits 0 when the cluster runs.
#
# It listens on 127.0.0.1 only (port $EXECWATCH_TEST_PG_PORT, default 55432); its unix socket is
# in the cluster's directory ($EXECWATCH_TEST_PG_DIR, default /tmp/execwatch-test-pg). fsync is
# off: the data are thrown away anyway, and the tests run faster. Setting both variables gives a
# second cluster beside the shared one (a test that stops its server must not stop the shared one).
#
# Typical use:
#   scripts/postgres-for-tests.sh start
#   export EXECWATCH_TEST_POSTGRES_URL=$(scripts/postgres-for-tests.sh url)
#   swift test --filter CollectorStorageTests
set -euo pipefail

base=${EXECWATCH_TEST_PG_DIR:-/tmp/execwatch-test-pg}
port=${EXECWATCH_TEST_PG_PORT:-55432}
bin=/usr/lib/postgresql/15/bin
data=$base/data
socket=$base/run
log=$base/postgresql.log
password_file=$base/password
ready_marker=$base/ready
role=execwatch
database=execwatch_test

die() { echo "postgres-for-tests.sh: $*" >&2; exit 1; }

# Runs a command as the `postgres` user (from root), or as is when that is who we are.
as_postgres() {
    if [ "$(id -un)" = postgres ]; then
        "$@"
    elif [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        die "run me as root or as the postgres user"
    fi
}

psql_admin() {
    as_postgres "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$socket" -p "$port" -U postgres -d postgres "$@"
}

running() {
    [ -f "$data/PG_VERSION" ] && as_postgres "$bin/pg_ctl" status -D "$data" >/dev/null 2>&1
}

url() {
    [ -s "$password_file" ] || die "no test cluster in $base (run: $0 start)"
    echo "postgres://$role:$(cat "$password_file")@127.0.0.1:$port/$database?sslmode=disable"
}

create_cluster() {
    [ -x "$bin/initdb" ] || die "PostgreSQL 15 is not installed (run: scripts/install-deps.sh test)"
    # A cluster that never got ready (interrupted start) is rebuilt from scratch.
    stop_cluster
    mkdir -p "$base"
    chmod 0755 "$base"
    install -d -o postgres -g postgres -m 0700 "$data"
    install -d -o postgres -g postgres -m 0700 "$socket"
    # Hex only: safe in a URL and in SQL without quoting.
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n' >"$password_file.new"
    chmod 0644 "$password_file.new"
    mv "$password_file.new" "$password_file"
    as_postgres "$bin/initdb" -D "$data" -U postgres --auth-local=peer --auth-host=scram-sha-256 \
        --encoding=UTF8 --locale=C.UTF-8 >"$base/initdb.log" 2>&1 ||
        die "initdb failed, see $base/initdb.log"
    cat >>"$data/postgresql.conf" <<EOF

# postgres-for-tests.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$socket'
max_connections = 300
fsync = off
synchronous_commit = off
full_page_writes = off
EOF
}

start_cluster() {
    touch "$log"
    chown postgres:postgres "$log" 2>/dev/null || true
    as_postgres "$bin/pg_ctl" start -D "$data" -l "$log" -w -t 60 >/dev/null ||
        die "the cluster did not start, see $log"
}

create_role_and_database() {
    local password
    password=$(cat "$password_file")
    psql_admin <<EOF
DO \$\$ BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$role') THEN
        CREATE ROLE $role LOGIN PASSWORD '$password';
    ELSE
        ALTER ROLE $role LOGIN PASSWORD '$password';
    END IF;
END \$\$;
EOF
    if [ -z "$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$database'")" ]; then
        psql_admin -c "CREATE DATABASE $database OWNER $role"
    fi
    touch "$ready_marker"
}

stop_cluster() {
    if running; then
        as_postgres "$bin/pg_ctl" stop -D "$data" -m fast -w -t 60 >/dev/null
    fi
    rm -rf "$base"
}

case "${1:-}" in
start)
    if [ -f "$ready_marker" ] && running; then
        url
        exit 0
    fi
    if [ ! -f "$ready_marker" ]; then
        create_cluster
    fi
    start_cluster
    create_role_and_database
    url
    ;;
halt)
    if running; then
        as_postgres "$bin/pg_ctl" stop -D "$data" -m fast -w -t 60 >/dev/null
    fi
    ;;
stop) stop_cluster ;;
url) url ;;
status) running ;;
*)
    echo "usage: $0 start|halt|stop|url|status" >&2
    exit 2
    ;;
esac
