#!/usr/bin/env bash
# Run every Omni service as its own process, from the Procfile, with honcho.
#
#   deploy/local/services.sh start    # start in the background, wait until each answers /health/ready
#   deploy/local/services.sh stop     # stop them all (TERM, then KILL after 20 s)
#   deploy/local/services.sh status
#
# Env: OMNI_RUN_DIR (default .data/services: pid file and log), OMNI_PROCFILE (default Procfile),
#      <SERVICE>_HTTP_PORT to move a service, SERVICES_START_TIMEOUT (default 90 s).
# Everything else in the environment (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL, …) reaches the services.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN_DIR="${OMNI_RUN_DIR:-$ROOT/.data/services}"
PROCFILE="${OMNI_PROCFILE:-$ROOT/Procfile}"
PID_FILE="$RUN_DIR/honcho.pid"
LOG="$RUN_DIR/services.log"
TIMEOUT="${SERVICES_START_TIMEOUT:-90}"

declare -A DEFAULT_PORT=([gateway]=8000 [product]=8001 [inventory]=8002 [order]=8003 [fulfillment]=8004 [finance]=8005 [channel]=8006)

die() { echo "services.sh: ERROR: $*" >&2; exit 1; }

port_of() {
    local var="${1^^}_HTTP_PORT"
    echo "${!var:-${DEFAULT_PORT[$1]:-0}}"
}

names() { sed -n 's/^\([a-z][a-z0-9_-]*\):.*/\1/p' "$PROCFILE"; }

running() { [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

ready() { curl -fsS -m 2 "http://127.0.0.1:$(port_of "$1")/health/ready" >/dev/null 2>&1; }

start() {
    [[ -f "$PROCFILE" ]] || die "no Procfile at $PROCFILE"
    [[ -x "$ROOT/.venv/bin/honcho" ]] || die "honcho missing in .venv: run 'make sync' first"
    mkdir -p "$RUN_DIR"
    if running; then
        echo "services already running (honcho pid $(cat "$PID_FILE"))"
    else
        for svc in $(names); do
            local port; port="$(port_of "$svc")"
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                die "port $port for '$svc' is taken by another process ($(ss -ltnp "sport = :$port" 2>/dev/null | tail -n +2 | sed 's/.*users://' | head -n1)); stop it or set ${svc^^}_HTTP_PORT"
            fi
        done
        : > "$LOG"
        cd "$ROOT"
        setsid "$ROOT/.venv/bin/honcho" -f "$PROCFILE" -d "$ROOT" start >>"$LOG" 2>&1 < /dev/null &
        echo $! > "$PID_FILE"
    fi
    local deadline=$((SECONDS + TIMEOUT)) pending
    while :; do
        pending=()
        for svc in $(names); do ready "$svc" || pending+=("$svc"); done
        [[ ${#pending[@]} -eq 0 ]] && break
        if ! running; then
            tail -n 40 "$LOG" >&2
            die "honcho exited while starting (log: $LOG)"
        fi
        if (( SECONDS > deadline )); then
            tail -n 40 "$LOG" >&2
            die "not ready after ${TIMEOUT}s: ${pending[*]} (log: $LOG)"
        fi
        sleep 0.5
    done
    echo "services ready (log: $LOG):"
    for svc in $(names); do
        printf '  %-12s http://127.0.0.1:%s   (docs: /docs, health: /health/ready, metrics: /metrics)\n' "$svc" "$(port_of "$svc")"
    done
}

stop() {
    if ! running; then
        rm -f "$PID_FILE"
        echo "services not running"
        return 0
    fi
    local pid; pid="$(cat "$PID_FILE")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
    echo "services stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) if running; then echo "running (honcho pid $(cat "$PID_FILE"))"; else echo "not running"; exit 1; fi ;;
    *) echo "usage: $0 {start|stop|status}" >&2; exit 2 ;;
esac
