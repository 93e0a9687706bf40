#!/usr/bin/env bash
# The local services the test suite needs: RabbitMQ, PostgreSQL and headless Chromium.
#
#   scripts/services.sh up      install what is missing, start what does not answer, print env lines
#   scripts/services.sh down    stop what `up` started from this checkout for these ports
#   scripts/services.sh status  say whether RabbitMQ and PostgreSQL answer; exit 0 only if both do
#
# Settings (environment):
#   SHIPGAUGE_AMQP_PORT        RabbitMQ's AMQP port on 127.0.0.1 (default 5672)
#   SHIPGAUGE_PG_PORT          PostgreSQL's port on 127.0.0.1 (default 5433)
#   SHIPGAUGE_AMQP_URL         a broker elsewhere (another host or port): up only checks it answers
#   SHIPGAUGE_PG_URL           a PostgreSQL elsewhere: up only checks it answers
#   SHIPGAUGE_CHROMIUM         a Chromium binary to use instead of Debian's /usr/bin/chromium
#   SHIPGAUGE_SERVICE_TIMEOUT  seconds to wait for each service to come up (default 90)
#
# `up` as root on Debian 12:
#   - Packages: installs `chromium`, `rabbitmq-server` and (when no pg_ctl is found under
#     /usr/lib/postgresql) `postgresql` with `apt-get install --no-install-recommends`; runs
#     `apt-get update` first only when apt does not know the package. A policy-rc.d that forbids
#     service starts is in place during the install, so the packages start nothing themselves.
#   - RabbitMQ: reuses a broker answering AMQP on 127.0.0.1:$SHIPGAUGE_AMQP_PORT. Otherwise starts
#     a node as user rabbitmq, listening on 127.0.0.1 only: rabbit@localhost on port 5672 (Erlang
#     distribution port 25672), rabbit_<port>@localhost on any other port (distribution port
#     <port>+20000), so nodes on different ports never collide. Node state lives under
#     /var/lib/rabbitmq/mnesia/<node>, its log in /var/log/rabbitmq/<node>.log.
#   - PostgreSQL: reuses a server answering on 127.0.0.1:$SHIPGAUGE_PG_PORT. Otherwise runs the
#     newest installed major version's initdb/pg_ctl as user postgres on a cluster of this checkout:
#     .services/pg for port 5433, .services/pg-<port> for any other port (trust auth, user
#     postgres, 127.0.0.1 only). Either way it creates the database shipgauge_test if missing.
#   - Prints, on stdout, the lines the tests read:
#       SHIPGAUGE_AMQP_URL=amqp://guest:guest@127.0.0.1:<amqp port>//
#       SHIPGAUGE_PG_URL=postgresql://postgres@127.0.0.1:<pg port>/shipgauge_test
#       SHIPGAUGE_CHROMIUM=/usr/bin/chromium
#     tests/conftest.py builds the same URLs from the same two port settings when the URL
#     variables are not set, so `SHIPGAUGE_AMQP_PORT=5680 SHIPGAUGE_PG_PORT=5440 make test` works.
# `up` without root installs and starts nothing. It uses what already answers on those ports;
# when something is missing it prints ONE line saying what to install or run, and exits 1.
#
# `down` stops the PostgreSQL cluster of this checkout for SHIPGAUGE_PG_PORT and the RabbitMQ node
# that `up` started from this checkout for SHIPGAUGE_AMQP_PORT (marker .services/rabbitmq-<port>).
# A service it reused, or one started for another port or from another checkout, is left running.
# Concurrent up/down runs of one checkout are serialised by the lock .services/services.lock.
set -euo pipefail

SCRIPT_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO="$(cd -- "$SCRIPT_DIR/.." && pwd -P)"
SERVICES_DIR="$REPO/.services"
TIMEOUT="${SHIPGAUGE_SERVICE_TIMEOUT:-90}"

log() { printf 'services: %s\n' "$*" >&2; }
die() { printf 'services: ERROR: %s\n' "$*" >&2; exit 1; }

