#!/usr/bin/env bash
# Run every Omni service as its own process, from the Procfile, under supervisord (a process supervisor):
# a service that dies is started again by itself, with backoff, and the others keep running.
#
#   deploy/local/services.sh start [SVC]    start supervisord in the background (or one service), wait until
#                                           each program answers /health/ready
#   deploy/local/services.sh stop [SVC]     stop them all and supervisord (TERM, then KILL after 20 s), or one
#   deploy/local/services.sh restart SVC    restart a service (each of its replicas in turn) and wait until ready
#   deploy/local/services.sh status [--json]  each program: pid, state, uptime, port, ready (exit 1: not running)
#   deploy/local/services.sh logs SVC       the last lines of a service's log (of each of its replicas)
#
# SVC is a Procfile entry (`order`: all its replicas) or one replica's program (`order-2`).
#
# Replicas: SCALE_<SERVICE>=N (1..8, e.g. SCALE_ORDER=2) runs N copies of a service, read by `start` when it
# writes supervisord's config. Replica 1 is the program `order`; replica k >= 2 is the program `order-k`, on
# port <SERVICE>_<k>_HTTP_PORT (default: the service's port + SCALE_PORT_STEP*(k-1), step 100: order-2 on
# 8103), with its own log, and otherwise the same command and environment: the same consumer groups (Kafka
# shares the partitions out) and database (one outbox relay active, the others stand by). A port that two
# programs would share is refused. The plan is kept in $OMNI_RUN_DIR/programs: status/restart/stop act on what
# was started, whatever their own SCALE_*; a new SCALE takes effect at the next start after a stop.
#
# Env: OMNI_RUN_DIR (default .data/services: supervisord's config, socket, pid file and logs; one per stack, so
#      several stacks run side by side), OMNI_PROCFILE (default Procfile), <SERVICE>_HTTP_PORT to move a
#      service, SCALE_<SERVICE>, SCALE_PORT_STEP, <SERVICE>_<k>_HTTP_PORT (above), SERVICES_START_TIMEOUT
#      (default 90 s), FATAL_RETRY_SECONDS (default 30: pause before a service that keeps crashing at start is
#      tried again), SERVICES_START_SECS (10: up this long counts as started), SERVICES_START_RETRIES (10:
#      failed starts in a row, 1 s, 2 s, … apart, before that pause).
# Everything else in the environment (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL, …) reaches the services.
# Logs: $OMNI_RUN_DIR/logs/<program>.log, supervisord's own in $OMNI_RUN_DIR/supervisord.log.
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

die() { echo "services.sh: ERROR: $*" >&2; exit 1; }

running() { [[ -f "$PID_FILE" ]] && kill -0 "$(cat "$PID_FILE")" 2>/dev/null; }

# The programs, one a line: "name service replica port". While supervisord runs: those it was started with
# (written by `supervise.py conf`); otherwise what the environment asks for (SCALE_*, *_HTTP_PORT; checked).
plan() {
    if running && [[ -f "$RUN_DIR/programs" ]]; then cat "$RUN_DIR/programs"; return; fi
    [[ -f "$PROCFILE" ]] || die "no Procfile at $PROCFILE"
    "${SUPERVISE[@]}" plan "$PROCFILE" || exit 1
}

ctl() { "$ROOT/.venv/bin/supervisorctl" -c "$CONF" "$@"; }

# resolve SVC: the programs SVC names (a service: all its replicas; a program: itself), one a line
resolve() {
    local all; all="$(plan)"
    local found; found="$(awk -v s="$1" '$1 == s || $2 == s { print $1 }' <<<"$all")"
    [[ -n "$found" ]] || die "no service '$1' (known: $(awk '{ print $1 }' <<<"$all" | xargs))"
    echo "$found"
}

