#!/usr/bin/env bash
# Local PostgreSQL without Docker: uses the Debian system cluster (pg_ctlcluster).
#
#   deploy/local/postgres.sh start [DB ...]   # install/start cluster, ensure role omni/omni, create DBs
#   deploy/local/postgres.sh stop             # stops the cluster(s) only if this script started them
#   deploy/local/postgres.sh status           # exit 0 when the server accepts connections
#
# Env: DATABASE_URL (use an existing server: only checked with pg_isready, nothing started;
#        a "+driver" suffix such as postgresql+asyncpg:// is stripped),
#      PGPORT (pick the cluster on this port, or create one; default: the main cluster's port, 5432),
#      PG_CLUSTER ("15/main": pick this cluster), PG_START_TIMEOUT (30 s),
#      OMNI_DB_USER / OMNI_DB_PASSWORD (login role, default omni / omni),
#      PG_MAX_CONNECTIONS (minimum max_connections, default 300).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
DATA_DIR="$REPO_ROOT/.data"
MARKER="$DATA_DIR/postgres.started"   # one "VER NAME" line per cluster this script started
LOCK_FILE="$DATA_DIR/.postgres.lock"

HOST=127.0.0.1
START_TIMEOUT="${PG_START_TIMEOUT:-30}"
APP_USER="${OMNI_DB_USER:-omni}"
APP_PASSWORD="${OMNI_DB_PASSWORD:-omni}"
MIN_CONNECTIONS="${PG_MAX_CONNECTIONS:-300}"

log() { echo "postgres.sh: $*" >&2; }
die() { echo "postgres.sh: ERROR: $*" >&2; exit 1; }

[[ "$APP_USER" =~ ^[a-z_][a-z0-9_]*$ ]] || die "OMNI_DB_USER must be a plain lower-case identifier (got '$APP_USER')"
[[ "$MIN_CONNECTIONS" =~ ^[0-9]+$ ]] || die "PG_MAX_CONNECTIONS must be a number (got '$MIN_CONNECTIONS')"
[[ "$START_TIMEOUT" =~ ^[0-9]+$ ]] || die "PG_START_TIMEOUT must be a number of seconds (got '$START_TIMEOUT')"
[[ -z "${PGPORT:-}" || "$PGPORT" =~ ^[0-9]+$ ]] || die "PGPORT must be a number (got '$PGPORT')"

