#!/usr/bin/env bash
# The platform simulator of the local stack (`omni-tools sim`: Taobao/Tmall's TOP stock APIs and the /_sim
# control API), on 127.0.0.1 only. `make up` starts it, `make down` stops it; the channel service pushes
# stock to it by default (OMNI_TAOBAO_ROUTER_URL = http://127.0.0.1:8090/taobao/router/rest).
#
#   deploy/local/sim.sh start     start it in the background (idempotent), wait until /_sim/health answers
#   deploy/local/sim.sh stop      stop it (TERM, then KILL after 10 s)
#   deploy/local/sim.sh status    exit 0 when it runs and answers
#
# It runs under a small keeper loop of its own (not the services' supervisord: the e2e and chaos stacks
# start the Procfile on ports of their own and share this one simulator's absence): a simulator that dies is
# started again after a second. Its state (shops, items, faults) is in memory: a restart empties it.
#
# Env: OMNI_SIM_PORT (8090), OMNI_SIM_ARGS (extra `omni-tools sim` options, e.g. "--failure-rate 0.3"),
#      OMNI_SIM_DIR (.data/sim: pid file and log sim.log),
#      OMNI_SIM_OMNI_URL (http://127.0.0.1:8000, the gateway: where it pushes signed orders and refunds).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN_DIR="${OMNI_SIM_DIR:-$ROOT/.data/sim}"
PORT="${OMNI_SIM_PORT:-8090}"
PID_FILE="$RUN_DIR/sim.pid"
export OMNI_SIM_OMNI_URL="${OMNI_SIM_OMNI_URL:-http://127.0.0.1:8000}"
LOG="$RUN_DIR/sim.log"
URL="http://127.0.0.1:$PORT/_sim/health"

die() { echo "sim.sh: ERROR: $*" >&2; exit 1; }

running() { [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

answers() { curl -fsS --max-time 2 "$URL" >/dev/null 2>&1; }

start() {
    if running; then
        echo "simulator already running (pid $(cat "$PID_FILE")) at http://127.0.0.1:$PORT"
        return
    fi
    [[ -x "$ROOT/.venv/bin/omni-tools" ]] || die "omni-tools missing in .venv: run 'make sync' first"
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
        die "port $PORT is taken by another process ($(ss -ltnp "sport = :$PORT" 2>/dev/null | tail -n +2 | sed 's/.*users://' | head -n1)); stop it or set OMNI_SIM_PORT"
    fi
    mkdir -p "$RUN_DIR"
    # a process group of its own (setsid): stop ends the keeper and the simulator together
    setsid bash -c '
        trap "kill -TERM \$child 2>/dev/null; exit 0" TERM INT
        while true; do
            "$0" sim --host 127.0.0.1 --port "$1" $2 >>"$3" 2>&1 &
            child=$!
            wait "$child" || true
            echo "$(date -u +%FT%TZ) simulator exited; starting it again in 1 s" >>"$3"
            sleep 1
        done' "$ROOT/.venv/bin/omni-tools" "$PORT" "${OMNI_SIM_ARGS:-}" "$LOG" </dev/null >/dev/null 2>&1 &
    echo $! >"$PID_FILE"
    for _ in $(seq 1 60); do
        if answers; then
            echo "simulator ready at http://127.0.0.1:$PORT (taobao: /taobao/router/rest, control: /_sim; log: $LOG)"
            return
        fi
        running || break
        sleep 0.5
    done
    tail -n 20 "$LOG" >&2 || true
    stop >/dev/null
    die "the simulator did not answer $URL within 30 s (log: $LOG)"
}

stop() {
    if ! running; then
        rm -f "$PID_FILE"
        echo "simulator not running"
        return 0
    fi
    local pid; pid="$(cat "$PID_FILE")"
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.5
    done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$PID_FILE"
    echo "simulator stopped"
}

status() {
    if running && answers; then
        echo "simulator running (pid $(cat "$PID_FILE")) at http://127.0.0.1:$PORT"
        return 0
    fi
    if running; then echo "simulator process running (pid $(cat "$PID_FILE")) but $URL does not answer"; else echo "simulator not running"; fi
    return 1
}

cmd="${1:-}"
case "$cmd" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) echo "usage: $0 {start|stop|status}" >&2; exit 2 ;;
esac