# pairs [PROGRAM...]: "program=port" for supervise.py (every program when none is given)
pairs() {
    local all; all="$(plan)"
    if [[ $# -eq 0 ]]; then awk '{ print $1 "=" $4 }' <<<"$all"; return; fi
    local p
    for p in "$@"; do awk -v p="$p" '$1 == p { print $1 "=" $4 }' <<<"$all"; done
}

# to_array NAME TEXT: the lines of TEXT into the array NAME (none for an empty TEXT)
to_array() { local -n _arr="$1"; _arr=(); [[ -z "$2" ]] || mapfile -t _arr <<<"$2"; }

wait_ready() {  # wait_ready [PROGRAM...]: until each (or every program) answers /health/ready
    local -a which; local text; text="$(pairs "$@")"; to_array which "$text"
    "${SUPERVISE[@]}" wait "$RUN_DIR" "$TIMEOUT" "${which[@]}" \
        || die "see '$0 status' and $RUN_DIR/logs/ (supervisord keeps retrying; '$0 stop' stops it)"
}

start() {
    [[ -f "$PROCFILE" ]] || die "no Procfile at $PROCFILE"
    [[ -x "$ROOT/.venv/bin/supervisord" ]] || die "supervisord missing in .venv: run 'make sync' first"
    if [[ -n "${1:-}" ]]; then
        running || die "supervisord is not running: '$0 start' first"
        local -a progs; local found; found="$(resolve "$1")"; to_array progs "$found"
        ctl start "${progs[@]}" || true
        wait_ready "${progs[@]}"
        echo "${progs[*]} ready"
        return
    fi
    mkdir -p "$RUN_DIR"
    local all
    if running; then
        echo "services already running (supervisord pid $(cat "$PID_FILE"))"
        all="$(plan)"
        local wanted; wanted="$("${SUPERVISE[@]}" plan "$PROCFILE" 2>/dev/null || true)"
        [[ "$wanted" == "$all" ]] || echo "services.sh: note: running as started; SCALE_*/ports take effect after '$0 stop'" >&2
    else
        all="$(plan)"
        local name svc replica port
        while read -r name svc replica port; do
            if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
                local var="${svc^^}_HTTP_PORT"; var="${var//-/_}"
                [[ "$replica" == 1 ]] || var="${svc^^}_${replica}_HTTP_PORT"
                die "port $port for '$name' is taken by another process ($(ss -ltnp "sport = :$port" 2>/dev/null | tail -n +2 | sed 's/.*users://' | head -n1)); stop it or set ${var//-/_}"
            fi
        done <<<"$all"
        "${SUPERVISE[@]}" conf "$RUN_DIR" "$PROCFILE" "$ROOT" >/dev/null || exit 1
        all="$(cat "$RUN_DIR/programs")"
        rm -f "$RUN_DIR/supervisor.sock"
        (cd "$ROOT" && "$ROOT/.venv/bin/supervisord" -c "$CONF" </dev/null >>"$RUN_DIR/supervisord.out" 2>&1) \
            || { tail -n 20 "$RUN_DIR/supervisord.out" >&2; die "supervisord did not start (log: $RUN_DIR/supervisord.out)"; }
    fi
    wait_ready
    echo "services ready (supervisord pid $(cat "$PID_FILE"); logs: $RUN_DIR/logs/):"
    local name svc replica port
    while read -r name svc replica port; do
        local note="(docs: /docs, health: /health/ready, metrics: /metrics)"
        [[ "$replica" == 1 ]] || note="(replica $replica of $svc: the same consumer groups)"
        printf '  %-14s http://127.0.0.1:%s   %s\n' "$name" "$port" "$note"
    done <<<"$all"
}

stop() {
    if [[ -n "${1:-}" ]]; then
        running || die "supervisord is not running"
        local -a progs; local found; found="$(resolve "$1")"; to_array progs "$found"
        ctl stop "${progs[@]}"
        return
    fi
    legacy_honcho_stop
    if ! running; then
        rm -f "$PID_FILE"
        echo "services not running"
        return 0
    fi
    local pid; pid="$(cat "$PID_FILE")"
    local -a pids which; local text; text="$(pairs)"; to_array which "$text"
    mapfile -t pids < <("${SUPERVISE[@]}" status "$RUN_DIR" --json "${which[@]}" 2>/dev/null \
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

restart() {  # one replica after the other, each ready before the next goes down: the group keeps consuming
    [[ -n "${1:-}" ]] || die "usage: $0 restart SVC"
    running || die "supervisord is not running: '$0 start' first"
    local -a progs; local found; found="$(resolve "$1")"; to_array progs "$found"
    local p
    for p in "${progs[@]}"; do
        ctl restart "$p"
        wait_ready "$p"
        echo "$p ready"
    done
}

status() {
    local -a args=()
    [[ "${1:-}" == "--json" ]] && args=(--json)
    if ! running; then
        if [[ ${#args[@]} -gt 0 ]]; then echo "[]"; else echo "not running"; fi
        exit 1
    fi
    local -a which; local text; text="$(pairs)"; to_array which "$text"
    "${SUPERVISE[@]}" status "$RUN_DIR" "${args[@]}" "${which[@]}"
}

logs() {
    [[ -n "${1:-}" ]] || die "usage: $0 logs SVC"
    local -a progs files; local found; found="$(resolve "$1")"; to_array progs "$found"
    local p
    for p in "${progs[@]}"; do files+=("$RUN_DIR/logs/$p.log"); done
    tail -n "${LINES_SHOWN:-100}" "${files[@]}"
}

cmd="${1:-}"
shift || true
case "$cmd" in
    start) start "$@" ;;
    stop) stop "$@" ;;
    restart) restart "$@" ;;
    status) status "$@" ;;
    logs) logs "$@" ;;
    *) echo "usage: $0 {start [SVC]|stop [SVC]|restart SVC|status [--json]|logs SVC}" >&2; exit 2 ;;
esac