tcp_open() { timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" >/dev/null 2>&1; }

who_listens() {
    local out=""
    command -v ss >/dev/null 2>&1 && out="$(ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:(\(.*\))/\1/p' | head -n1)"
    echo "${out:-unknown process}"
}

# Serialize start/stop. Commands that may leave a daemon behind run with "9>&-" so the
# daemon does not inherit (and hold) the lock.
take_lock() {
    mkdir -p "$DATA_DIR"
    exec 9>"$LOCK_FILE"
    flock -w 120 9 || die "another postgres.sh holds $LOCK_FILE for more than 120 s"
}

# ---------------------------------------------------------------- privileges
as_root() {
    if [[ $EUID -eq 0 ]]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo -n "$@"
    else die "need root (or passwordless sudo) to run: $*"
    fi
}

as_postgres() {
    # cd /: psql running as postgres cannot read root's cwd and would warn
    if [[ "$(id -un)" == postgres ]]; then (cd / && "$@")
    elif [[ $EUID -eq 0 ]]; then (cd / && runuser -u postgres -- "$@")
    elif command -v sudo >/dev/null 2>&1; then (cd / && sudo -n -u postgres -- "$@")
    else die "need root, the postgres user or passwordless sudo to run: $*"
    fi
}

# ---------------------------------------------------------------- install
server_installed() {
    command -v pg_ctlcluster >/dev/null 2>&1 && command -v pg_lsclusters >/dev/null 2>&1 \
        && compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null
}

apt_install() { # packages...
    local out="$DATA_DIR/apt-install.log"
    mkdir -p "$DATA_DIR"
    command -v apt-get >/dev/null 2>&1 || die "$* not installed and apt-get is not available: install it, or set DATABASE_URL"
    log "installing $* with apt-get ..."
    if ! as_root env DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q "$@" >"$out" 2>&1 9>&-; then
        log "apt-get install failed, running apt-get update and retrying ..."
        as_root env DEBIAN_FRONTEND=noninteractive timeout 300 apt-get update -q >>"$out" 2>&1 9>&- || true
        if ! as_root env DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -q "$@" >>"$out" 2>&1 9>&-; then
            tail -n 30 "$out" >&2
            die "apt-get install -y $* failed (log: $out)"
        fi
    fi
}

INSTALLED_NOW=0
ensure_server() {
    server_installed && return 0
    apt_install postgresql
    server_installed || die "installed postgresql but pg_ctlcluster / postgres binaries are still missing"
    INSTALLED_NOW=1
}

# ---------------------------------------------------------------- cluster selection
# Sets VER NAME PORT for the cluster to use. "create" (default) makes one when none fits;
# "nocreate" returns 1 instead.
select_cluster() {
    local lines line="" v n
    lines="$(pg_lsclusters -h 2>/dev/null || true)"
    VER="" NAME="" PORT=""
    if [[ -n "${PG_CLUSTER:-}" ]]; then
        v="${PG_CLUSTER%%/*}"; n="${PG_CLUSTER#*/}"
        line="$(awk -v v="$v" -v n="$n" '$1==v && $2==n' <<<"$lines" | head -n1)"
        [[ -n "$line" ]] || die "PG_CLUSTER=$PG_CLUSTER not found; clusters: $(awk '{print $1"/"$2" port "$3}' <<<"$lines" | paste -sd, -)"
    elif [[ -n "${PGPORT:-}" ]]; then
        line="$(awk -v p="$PGPORT" '$3==p' <<<"$lines" | sort -k1,1nr | head -n1)"
    else
        # the "main" cluster of the newest version, else any cluster of the newest version
        line="$(awk '$2=="main"' <<<"$lines" | sort -k1,1nr | head -n1)"
        [[ -n "$line" ]] || line="$(sort -k1,1nr <<<"$lines" | sed '/^$/d' | head -n1)"
    fi
    if [[ -z "$line" ]]; then
        [[ "${1:-create}" == nocreate ]] && return 1
        v="$(ls -d /usr/lib/postgresql/*/bin/postgres | awk -F/ '{print $5}' | sort -n | tail -n1)"
        if awk -v v="$v" '$1==v && $2=="main"' <<<"$lines" | grep -q .; then
            n="local${PGPORT:-}"   # a main cluster exists on another port: add a second one
        else
            n=main
        fi
        log "no cluster${PGPORT:+ on port $PGPORT}: creating $v/$n ..."
        as_root pg_createcluster ${PGPORT:+-p "$PGPORT"} "$v" "$n" >&2 9>&- || die "pg_createcluster $v $n failed"
        line="$(pg_lsclusters -h | awk -v v="$v" -v n="$n" '$1==v && $2==n' | head -n1)"
        [[ -n "$line" ]] || die "pg_createcluster $v $n ran but the cluster is not listed by pg_lsclusters"
    fi
    read -r VER NAME PORT _ <<<"$line"
}

cluster_field() { pg_lsclusters -h | awk -v v="$1" -v n="$2" -v f="$3" '$1==v && $2==n {print $f}'; }

show_cluster_log() {
    local f
    f="$(cluster_field "$VER" "$NAME" 7)"
    if [[ -n "$f" && -r "$f" ]]; then
        echo "----- last 25 lines of $f -----" >&2
        tail -n 25 "$f" >&2 || true
        echo "-----" >&2
    fi
}

wait_ready() {
    local deadline=$((SECONDS + START_TIMEOUT)) out
    while :; do
        out="$(pg_isready -h "$HOST" -p "$PORT" -t 2 2>&1)" && return 0
        if (( SECONDS >= deadline )); then
            show_cluster_log
            die "PostgreSQL $VER/$NAME did not accept connections on $HOST:$PORT within ${START_TIMEOUT}s (last pg_isready: $out)"
        fi
        sleep 0.5
    done
}

pg_ctl_do() { # action [args]: pg_ctlcluster on the selected cluster, bounded, lock fd closed
    local out
    if ! out="$(as_root timeout 120 pg_ctlcluster "$VER" "$NAME" "$@" 2>&1 9>&-)"; then
        echo "$out" >&2
        show_cluster_log
        die "pg_ctlcluster $VER $NAME $* failed"
    fi
}

psql_admin() { # psql as the postgres superuser over the local socket of the selected cluster
    as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" -d postgres "$@"
}

mark_started() { started_by_us || echo "$VER $NAME" >>"$MARKER"; }
started_by_us() { [[ -f "$MARKER" ]] && grep -qx "$VER $NAME" "$MARKER"; }

# ---------------------------------------------------------------- external server
strip_driver() { # postgresql+asyncpg://... -> postgresql://...
    sed -E 's#^(postgres(ql)?)\+[A-Za-z0-9_]+://#\1://#' <<<"$1"
}

check_external() {
    local url out
    url="$(strip_driver "$DATABASE_URL")"
    command -v pg_isready >/dev/null 2>&1 || apt_install postgresql-client
    if out="$(pg_isready -d "$url" -t 5 2>&1)"; then
        echo "postgres ready (external, DATABASE_URL): $out"
        return 0
    fi
    die "DATABASE_URL does not answer: $out (unset DATABASE_URL to use a local cluster)"
}

# ---------------------------------------------------------------- setup inside the cluster
ensure_max_connections() {
    local cur
    cur="$(psql_admin -At -c 'SHOW max_connections')" || die "cannot query max_connections"
    (( cur >= MIN_CONNECTIONS )) && return 0
    log "max_connections is $cur: ALTER SYSTEM SET max_connections = $MIN_CONNECTIONS and restarting $VER/$NAME (once) ..."
    psql_admin -c "ALTER SYSTEM SET max_connections = $MIN_CONNECTIONS" >/dev/null
    pg_ctl_do restart
    wait_ready
    cur="$(psql_admin -At -c 'SHOW max_connections')"
    (( cur >= MIN_CONNECTIONS )) || die "max_connections is still $cur after restart"
}

ensure_role() {
    psql_admin -v user="$APP_USER" -v pw="$APP_PASSWORD" >/dev/null <<'SQL' || die "cannot create/update role $APP_USER"
SELECT format('CREATE ROLE %I LOGIN CREATEDB PASSWORD %L', :'user', :'pw')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'user') \gexec
SELECT format('ALTER ROLE %I LOGIN CREATEDB PASSWORD %L', :'user', :'pw') \gexec
SQL
}

