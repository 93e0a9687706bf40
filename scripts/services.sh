#!/usr/bin/env bash
# Start/stop the local services the test suite needs (see README.md, "Tests").
#
#   scripts/services.sh up      install what is missing, start RabbitMQ + PostgreSQL, print env lines
#   scripts/services.sh down    stop both (idempotent)
#   scripts/services.sh status  report whether each answers; exit 0 only if both do
#
# Runs as root on Debian 12. Everything listens on 127.0.0.1 only.
# PostgreSQL state lives in $REPO/.services/pg (must be git-ignored); RabbitMQ uses the system
# package's state dir (/var/lib/rabbitmq) with node name rabbit@localhost.
#
# Settings (environment):
#   SHIPGAUGE_PG_PORT        PostgreSQL port (default 5433)
#   SHIPGAUGE_SERVICE_TIMEOUT seconds to wait for each service to come up (default 90)
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
SERVICES_DIR="$REPO/.services"
PG_BASE="$SERVICES_DIR/pg"
PG_DATA="$PG_BASE/data"
PG_LOGDIR="$PG_BASE/log"
PG_LOG="$PG_LOGDIR/postgresql.log"
PG_PORT="${SHIPGAUGE_PG_PORT:-5433}"
PG_DB="shipgauge_test"
PG_URL="postgresql://postgres@127.0.0.1:${PG_PORT}/${PG_DB}"

AMQP_PORT=5672
AMQP_URL="amqp://guest:guest@127.0.0.1:${AMQP_PORT}//"
RABBIT_NODE="rabbit@localhost"
TIMEOUT="${SHIPGAUGE_SERVICE_TIMEOUT:-90}"

# Environment for every RabbitMQ command: loopback only, fixed node name.
export RABBITMQ_NODENAME="$RABBIT_NODE"
export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1
export RABBITMQ_NODE_PORT="$AMQP_PORT"
export RABBITMQ_DIST_PORT=25672
export ERL_EPMD_ADDRESS=127.0.0.1
export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
export RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"

# postgres cannot enter root's home; run everything from a neutral directory.
cd /

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }

[[ "$(id -u)" == 0 ]] || die "must run as root (installs packages, switches to the postgres user)"

# ----------------------------------------------------------------------------------------------
# RabbitMQ
# ----------------------------------------------------------------------------------------------

# True if something on 127.0.0.1:5672 answers the AMQP 0-9-1 protocol header with a frame.
amqp_answers() {
    timeout 5 bash -c '
        exec 3<>/dev/tcp/127.0.0.1/'"$AMQP_PORT"' || exit 1
        printf "AMQP\x00\x00\x09\x01" >&3
        b=$(head -c 1 <&3 | od -An -tx1 | tr -d " \n")
        [[ "$b" == "01" ]]   # frame type 1 = method frame (connection.start)
    ' 2>/dev/null
}

rabbit_installed() { [[ -x /usr/sbin/rabbitmq-server ]] && dpkg-query -W -f='${Status}' rabbitmq-server 2>/dev/null | grep -q 'install ok installed'; }

rabbit_beam_pids() { pgrep -u rabbitmq -f 'beam' 2>/dev/null || true; }

