#!/usr/bin/env bash
# Run every Omni service as its own process, from the Procfile, under supervisord (a process supervisor):
# a service that dies is started again by itself, with backoff, and the others keep running.
#
#   deploy/local/services.sh start [SVC]    start supervisord in the background (or one program), wait until
#                                           each service answers /health/ready
#   deploy/local/services.sh stop [SVC]     stop them all and supervisord (TERM, then KILL after 20 s), or one
#   deploy/local/services.sh restart SVC    restart one service and wait until it is ready
#   deploy/local/services.sh status [--json]  each service: pid, state, uptime, port, ready (exit 1: not running)
#   deploy/local/services.sh logs SVC       the last lines of a service's log
#
# Env: OMNI_RUN_DIR (default .data/services: supervisord's config, socket, pid file and logs; one per stack, so
#      several stacks run side by side), OMNI_PROCFILE (default Procfile), <SERVICE>_HTTP_PORT to move a
#      service, SERVICES_START_TIMEOUT (default 90 s), FATAL_RETRY_SECONDS (default 30: pause before a service
#      that keeps crashing at start is tried again), SERVICES_START_SECS (10: up this long counts as started),
#      SERVICES_START_RETRIES (10: failed starts in a row, 1 s, 2 s, … apart, before that pause).
# Everything else in the environment (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL, …) reaches the services.
# Logs: $OMNI_RUN_DIR/logs/<service>.log, supervisord's own in $OMNI_RUN_DIR/supervisord.log.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN_DIR="${OMNI_RUN_DIR:-$ROOT/.data/services}"
[[ "$RUN_DIR" = /* ]] || RUN_DIR="$ROOT/$RUN_DIR"
PROCFILE="${OMNI_PROCFILE:-$ROOT/Procfile}"
CONF="$RUN_DIR/supervisord.conf"
PID_FILE="$RUN_DIR/supervisord.pid"
TIMEOUT="${SERVICES_START_TIMEOUT:-90}"
PY="$ROOT/.venv/bin/python"
SUPERVISE=("$PY" "$ROOT/deploy/local/supervise.py")

declare -A DEFAULT_PORT=([gateway]=8000 [product]=8001 [inventory]=8002 [order]=8003 [fulfillment]=8004 [finance]=8005 [channel]=8006)

die() { echo "services.sh: ERROR: $*" >&2; exit 1; }

port_of() {
    local var="${1^^}_HTTP_PORT"
    echo "${!var:-${DEFAULT_PORT[$1]:-0}}"
}

names() { sed -n 's/^\([a-z][a-z0-9_-]*\):.*/\1/p' "$PROCFILE"; }

ports() { for svc in $(names); do echo "$svc=$(port_of "$svc")"; done; }

running() { [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

ctl() { "$ROOT/.venv/bin/supervisorctl" -c "$CONF" "$@"; }

known() { names | grep -qx -- "$1" || die "no service '$1' in $PROCFILE (known: $(names | xargs))"; }

wait_ready() {  # wait_ready [SVC]: until the service (or all) answer /health/ready
    local -a which
    if [[ -n "${1:-}" ]]; then which=("$1=$(port_of "$1")"); else mapfile -t which < <(ports); fi
    "${SUPERVISE[@]}" wait "$RUN_DIR" "$TIMEOUT" "${which[@]}" \
        || die "see '$0 status' and $RUN_DIR/logs/ (supervisord keeps retrying; '$0 stop' stops it)"
}

start() {
    [[ -f "$PROCFILE" ]] || die "no Procfile at $PROCFILE"
    [[ -x "$ROOT/.venv/bin/supervisord" ]] || die "supervisord missing in .venv: run 'make sync' first"
    if [[ -n "${1:-}" ]]; then
        known "$1"; running || die "supervisord is not running: '$0 start' first"
        ctl start "$1" || true
        wait_ready "$1"
        echo "$1 ready"
        return
    fi
    mkdir -p "$RUN_DIR"
    if running; then
        echo "services already running (supervisord pid $(cat "$PID_FILE"))"
    else
        for svc in $(names); do
            local port; port="$(port_of "$svc")"
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                die "port $port for '$svc' is taken by another process ($(ss -ltnp "sport = :$port" 2>/dev/null | tail -n +2 | sed 's/.*users://' | head -n1)); stop it or set ${svc^^}_HTTP_PORT"
            fi
        done
        "${SUPERVISE[@]}" conf "$RUN_DIR" "$PROCFILE" "$ROOT" >/dev/null
        rm -f "$RUN_DIR/supervisor.sock"
        (cd "$ROOT" && "$ROOT/.venv/bin/supervisord" -c "$CONF" </dev/null >>"$RUN_DIR/supervisord.out" 2>&1) \
            || { tail -n 20 "$RUN_DIR/supervisord.out" >&2; die "supervisord did not start (log: $RUN_DIR/supervisord.out)"; }
    fi
    wait_ready
    echo "services ready (supervisord pid $(cat "$PID_FILE"); logs: $RUN_DIR/logs/):"
    for svc in $(names); do
        printf '  %-12s http://127.0.0.1:%s   (docs: /docs, health: /health/ready, metrics: /metrics)\n' "$svc" "$(port_of "$svc")"
    done
}

stop() {
    if [[ -n "${1:-}" ]]; then
        known "$1"; running || die "supervisord is not running"
        ctl stop "$1"
        return
    fi
    legacy_honcho_stop
    if ! running; then
        rm -f "$PID_FILE"
        echo "services not running"
        return 0
    fi
    local pid; pid="$(cat "$PID_FILE")"
    local -a pids
    mapfile -t pids < <("${SUPERVISE[@]}" status "$RUN_DIR" --json $(ports) 2>/dev/null \
        | "$PY" -c 'import json,sys; [print(r["pid"]) for r in json.load(sys.stdin) if r["pid"]]' || true)
    ctl shutdown >/dev/null 2>&1 || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 60); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill -KILL "$pid" 2>/dev/null || true
    for p in "${pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null || true; done
    rm -f "$PID_FILE" "$RUN_DIR/supervisor.sock"
    echo "services stopped"
}

legacy_honcho_stop() {  # a stack started by the honcho version of this script
    local f="$RUN_DIR/honcho.pid"
    [[ -f "$f" ]] || return 0
    local pid; pid="$(cat "$f")"
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM -- "-$pid" 2>/dev/null || true
        for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$f"
}

restart() {
    [[ -n "${1:-}" ]] || die "usage: $0 restart SVC"
    known "$1"; running || die "supervisord is not running: '$0 start' first"
    ctl restart "$1"
    wait_ready "$1"
    echo "$1 ready"
}

status() {
    local -a args=()
    [[ "${1:-}" == "--json" ]] && args=(--json)
    if ! running; then
        if [[ ${#args[@]} -gt 0 ]]; then echo "[]"; else echo "not running"; fi
        exit 1
    fi
    "${SUPERVISE[@]}" status "$RUN_DIR" "${args[@]}" $(ports)
}

cmd="${1:-}"
shift || true
case "$cmd" in
    start) start "$@" ;;
    stop) stop "$@" ;;
    restart) restart "$@" ;;
    status) status "$@" ;;
    logs) [[ -n "${1:-}" ]] || die "usage: $0 logs SVC"; known "$1"; tail -n "${LINES_SHOWN:-100}" "$RUN_DIR/logs/$1.log" ;;
    *) echo "usage: $0 {start [SVC]|stop [SVC]|restart SVC|status [--json]|logs SVC}" >&2; exit 2 ;;
esac