ensure_databases() {
    local db
    for db in "$@"; do
        [[ "$db" =~ ^[A-Za-z_][A-Za-z0-9_-]*$ ]] || die "invalid database name '$db'"
        psql_admin -v db="$db" -v user="$APP_USER" >/dev/null <<'SQL' || die "cannot create database $db"
SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'user')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = :'db') \gexec
SQL
    done
}

tcp_login() {
    PGPASSWORD="$APP_PASSWORD" PGCONNECT_TIMEOUT=5 psql -X -At \
        "host=$HOST port=$PORT user=$APP_USER dbname=postgres sslmode=disable" -c 'select 1' 2>&1
}

verify_tcp_login() {
    local out hba
    out="$(tcp_login)" && [[ "$out" == 1 ]] && return 0
    log "password login over TCP failed ($out); checking pg_hba.conf ..."
    hba="$(psql_admin -At -c 'SHOW hba_file')"
    if ! psql_admin -At -c "SELECT 1 FROM pg_hba_file_rules WHERE type='host' AND address='127.0.0.1' AND auth_method IN ('scram-sha-256','md5')" | grep -q 1; then
        log "adding 'host all all 127.0.0.1/32 scram-sha-256' at the top of $hba"
        as_root sed -i "1i host    all    all    127.0.0.1/32    scram-sha-256   # added by deploy/local/postgres.sh" "$hba"
        psql_admin -c 'SELECT pg_reload_conf()' >/dev/null
        sleep 1
    fi
    out="$(tcp_login)" && [[ "$out" == 1 ]] && return 0
    die "cannot log in as $APP_USER over TCP $HOST:$PORT with its password: $out (check $hba)"
}