# apt-get install PKG, refreshing the package lists first when apt does not know it (new machine).
apt_install() {
    local pkg="$1"
    local apt_opts=(-y -q -o DPkg::Lock::Timeout=300 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        log "apt-get update..."
        apt-get update -q -o DPkg::Lock::Timeout=300 >&2
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" "$pkg" >&2 9>&-; then
        log "install failed; refreshing package lists and retrying..."
        apt-get update -q -o DPkg::Lock::Timeout=300 >&2
        DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" "$pkg" >&2 9>&- \
            || die "apt-get install $pkg failed"
    fi
}

# Headless Chromium for the dashboard tests: a package, not a service, installed once.
install_chromium() {
    command -v chromium >/dev/null 2>&1 && return 0
    log "installing chromium (apt)..."
    apt_install chromium
}

install_rabbit() {
    rabbit_installed && return 0
    log "installing rabbitmq-server (apt)..."
    local t0=$SECONDS policy=/usr/sbin/policy-rc.d backup=""
    # Keep the package's postinst from trying to start a service (there is no systemd here).
    if [[ -e "$policy" ]]; then
        backup="$(mktemp)"
        cp -p "$policy" "$backup"
    fi
    # shellcheck disable=SC2064
    trap "if [[ -n '$backup' ]]; then mv -f '$backup' '$policy'; else rm -f '$policy'; fi" EXIT
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"

    apt_install rabbitmq-server

    if [[ -n "$backup" ]]; then mv -f "$backup" "$policy"; else rm -f "$policy"; fi
    trap - EXIT

    # If the postinst managed to start a broker (or epmd) anyway, stop it: we start our own.
    local pids
    pids="$(rabbit_beam_pids) $(pgrep -u rabbitmq -x epmd 2>/dev/null || true)"
    if [[ -n "${pids// /}" ]]; then
        log "stopping broker/epmd started by the package install (pids: $(echo $pids))"
        # shellcheck disable=SC2086
        kill $pids 2>/dev/null || true
        sleep 2
        # shellcheck disable=SC2086
        kill -9 $pids 2>/dev/null || true
    fi
    rabbit_installed || die "rabbitmq-server still not installed after apt-get"
    log "rabbitmq-server installed in $((SECONDS - t0)) s"
}

RABBIT_T0=""
# Start the broker detached (no waiting): it boots while PostgreSQL is being set up.
rabbit_start() {
    install_rabbit
    if amqp_answers; then
        log "rabbitmq: already running on 127.0.0.1:$AMQP_PORT"
        return 0
    fi
    if [[ -n "$(rabbit_beam_pids)" ]]; then
        log "rabbitmq: node process exists but AMQP not answering yet; waiting for it"
    else
        log "rabbitmq: starting $RABBIT_NODE on 127.0.0.1:$AMQP_PORT..."
        rabbitmq-server -detached >&2 9>&- || die "rabbitmq-server -detached failed"
    fi
    RABBIT_T0=$SECONDS
}

rabbit_wait() {
    [[ -n "$RABBIT_T0" ]] || return 0
    local deadline=$((RABBIT_T0 + TIMEOUT))
    local logfile="/var/log/rabbitmq/${RABBIT_NODE}.log"
    until amqp_answers; do
        if ((SECONDS >= deadline)); then
            [[ -f "$logfile" ]] && tail -n 40 "$logfile" >&2
            die "rabbitmq did not accept AMQP connections on 127.0.0.1:$AMQP_PORT within ${TIMEOUT}s (log: $logfile)"
        fi
        if ((SECONDS - RABBIT_T0 >= 10)) && [[ -z "$(rabbit_beam_pids)" ]]; then
            [[ -f "$logfile" ]] && tail -n 40 "$logfile" >&2
            die "rabbitmq node exited during startup (log: $logfile)"
        fi
        sleep 0.5
    done
    log "rabbitmq: up in $((SECONDS - RABBIT_T0)) s"
}

rabbit_down() {
    if ! rabbit_installed; then
        log "rabbitmq: not installed"
        return 0
    fi
    if [[ -z "$(rabbit_beam_pids)" ]]; then
        log "rabbitmq: not running"
        return 0
    fi
    log "stopping rabbitmq..."
    rabbitmqctl -q -n "$RABBIT_NODE" stop >&2 2>/dev/null 9>&- || true
    local deadline=$((SECONDS + 30))
    while amqp_answers || [[ -n "$(rabbit_beam_pids)" ]]; do
        if ((SECONDS >= deadline)); then
            local pids
            pids="$(rabbit_beam_pids)"
            log "rabbitmq did not stop in 30 s; killing pids $(echo $pids)"
            # shellcheck disable=SC2086
            [[ -n "$pids" ]] && kill -9 $pids 2>/dev/null || true
            break
        fi
        sleep 0.5
    done
    log "rabbitmq: stopped"
}

# ----------------------------------------------------------------------------------------------
# PostgreSQL
# ----------------------------------------------------------------------------------------------

PG_BIN=""
find_pg_bin() {
    [[ -n "$PG_BIN" ]] && return 0
    local ver=""
    # An existing cluster must keep using the major version that created it.
    if [[ -f "$PG_DATA/PG_VERSION" ]]; then
        ver="$(cat "$PG_DATA/PG_VERSION")"
        [[ -x "/usr/lib/postgresql/$ver/bin/pg_ctl" ]] \
            || die "$PG_DATA was created by PostgreSQL $ver, whose binaries are missing; delete $PG_BASE to recreate it"
    else
        ver="$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/pg_ctl' 2>/dev/null \
            | awk -F/ '{print $5}' | sort -V | tail -n 1)"
        [[ -n "$ver" ]] || die "no PostgreSQL binaries found under /usr/lib/postgresql/<version>/bin"
    fi
    PG_BIN="/usr/lib/postgresql/$ver/bin"
}

as_pg() { runuser -u postgres -- "$@"; }

# Unix socket path is limited to ~107 bytes; fall back to a short dir under /tmp if needed.
pg_socket_dir() {
    local d="$PG_BASE/run"
    if ((${#d} + 20 > 100)); then
        d="/tmp/shipgauge-pg-$(printf '%s' "$REPO" | md5sum | cut -c1-12)"
    fi
    printf '%s' "$d"
}

pg_answers() {
    [[ -n "$PG_BIN" ]] || find_pg_bin
    PGCONNECT_TIMEOUT=3 "$PG_BIN/psql" -X -q -tA "$PG_URL" -c 'select 1' >/dev/null 2>&1
}

pg_running() {
    # 0 if a postmaster owns the data dir (whatever port it listens on).
    [[ -f "$PG_DATA/PG_VERSION" ]] || return 1
    find_pg_bin
    as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" status >/dev/null 2>&1
}

pg_prepare_dirs() {
    local sock
    sock="$(pg_socket_dir)"
    mkdir -p "$PG_DATA" "$PG_LOGDIR" "$sock"
    chown postgres:postgres "$PG_BASE" "$PG_DATA" "$PG_LOGDIR" "$sock"
    chmod 700 "$PG_DATA"
    # postgres must be able to traverse every parent of $PG_BASE (e.g. a mktemp -d clone dir).
    if ! as_pg test -x "$PG_BASE"; then
        local d="" part
        local -a parts
        IFS=/ read -r -a parts <<<"${SERVICES_DIR#/}"
        for part in "${parts[@]}"; do   # top-down, so each test sees reachable parents
            d="$d/$part"
            if ! as_pg test -x "$d" 2>/dev/null; then
                log "chmod o+x $d (so the postgres user can reach $PG_BASE)"
                chmod o+x "$d"
            fi
        done
        as_pg test -x "$PG_BASE" || die "user postgres cannot access $PG_BASE"
    fi
}

pg_up() {
    find_pg_bin
    if pg_answers; then
        log "postgres: already running on 127.0.0.1:$PG_PORT"
    else
        local t0=$SECONDS
        pg_prepare_dirs
        if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
            log "postgres: initdb ($PG_BIN) in $PG_DATA..."
            as_pg "$PG_BIN/initdb" -D "$PG_DATA" --auth=trust -U postgres --encoding=UTF8 --no-locale \
                >"$PG_LOGDIR/initdb.log" 2>&1 \
                || { cat "$PG_LOGDIR/initdb.log" >&2; die "initdb failed"; }
        fi
        if pg_running; then
            # Running but not answering on our port (e.g. SHIPGAUGE_PG_PORT changed): restart it.
            log "postgres: running but not answering on 127.0.0.1:$PG_PORT; restarting"
            as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" stop -m fast -w >&2 || true
        fi
        local sock
        sock="$(pg_socket_dir)"
        log "postgres: starting on 127.0.0.1:$PG_PORT..."
        if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$TIMEOUT" \
            -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories='$sock'" \
            start >/dev/null 9>&-; then
            tail -n 30 "$PG_LOG" >&2 || true
            die "postgres did not start (log: $PG_LOG)"
        fi
        log "postgres: up in $((SECONDS - t0)) s"
    fi
    local admin="postgresql://postgres@127.0.0.1:${PG_PORT}/postgres"
    if [[ "$("$PG_BIN/psql" -X -tA "$admin" -c "select 1 from pg_database where datname = '$PG_DB'")" != 1 ]]; then
        log "postgres: creating database $PG_DB"
        "$PG_BIN/psql" -X -q "$admin" -c "create database $PG_DB" >&2
    fi
    pg_answers || die "postgres is running but $PG_URL does not answer"
}

pg_down() {
    if pg_running; then
        log "stopping postgres..."
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" stop -m fast -w -t 60 >/dev/null
        log "postgres: stopped"
    else
        log "postgres: not running"
    fi
}

# ----------------------------------------------------------------------------------------------

# Serialises concurrent up/down runs. Daemons we start must not inherit fd 9 (they would hold
# the lock forever), hence the "9>&-" on every command that may leave a process behind.
with_lock() {
    mkdir -p "$SERVICES_DIR"
    exec 9>"$SERVICES_DIR/services.lock"
    flock -w 600 9 || die "could not get the lock $SERVICES_DIR/services.lock (another up/down still running?)"
}

cmd="${1:-}"
case "$cmd" in
    up)
        with_lock
        t_start=$SECONDS
        install_chromium
        rabbit_start
        pg_up
        rabbit_wait
        log "all services up ($((SECONDS - t_start)) s)"
        echo "SHIPGAUGE_AMQP_URL=$AMQP_URL"
        echo "SHIPGAUGE_PG_URL=$PG_URL"
        ;;
    down)
        with_lock
        pg_down
        rabbit_down
        ;;
    status)
        rc=0
        if amqp_answers; then
            echo "rabbitmq: up   $AMQP_URL"
        else
            echo "rabbitmq: DOWN (nothing answers AMQP on 127.0.0.1:$AMQP_PORT)"
            rc=1
        fi
        if [[ -d /usr/lib/postgresql ]] && pg_answers; then
            echo "postgres: up   $PG_URL"
        else
            echo "postgres: DOWN ($PG_URL does not answer)"
            rc=1
        fi
        exit "$rc"
        ;;
    *)
        echo "usage: $0 up|down|status" >&2
        exit 2
        ;;
esac