port_setting() {  # NAME VALUE MAX: VALUE if it is a TCP port number no higher than MAX
    if ! [[ "$2" =~ ^[0-9]{1,5}$ ]] || ((10#$2 < 1 || 10#$2 > $3)); then
        die "$1=$2 is not a port number (1-$3)"
    fi
    printf '%s' "$((10#$2))"
}

AMQP_PORT="$(port_setting SHIPGAUGE_AMQP_PORT "${SHIPGAUGE_AMQP_PORT:-5672}" 45535)"  # + 20000 = dist port
PG_PORT="$(port_setting SHIPGAUGE_PG_PORT "${SHIPGAUGE_PG_PORT:-5433}" 65535)"
[[ "$TIMEOUT" =~ ^[0-9]+$ ]] || die "SHIPGAUGE_SERVICE_TIMEOUT=$TIMEOUT is not a number of seconds"

AMQP_URL="${SHIPGAUGE_AMQP_URL:-amqp://guest:guest@127.0.0.1:${AMQP_PORT}//}"
PG_DB="shipgauge_test"
PG_URL="${SHIPGAUGE_PG_URL:-postgresql://postgres@127.0.0.1:${PG_PORT}/${PG_DB}}"

if [[ "$AMQP_PORT" == 5672 ]]; then
    RABBIT_NODE="rabbit@localhost"
else
    RABBIT_NODE="rabbit_${AMQP_PORT}@localhost"
fi
RABBIT_DIST_PORT=$((AMQP_PORT + 20000))
RABBIT_MARKER="$SERVICES_DIR/rabbitmq-$AMQP_PORT"
RABBIT_LOG="/var/log/rabbitmq/${RABBIT_NODE}.log"

if [[ "$PG_PORT" == 5433 ]]; then
    PG_BASE="$SERVICES_DIR/pg"
else
    PG_BASE="$SERVICES_DIR/pg-$PG_PORT"
fi
PG_DATA="$PG_BASE/data"
PG_LOGDIR="$PG_BASE/log"
PG_LOG="$PG_LOGDIR/postgresql.log"

IS_ROOT=false
[[ "$(id -u)" == 0 ]] && IS_ROOT=true

# postgres and rabbitmq cannot enter root's home; run everything from a neutral directory.
cd /

# ----------------------------------------------------------------------------------------------
# Endpoints: which host and port a URL names, whether the script manages it, whether it answers.
# ----------------------------------------------------------------------------------------------

# "HOST PORT" of a URL such as amqp://user:pw@host:port/vhost (PORT defaults to $2).
url_endpoint() {
    local rest="${1#*://}" host port=""
    rest="${rest%%/*}"
    rest="${rest%%\?*}"
    rest="${rest##*@}"
    if [[ "$rest" == \[* ]]; then  # [IPv6]:port
        host="${rest%%]*}"
        host="${host#[}"
        port="${rest#*]}"
        port="${port#:}"
    else
        host="${rest%%:*}"
        [[ "$rest" == *:* ]] && port="${rest##*:}"
    fi
    printf '%s %s' "${host:-127.0.0.1}" "${port:-$2}"
}

read -r AMQP_HOST AMQP_URL_PORT <<<"$(url_endpoint "$AMQP_URL" 5672)"
read -r PG_HOST PG_URL_PORT <<<"$(url_endpoint "$PG_URL" 5432)"

# True if HOST PORT is this machine's 127.0.0.1:MANAGED_PORT (so this script may start it).
is_managed() {
    [[ "$1" == 127.0.0.1 || "$1" == localhost ]] && [[ "$2" == "$3" ]]
}
AMQP_MANAGED=false
is_managed "$AMQP_HOST" "$AMQP_URL_PORT" "$AMQP_PORT" && AMQP_MANAGED=true
PG_MANAGED=false
is_managed "$PG_HOST" "$PG_URL_PORT" "$PG_PORT" && PG_MANAGED=true

# True if HOST PORT answers the AMQP 0-9-1 protocol header with a method frame (connection.start).
amqp_answers() {
    # shellcheck disable=SC2016  # $0/$1 are the inner shell's arguments
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/$0/$1" || exit 1
        printf "AMQP\x00\x00\x09\x01" >&3
        b=$(head -c 1 <&3 | od -An -tx1 | tr -d " \n")
        [[ "$b" == "01" ]]
    ' "$1" "$2" 2>/dev/null
}

# True if HOST PORT answers PostgreSQL's SSLRequest with "S" or "N" (works without any client).
pg_protocol_answers() {
    # shellcheck disable=SC2016  # $0/$1 are the inner shell's arguments
    timeout 5 bash -c '
        exec 3<>"/dev/tcp/$0/$1" || exit 1
        printf "\x00\x00\x00\x08\x04\xd2\x16\x2f" >&3
        b=$(head -c 1 <&3)
        [[ "$b" == S || "$b" == N ]]
    ' "$1" "$2" 2>/dev/null
}

# ----------------------------------------------------------------------------------------------
# Packages (root only)
# ----------------------------------------------------------------------------------------------

POLICY=/usr/sbin/policy-rc.d
POLICY_SAVED="$POLICY.shipgauge-saved"
POLICY_MARK="# written by shipgauge scripts/services.sh while it installs packages"
OWN_POLICY=false

# Package postinsts call invoke-rc.d, which starts nothing while policy-rc.d exits 101. A policy
# of the machine that already forbids starts is kept; any other is set aside and put back after.
deny_service_starts() {
    if ! grep -qxF "$POLICY_MARK" "$POLICY" 2>/dev/null; then  # (ours if a run was killed)
        if [[ -x "$POLICY" ]]; then
            local rc=0
            "$POLICY" shipgauge start >/dev/null 2>&1 || rc=$?
            ((rc == 101)) && return 0
        fi
        if [[ -e "$POLICY" ]]; then
            mv -f "$POLICY" "$POLICY_SAVED"
        fi
        printf '#!/bin/sh\n%s\nexit 101\n' "$POLICY_MARK" >"$POLICY"
        chmod 755 "$POLICY"
    fi
    OWN_POLICY=true
}

allow_service_starts() {
    if $OWN_POLICY && grep -qxF "$POLICY_MARK" "$POLICY" 2>/dev/null; then
        if [[ -e "$POLICY_SAVED" ]]; then mv -f "$POLICY_SAVED" "$POLICY"; else rm -f "$POLICY"; fi
    fi
    OWN_POLICY=false
}
trap allow_service_starts EXIT

# (Outputs are captured before matching: `cmd | grep -q` fails under pipefail when grep exits first.)
deb_installed() { [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]; }

apt_knows() { [[ "$(apt-cache policy "$1" 2>/dev/null)" =~ Candidate:\ [0-9] ]]; }

# apt-get install --no-install-recommends PKG; apt-get update first only when apt does not know
# PKG (a machine whose package lists were never fetched), and once more if the install fails.
# Installs by every checkout's copy of this script take turns (they share policy-rc.d).
apt_install() {
    local pkg="$1" t0=$SECONDS
    local apt_opts=(-y -q --no-install-recommends -o DPkg::Lock::Timeout=300
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold)
    mkdir -p /run/lock
    exec 8>/run/lock/shipgauge-services-apt.lock
    flock -w 900 8 || die "could not get /run/lock/shipgauge-services-apt.lock (another install running?)"
    log "installing Debian package $pkg (apt-get install --no-install-recommends)..."
    deny_service_starts
    if ! apt_knows "$pkg"; then
        log "apt-get update..."
        apt-get update -q -o DPkg::Lock::Timeout=300 >&2 8>&- 9>&-
    fi
    if ! DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" "$pkg" >&2 8>&- 9>&-; then
        log "install failed; refreshing package lists and retrying..."
        apt-get update -q -o DPkg::Lock::Timeout=300 >&2 8>&- 9>&-
        DEBIAN_FRONTEND=noninteractive apt-get install "${apt_opts[@]}" "$pkg" >&2 8>&- 9>&- \
            || die "apt-get install --no-install-recommends $pkg failed"
    fi
    allow_service_starts
    exec 8>&-
    deb_installed "$pkg" || die "Debian package $pkg still not installed after apt-get"
    log "$pkg installed in $((SECONDS - t0)) s"
}

# ----------------------------------------------------------------------------------------------
# Chromium (a package, not a service)
# ----------------------------------------------------------------------------------------------

CHROMIUM="${SHIPGAUGE_CHROMIUM:-/usr/bin/chromium}"

chromium_present() { [[ -x "$CHROMIUM" ]] && { [[ -n "${SHIPGAUGE_CHROMIUM:-}" ]] || deb_installed chromium; }; }

# ----------------------------------------------------------------------------------------------
# RabbitMQ (started by this script only as root)
# ----------------------------------------------------------------------------------------------

rabbit_installed() { [[ -x /usr/sbin/rabbitmq-server ]] && deb_installed rabbitmq-server; }

# Every RabbitMQ command runs with this node's name, ports and loopback-only listeners.
rabbit_env() {
    env RABBITMQ_NODENAME="$RABBIT_NODE" \
        RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 \
        RABBITMQ_NODE_PORT="$AMQP_PORT" \
        RABBITMQ_DIST_PORT="$RABBIT_DIST_PORT" \
        ERL_EPMD_ADDRESS=127.0.0.1 \
        RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
        RABBITMQ_CTL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}" \
        "$@"
}

# Pids of this node's Erlang VM (found by the node name in its environment: other nodes on the
# machine, on other ports, are not ours to wait for or stop).
rabbit_node_pids() {
    local pid environ
    for pid in $(pgrep -u rabbitmq -x beam.smp 2>/dev/null || true); do
        environ="$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/environ" || true)"  # gone: no error
        if [[ $'\n'"$environ"$'\n' == *$'\n'"RABBITMQ_NODENAME=$RABBIT_NODE"$'\n'* ]]; then
            printf '%s\n' "$pid"
        fi
    done
}

RABBIT_T0=""
# Start the node detached (no waiting): it boots while PostgreSQL is being set up.
rabbit_start() {
    if amqp_answers 127.0.0.1 "$AMQP_PORT"; then
        log "rabbitmq: already answering on 127.0.0.1:$AMQP_PORT, reusing it"
        return 0
    fi
    rabbit_installed || apt_install rabbitmq-server
    if [[ -n "$(rabbit_node_pids)" ]]; then
        log "rabbitmq: node $RABBIT_NODE exists but AMQP does not answer yet; waiting for it"
    else
        log "rabbitmq: starting node $RABBIT_NODE on 127.0.0.1:$AMQP_PORT (dist port $RABBIT_DIST_PORT)..."
        rabbit_env rabbitmq-server -detached >&2 9>&- || die "rabbitmq-server -detached failed"
        printf '%s\n' "$RABBIT_NODE" >"$RABBIT_MARKER"
    fi
    RABBIT_T0=$SECONDS
}

rabbit_wait() {
    [[ -n "$RABBIT_T0" ]] || return 0
    local deadline=$((RABBIT_T0 + TIMEOUT))
    until amqp_answers 127.0.0.1 "$AMQP_PORT"; do
        if ((SECONDS >= deadline)); then
            [[ -f "$RABBIT_LOG" ]] && tail -n 40 "$RABBIT_LOG" >&2
            die "rabbitmq did not accept AMQP connections on 127.0.0.1:$AMQP_PORT within ${TIMEOUT}s (log: $RABBIT_LOG)"
        fi
        if ((SECONDS - RABBIT_T0 >= 10)) && [[ -z "$(rabbit_node_pids)" ]]; then
            [[ -f "$RABBIT_LOG" ]] && tail -n 40 "$RABBIT_LOG" >&2
            rm -f "$RABBIT_MARKER"
            die "rabbitmq node $RABBIT_NODE exited during startup (log: $RABBIT_LOG)"
        fi
        sleep 0.5
    done
    log "rabbitmq: up in $((SECONDS - RABBIT_T0)) s"
}

rabbit_down() {
    if [[ ! -f "$RABBIT_MARKER" ]]; then
        log "rabbitmq: no node started from this checkout for port $AMQP_PORT; nothing to stop"
        return 0
    fi
    RABBIT_NODE="$(<"$RABBIT_MARKER")"
    if [[ -z "$(rabbit_node_pids)" ]]; then
        log "rabbitmq: $RABBIT_NODE not running"
        rm -f "$RABBIT_MARKER"
        return 0
    fi
    log "rabbitmq: stopping $RABBIT_NODE..."
    rabbit_env rabbitmqctl -q -n "$RABBIT_NODE" stop >/dev/null 2>&1 9>&- || true
    local deadline=$((SECONDS + 30)) pids
    while pids="$(rabbit_node_pids)" && [[ -n "$pids" ]]; do
        if ((SECONDS >= deadline)); then
            log "rabbitmq: $RABBIT_NODE did not stop in 30 s; killing pids ${pids//$'\n'/ }"
            # shellcheck disable=SC2086
            kill -9 $pids 2>/dev/null || true
            break
        fi
        sleep 0.5
    done
    rm -f "$RABBIT_MARKER"
    log "rabbitmq: stopped $RABBIT_NODE"
}

# ----------------------------------------------------------------------------------------------
# PostgreSQL (started by this script only as root)
# ----------------------------------------------------------------------------------------------

# Directory of the newest installed major version's binaries; empty if there is none.
newest_pg_bin() {
    find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/pg_ctl' 2>/dev/null \
        | sort -V | tail -n 1 | xargs -r dirname
}

PG_BIN=""
find_pg_bin() {
    [[ -n "$PG_BIN" ]] && return 0
    if [[ -f "$PG_DATA/PG_VERSION" ]]; then
        # An existing cluster must keep using the major version that created it.
        local ver
        ver="$(<"$PG_DATA/PG_VERSION")"
        [[ -x "/usr/lib/postgresql/$ver/bin/pg_ctl" ]] \
            || die "$PG_DATA was created by PostgreSQL $ver, whose binaries are missing; delete $PG_BASE to recreate it"
        PG_BIN="/usr/lib/postgresql/$ver/bin"
        return 0
    fi
    PG_BIN="$(newest_pg_bin)"
    if [[ -z "$PG_BIN" ]]; then
        apt_install postgresql
        PG_BIN="$(newest_pg_bin)"
        [[ -n "$PG_BIN" ]] || die "no pg_ctl under /usr/lib/postgresql/<version>/bin after installing postgresql"
    fi
}

# A psql to create the test database with (any version will do); empty if there is none.
psql_bin() {
    local d="${PG_BIN:-$(newest_pg_bin)}"
    if [[ -n "$d" && -x "$d/psql" ]]; then printf '%s' "$d/psql"; fi
}

as_pg() { runuser -u postgres -- "$@"; }

# Unix socket path is limited to ~107 bytes; fall back to a short dir under /tmp if needed.
pg_socket_dir() {
    local d="$PG_BASE/run"
    if ((${#d} + 20 > 100)); then
        d="/tmp/shipgauge-pg-$(printf '%s' "$PG_BASE" | md5sum | cut -c1-12)"
    fi
    printf '%s' "$d"
}

pg_running() {
    # 0 if a postmaster owns this checkout's data dir for this port.
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

pg_start() {
    if pg_protocol_answers 127.0.0.1 "$PG_PORT"; then
        log "postgres: already answering on 127.0.0.1:$PG_PORT, reusing it"
        return 0
    fi
    find_pg_bin
    local t0=$SECONDS sock
    pg_prepare_dirs
    if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
        log "postgres: initdb ($PG_BIN) in $PG_DATA..."
        as_pg "$PG_BIN/initdb" -D "$PG_DATA" --auth=trust -U postgres --encoding=UTF8 --no-locale \
            >"$PG_LOGDIR/initdb.log" 2>&1 \
            || { cat "$PG_LOGDIR/initdb.log" >&2; die "initdb failed"; }
    fi
    if pg_running; then
        # Ours, but not answering on the port (started by hand on another one?): restart it.
        log "postgres: $PG_DATA runs but does not answer on 127.0.0.1:$PG_PORT; restarting it"
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" stop -m fast -w >&2 || true
    fi
    sock="$(pg_socket_dir)"
    log "postgres: starting $PG_DATA on 127.0.0.1:$PG_PORT..."
    if ! as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" -l "$PG_LOG" -w -t "$TIMEOUT" \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories='$sock'" \
        start >/dev/null 9>&-; then
        tail -n 30 "$PG_LOG" >&2 || true
        die "postgres did not start (log: $PG_LOG)"
    fi
    log "postgres: up in $((SECONDS - t0)) s"
}

# Create the test database when missing (needs only a psql and the server's trust auth, not root).
# Prints nothing and returns 0 when $PG_URL answers a query; else returns 1 with the reason on stdout.
pg_ensure_db() {
    local psql admin
    psql="$(psql_bin)"
    if [[ -z "$psql" ]]; then
        log "postgres: no psql here to check database $PG_DB; assuming it exists"
        return 0
    fi
    PGCONNECT_TIMEOUT=5 "$psql" -X -q -tA "$PG_URL" -c 'select 1' >/dev/null 2>&1 && return 0
    admin="postgresql://postgres@127.0.0.1:${PG_PORT}/postgres"
    if [[ "$(PGCONNECT_TIMEOUT=5 "$psql" -X -tA "$admin" \
        -c "select 1 from pg_database where datname = '$PG_DB'" 2>/dev/null)" != 1 ]]; then
        log "postgres: creating database $PG_DB"
        PGCONNECT_TIMEOUT=5 "$psql" -X -q "$admin" -c "create database $PG_DB" >/dev/null 2>&1 || true
    fi
    PGCONNECT_TIMEOUT=5 "$psql" -X -q -tA "$PG_URL" -c 'select 1' >/dev/null 2>&1 && return 0
    printf 'PostgreSQL answers on 127.0.0.1:%s but %s does not (not trust auth for user postgres?): set SHIPGAUGE_PG_URL or another SHIPGAUGE_PG_PORT' \
        "$PG_PORT" "$PG_URL"
    return 1
}

pg_down() {
    if [[ ! -f "$PG_DATA/PG_VERSION" ]]; then
        log "postgres: no cluster of this checkout for port $PG_PORT ($PG_DATA); nothing to stop"
    elif pg_running; then
        log "postgres: stopping $PG_DATA..."
        as_pg "$PG_BIN/pg_ctl" -D "$PG_DATA" stop -m fast -w -t 60 >/dev/null
        log "postgres: stopped"
    else
        log "postgres: $PG_DATA not running"
    fi
}

# ----------------------------------------------------------------------------------------------

# Serialises concurrent up/down runs of this checkout. Daemons we start must not inherit fd 9
# (they would hold the lock forever), hence the "9>&-" on every command that may leave a process.
with_lock() {
    mkdir -p "$SERVICES_DIR"
    exec 9>"$SERVICES_DIR/services.lock"
    flock -w 600 9 || die "could not get the lock $SERVICES_DIR/services.lock (another up/down still running?)"
}

print_env() {
    echo "SHIPGAUGE_AMQP_URL=$AMQP_URL"
    echo "SHIPGAUGE_PG_URL=$PG_URL"
    echo "SHIPGAUGE_CHROMIUM=$CHROMIUM"
}

# up as root: install what is missing, start what does not answer.
up_root() {
    with_lock
    local t_start=$SECONDS reason
    chromium_present || apt_install chromium
    if $AMQP_MANAGED; then
        rabbit_start
    fi
    if $PG_MANAGED; then
        pg_start
        reason="$(pg_ensure_db)" || die "$reason"
    fi
    rabbit_wait
    if ! $AMQP_MANAGED; then
        amqp_answers "$AMQP_HOST" "$AMQP_URL_PORT" \
            || die "SHIPGAUGE_AMQP_URL=$AMQP_URL: nothing answers AMQP on $AMQP_HOST:$AMQP_URL_PORT"
    fi
    if ! $PG_MANAGED; then
        pg_protocol_answers "$PG_HOST" "$PG_URL_PORT" \
            || die "SHIPGAUGE_PG_URL=$PG_URL: no PostgreSQL answers on $PG_HOST:$PG_URL_PORT"
    fi
    log "all services up ($((SECONDS - t_start)) s)"
    print_env
}

# up without root: start nothing; use what answers, else say in one line what is missing.
up_user() {
    local -a missing=()
    local reason todo
    if ! chromium_present; then
        missing+=("$CHROMIUM missing (install Debian 'chromium' with --no-install-recommends, or set SHIPGAUGE_CHROMIUM)")
    fi
    if ! amqp_answers "$AMQP_HOST" "$AMQP_URL_PORT"; then
        if $AMQP_MANAGED; then
            if rabbit_installed; then todo="run 'scripts/services.sh up' as root"
            else todo="install Debian 'rabbitmq-server' and run 'scripts/services.sh up' as root"; fi
            missing+=("RabbitMQ not running on 127.0.0.1:$AMQP_PORT ($todo, or set SHIPGAUGE_AMQP_URL)")
        else
            missing+=("nothing answers AMQP at SHIPGAUGE_AMQP_URL=$AMQP_URL")
        fi
    fi
    if ! pg_protocol_answers "$PG_HOST" "$PG_URL_PORT"; then
        if $PG_MANAGED; then
            if [[ -n "$(newest_pg_bin)" ]]; then todo="run 'scripts/services.sh up' as root"
            else todo="install Debian 'postgresql' and run 'scripts/services.sh up' as root"; fi
            missing+=("PostgreSQL not running on 127.0.0.1:$PG_PORT ($todo, or set SHIPGAUGE_PG_URL)")
        else
            missing+=("no PostgreSQL answers at SHIPGAUGE_PG_URL=$PG_URL")
        fi
    elif $PG_MANAGED && ! reason="$(pg_ensure_db)"; then
        missing+=("$reason")
    fi
    if ((${#missing[@]})); then
        local line
        line="$(printf '%s; ' "${missing[@]}")"
        printf 'services: not root, so nothing installed or started: %s\n' "${line%; }" >&2
        exit 1
    fi
    log "all services answer (not root: used what runs)"
    print_env
}

cmd="${1:-}"
case "$cmd" in
    up)
        if $IS_ROOT; then up_root; else up_user; fi
        ;;
    down)
        if ! $IS_ROOT; then
            if amqp_answers 127.0.0.1 "$AMQP_PORT" || pg_protocol_answers 127.0.0.1 "$PG_PORT"; then
                printf 'services: not root: cannot stop services on 127.0.0.1:%s / 127.0.0.1:%s (they run as users rabbitmq/postgres); run down as root\n' \
                    "$AMQP_PORT" "$PG_PORT" >&2
                exit 1
            fi
            log "nothing answers on 127.0.0.1:$AMQP_PORT or 127.0.0.1:$PG_PORT; nothing to stop"
            exit 0
        fi
        with_lock
        pg_down
        rabbit_down
        ;;
    status)
        rc=0
        if amqp_answers "$AMQP_HOST" "$AMQP_URL_PORT"; then
            echo "rabbitmq: up   $AMQP_URL"
        else
            echo "rabbitmq: DOWN (nothing answers AMQP on $AMQP_HOST:$AMQP_URL_PORT)"
            rc=1
        fi
        if pg_protocol_answers "$PG_HOST" "$PG_URL_PORT"; then
            echo "postgres: up   $PG_URL"
        else
            echo "postgres: DOWN (nothing answers on $PG_HOST:$PG_URL_PORT)"
            rc=1
        fi
        exit "$rc"
        ;;
    *)
        echo "usage: $0 up|down|status" >&2
        exit 2
        ;;
esac