# ---------------------------------------------------------------- commands
start() {
    if [[ -n "${DATABASE_URL:-}" ]]; then
        (( $# == 0 )) || log "DATABASE_URL is set: not creating databases $* (create them on that server)"
        check_external
        return 0
    fi
    take_lock
    ensure_server
    if ! command -v psql >/dev/null 2>&1 || ! command -v pg_isready >/dev/null 2>&1; then
        apt_install postgresql-client
    fi
    select_cluster create

    local st
    st="$(cluster_field "$VER" "$NAME" 4)"
    if [[ "$st" == online* ]]; then
        (( INSTALLED_NOW )) && mark_started   # the package install started it: ours to stop
        log "cluster $VER/$NAME already running on port $PORT"
    else
        if tcp_open "$HOST" "$PORT"; then
            die "port $HOST:$PORT is already in use by $(who_listens "$PORT"), but cluster $VER/$NAME is $st. Stop that process, set PGPORT to another port, or set DATABASE_URL to use that server."
        fi
        log "starting cluster $VER/$NAME on port $PORT ..."
        pg_ctl_do start
        mark_started
    fi
    wait_ready
    ensure_max_connections
    ensure_role
    ensure_databases "$@"
    verify_tcp_login
    echo "postgres ready at $HOST:$PORT (cluster $VER/$NAME, user $APP_USER)${*:+, databases: $*}"
}

stop() {
    if [[ -n "${DATABASE_URL:-}" ]]; then
        echo "DATABASE_URL is set: nothing to stop"
        return 0
    fi
    take_lock
    if [[ ! -s "$MARKER" ]]; then
        rm -f "$MARKER"
        echo "postgres was not started by this script: leaving it alone"
        return 0
    fi
    # With PGPORT/PG_CLUSTER: only that cluster; otherwise every cluster this script started.
    local want="" v n rest=""
    if [[ -n "${PGPORT:-}${PG_CLUSTER:-}" ]] && server_installed; then
        select_cluster nocreate || { echo "no cluster matches PGPORT/PG_CLUSTER: nothing to stop"; return 0; }
        want="$VER $NAME"
        grep -qx "$want" "$MARKER" || { echo "postgres $VER/$NAME was not started by this script: leaving it alone"; return 0; }
    fi
    while read -r v n; do
        [[ -n "$v" ]] || continue
        if [[ -n "$want" && "$v $n" != "$want" ]]; then
            rest+="$v $n"$'\n'
            continue
        fi
        VER="$v" NAME="$n"
        if ! server_installed || [[ -z "$(cluster_field "$v" "$n" 4)" ]]; then
            echo "cluster $v/$n not found: nothing to stop"
        elif [[ "$(cluster_field "$v" "$n" 4)" == online* ]]; then
            pg_ctl_do stop -m fast
            echo "postgres $v/$n stopped"
        else
            echo "postgres $v/$n not running"
        fi
    done <"$MARKER"
    if [[ -n "$rest" ]]; then printf '%s' "$rest" >"$MARKER"; else rm -f "$MARKER"; fi
}

status() {
    if [[ -n "${DATABASE_URL:-}" ]]; then
        local out
        if out="$(pg_isready -d "$(strip_driver "$DATABASE_URL")" -t 5 2>&1)"; then
            echo "postgres ready (external): $out"; return 0
        fi
        echo "postgres not answering (external): $out"; return 1
    fi
    server_installed || { echo "postgres not installed"; return 1; }
    select_cluster nocreate || { echo "postgres: no matching cluster (see pg_lsclusters)"; return 1; }
    if pg_isready -h "$HOST" -p "$PORT" -t 3 >/dev/null 2>&1; then
        echo "postgres running: cluster $VER/$NAME at $HOST:$PORT$(started_by_us && echo ' (started by postgres.sh)')"
        return 0
    fi
    echo "postgres not running (cluster $VER/$NAME, port $PORT, $(cluster_field "$VER" "$NAME" 4))"
    return 1
}

cmd="${1:-}"
(( $# )) && shift
case "$cmd" in
    start) start "$@" ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 {start [DB ...]|stop|status}" >&2; exit 2 ;;
esac
