#!/usr/bin/env bash
# Local single-node Kafka (KRaft, combined broker+controller) without Docker.
#
#   deploy/local/kafka.sh fetch    # jars -> .cache/kafka-<version>/lib (via mvn, cached)
#   deploy/local/kafka.sh start    # fetch, format once, start, wait until a topic list works
#   deploy/local/kafka.sh stop     # TERM (<=30 s) then KILL
#   deploy/local/kafka.sh status   # exit 0 when running/answering, 1 otherwise
#   deploy/local/kafka.sh reset    # stop and delete .data/kafka (all topics are lost)
#
# Env: KAFKA_BOOTSTRAP_SERVERS (use an existing Kafka: only checked, nothing started),
#      KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (9093), KAFKA_DATA_DIR (.data/kafka), KAFKA_START_TIMEOUT (60 s),
#      KAFKA_HEAP_OPTS ("-Xms256m -Xmx512m"), KAFKA_JAVA_OPTS (extra JVM flags),
#      MAVEN_OPTS / KAFKA_MVN_ARGS (passed to mvn, e.g. -Dmaven.repo.local=...).
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
POM="$SCRIPT_DIR/kafka/pom.xml"
LOG4J_CONF="$SCRIPT_DIR/kafka/log4j2.properties"

HOST=127.0.0.1
PORT="${KAFKA_PORT:-9092}"
CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
START_TIMEOUT="${KAFKA_START_TIMEOUT:-60}"
STOP_TIMEOUT=30

KAFKA_VERSION="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n1)"
CACHE_DIR="$REPO_ROOT/.cache/kafka-$KAFKA_VERSION"
LIB_DIR="$CACHE_DIR/lib"
MARKER="$CACHE_DIR/.complete"

DATA_DIR="${KAFKA_DATA_DIR:-$REPO_ROOT/.data/kafka}"  # a second broker (e.g. a test that stops its own) sets its own
LOG_DIRS="$DATA_DIR/logs"
CONFIG="$DATA_DIR/server.properties"
CLUSTER_ID_FILE="$DATA_DIR/cluster.id"
PID_FILE="$DATA_DIR/kafka.pid"
OUT_FILE="$DATA_DIR/kafka.out"
SERVER_LOG="$DATA_DIR/server.log"
TOOLS_CONF="$DATA_DIR/tools.properties"

log() { echo "kafka.sh: $*" >&2; }
die() { echo "kafka.sh: ERROR: $*" >&2; exit 1; }

show_tail() { # file [lines]
    local f="$1" n="${2:-40}"
    if [[ -s "$f" ]]; then
        echo "----- last $n lines of $f -----" >&2
        tail -n "$n" "$f" >&2 || true
        echo "-----" >&2
    fi
}

# server.log lines written since the start attempt (the file keeps earlier runs)
show_new_log() {
    [[ -f "$SERVER_LOG" ]] || return 0
    local new
    new="$(tail -n +$(($1 + 1)) "$SERVER_LOG" | tail -n 30)"
    [[ -n "$new" ]] || return 0
    echo "----- new lines in $SERVER_LOG -----" >&2
    echo "$new" >&2
    echo "-----" >&2
}

# ---------------------------------------------------------------- checks
require_java() {
    command -v java >/dev/null 2>&1 || die "java not found on PATH (Kafka $KAFKA_VERSION needs Java 17+; Debian: apt-get install -y openjdk-17-jre-headless)"
    local v major
    v="$(java -version 2>&1 | sed -n 's/.*version "\([^"]*\)".*/\1/p' | head -n1)"
    major="${v%%.*}"
    [[ "$major" == 1 ]] && major="$(echo "$v" | cut -d. -f2)"
    [[ "$major" =~ ^[0-9]+$ ]] || die "cannot parse java version from: $(java -version 2>&1 | head -n1)"
    (( major >= 17 )) || die "java $v is too old: Kafka $KAFKA_VERSION needs Java 17+ ($(command -v java))"
}

require_mvn() {
    command -v mvn >/dev/null 2>&1 || die "mvn not found on PATH (needed once to fetch the Kafka jars; Debian: apt-get install -y maven)"
}

[[ -n "$KAFKA_VERSION" ]] || die "cannot read <kafka.version> from $POM"
[[ "$PORT" =~ ^[0-9]+$ && "$CONTROLLER_PORT" =~ ^[0-9]+$ ]] || die "KAFKA_PORT/KAFKA_CONTROLLER_PORT must be numbers (got '$PORT'/'$CONTROLLER_PORT')"
[[ "$PORT" != "$CONTROLLER_PORT" ]] || die "KAFKA_PORT and KAFKA_CONTROLLER_PORT must differ (both $PORT)"

# tcp_open host port: true when something accepts a TCP connection (1 s timeout)
tcp_open() {
    timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/$2"' _ "$1" "$2" >/dev/null 2>&1
}

# who_listens port: best-effort description of the process holding a local TCP port
who_listens() {
    local out=""
    if command -v ss >/dev/null 2>&1; then
        out="$(ss -Hltnp "sport = :$1" 2>/dev/null | sed -n 's/.*users:(\(.*\))/\1/p' | head -n1)"
    fi
    if [[ -z "$out" ]] && command -v lsof >/dev/null 2>&1; then
        out="$(lsof -nP -iTCP:"$1" -sTCP:LISTEN 2>/dev/null | awk 'NR==2{print $1" pid "$2}')"
    fi
    echo "${out:-unknown process}"
}

# ---------------------------------------------------------------- pid handling
# Prints our pid when the broker started by this script is alive.
running_pid() {
    [[ -f "$PID_FILE" ]] || return 1
    local pid
    pid="$(tr -dc '0-9' <"$PID_FILE")"
    [[ -n "$pid" ]] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    # guard against pid reuse: must be a kafka.Kafka running our config
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "kafka.Kafka $CONFIG" || return 1
    echo "$pid"
}

# PLAINTEXT port of the generated config (the running broker's, if any)
configured_port() {
    sed -n 's/^listeners=PLAINTEXT:\/\/[^:]*:\([0-9]*\),.*/\1/p' "$CONFIG" 2>/dev/null | head -n1
}

# ---------------------------------------------------------------- fetch
fetch() {
    if [[ -f "$MARKER" && -d "$LIB_DIR" ]] && [[ "$(cat "$MARKER")" == "$(pom_digest)" ]] && lib_complete; then
        return 0
    fi
    require_mvn
    require_java
    mkdir -p "$REPO_ROOT/.cache"
    local tmp mvn_log t0
    tmp="$(mktemp -d "$REPO_ROOT/.cache/.kafka-fetch.XXXXXX")"
    mvn_log="$tmp.mvn.log"
    t0=$SECONDS
    log "fetching Kafka $KAFKA_VERSION jars with maven into $LIB_DIR ..."
    # shellcheck disable=SC2086
    if ! timeout 900 mvn -B -q -Dstyle.color=never ${KAFKA_MVN_ARGS:-} -f "$POM" dependency:copy-dependencies \
            -DoutputDirectory="$tmp/lib" -DincludeScope=runtime >"$mvn_log" 2>&1; then
        show_tail "$mvn_log" 40
        rm -rf "$tmp"
        die "mvn dependency:copy-dependencies failed for Kafka $KAFKA_VERSION (log above: $mvn_log; is Maven Central reachable?)"
    fi
    rm -rf "$CACHE_DIR.old"
    [[ -d "$CACHE_DIR" ]] && mv "$CACHE_DIR" "$CACHE_DIR.old"
    mkdir -p "$CACHE_DIR"
    mv "$tmp/lib" "$LIB_DIR"
    rm -rf "$tmp" "$mvn_log" "$CACHE_DIR.old"
    lib_complete || die "jars fetched into $LIB_DIR but kafka_2.13/kafka-tools/log4j-core/slf4j-api are missing: check $POM"
    pom_digest >"$MARKER"
    log "fetched $(ls "$LIB_DIR" | wc -l) jars in $((SECONDS - t0)) s"
}

pom_digest() { sha256sum "$POM" | cut -d' ' -f1; }

lib_complete() {
    local j
    for j in "kafka_2.13-$KAFKA_VERSION.jar" "kafka-tools-$KAFKA_VERSION.jar" "kafka-clients-$KAFKA_VERSION.jar" \
             "kafka-server-$KAFKA_VERSION.jar" "kafka-raft-$KAFKA_VERSION.jar"; do
        [[ -f "$LIB_DIR/$j" ]] || return 1
    done
    compgen -G "$LIB_DIR/log4j-core-*.jar" >/dev/null && compgen -G "$LIB_DIR/slf4j-api-2*.jar" >/dev/null
}

# ---------------------------------------------------------------- java helpers
# Short-lived CLI JVM: small heap, C1 only (starts faster), log4j default config (ERROR to console).
kafka_tool() {
    java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto \
        -cp "$LIB_DIR/*" "$@"
}

write_config() {
    mkdir -p "$DATA_DIR" "$LOG_DIRS"
    cat >"$CONFIG.tmp" <<EOF
# Generated by deploy/local/kafka.sh on every start: edit the script, not this file.
process.roles=broker,controller
node.id=1
controller.quorum.bootstrap.servers=$HOST:$CONTROLLER_PORT
listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
advertised.listeners=PLAINTEXT://$HOST:$PORT,CONTROLLER://$HOST:$CONTROLLER_PORT
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$LOG_DIRS
num.partitions=6
default.replication.factor=1
min.insync.replicas=1
auto.create.topics.enable=false
delete.topic.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=6
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# offset commits and group writes are appended at once (the 4.x default lingers 5 ms per commit)
group.coordinator.append.linger.ms=0
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
EOF
    mv "$CONFIG.tmp" "$CONFIG"
    cat >"$TOOLS_CONF" <<EOF
request.timeout.ms=5000
default.api.timeout.ms=8000
EOF
}

format_storage() {
    [[ -f "$LOG_DIRS/meta.properties" ]] && return 0
    local cid out
    if [[ -s "$CLUSTER_ID_FILE" ]]; then
        cid="$(tr -d '[:space:]' <"$CLUSTER_ID_FILE")"
    else
        cid="$(kafka_tool kafka.tools.StorageTool random-uuid 2>&1 | tail -n1 | tr -d '[:space:]')" \
            || die "StorageTool random-uuid failed: $cid"
        [[ "$cid" =~ ^[A-Za-z0-9_-]{22}$ ]] || die "StorageTool random-uuid printed an unexpected cluster id: '$cid'"
        echo "$cid" >"$CLUSTER_ID_FILE"
    fi
    log "formatting $LOG_DIRS (cluster id $cid) ..."
    if ! out="$(kafka_tool kafka.tools.StorageTool format --standalone -t "$cid" -c "$CONFIG" 2>&1)"; then
        echo "$out" >&2
        die "kafka storage format failed (see above); to start from scratch: $0 reset"
    fi
}

broker_answers() {
    timeout 20 java -Xmx256m -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto -cp "$LIB_DIR/*" \
        org.apache.kafka.tools.TopicCommand --bootstrap-server "$HOST:$PORT" \
        --command-config "$TOOLS_CONF" --list >/dev/null 2>&1
}

# ---------------------------------------------------------------- external kafka
check_external() {
    local entry hp host port ok=""
    IFS=',' read -ra entries <<<"$KAFKA_BOOTSTRAP_SERVERS"
    for entry in "${entries[@]}"; do
        hp="${entry##*://}"; hp="${hp// /}"
        [[ -n "$hp" ]] || continue
        host="${hp%:*}"; port="${hp##*:}"
        host="${host#[}"; host="${host%]}"
        if [[ "$port" =~ ^[0-9]+$ ]] && tcp_open "$host" "$port"; then
            ok="$hp"; break
        fi
    done
    [[ -n "$ok" ]] || die "KAFKA_BOOTSTRAP_SERVERS=$KAFKA_BOOTSTRAP_SERVERS: no server accepts TCP connections (unset it to start a local Kafka)"
    echo "kafka ready at $ok (external, KAFKA_BOOTSTRAP_SERVERS)"
}

# ---------------------------------------------------------------- commands
start() {
    if [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
        check_external
        return 0
    fi
    require_java
    fetch
    mkdir -p "$DATA_DIR"

    # Serialize concurrent "start"s (e.g. two test runners).
    exec 8>"$DATA_DIR/.lock"
    flock -w $((START_TIMEOUT + 30)) 8 || die "another kafka.sh start/stop holds $DATA_DIR/.lock for too long"

    local pid
    if pid="$(running_pid)"; then
        local running_port
        running_port="$(configured_port)"
        if [[ -n "$running_port" && "$running_port" != "$PORT" ]]; then
            die "kafka is already running (pid $pid) on $HOST:$running_port, not on KAFKA_PORT=$PORT: run '$0 stop' first to change ports"
        fi
        echo "kafka already running (pid $pid) at $HOST:${running_port:-$PORT}"
        return 0
    fi
    rm -f "$PID_FILE"

    local p
    for p in "$PORT" "$CONTROLLER_PORT"; do
        if tcp_open "$HOST" "$p"; then
            die "port $HOST:$p is already in use by $(who_listens "$p") (not a Kafka started by this script). Stop it, or set KAFKA_PORT/KAFKA_CONTROLLER_PORT, or KAFKA_BOOTSTRAP_SERVERS to use it."
        fi
    done

    write_config
    format_storage

    local t0=$SECONDS log_lines=0
    [[ -f "$SERVER_LOG" ]] && log_lines="$(wc -l <"$SERVER_LOG")"
    : >"$OUT_FILE"
    # setsid: own session, so the broker outlives the calling shell/terminal.
    # shellcheck disable=SC2086
    setsid nohup java ${KAFKA_HEAP_OPTS:--Xms256m -Xmx512m} -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.logs.dir="$DATA_DIR" \
        ${KAFKA_JAVA_OPTS:-} \
        -cp "$LIB_DIR/*" kafka.Kafka "$CONFIG" </dev/null >>"$OUT_FILE" 2>&1 8>&- &
    pid=$!
    echo "$pid" >"$PID_FILE"
    log "started java (pid $pid), waiting up to ${START_TIMEOUT}s for $HOST:$PORT ..."

    local deadline=$((SECONDS + START_TIMEOUT)) stage="tcp"
    while :; do
        if ! kill -0 "$pid" 2>/dev/null; then
            rm -f "$PID_FILE"
            show_tail "$OUT_FILE" 40
            show_new_log "$log_lines"
            die "kafka process $pid exited during startup (logs above: $OUT_FILE, $SERVER_LOG)"
        fi
        if [[ "$stage" == tcp ]] && tcp_open "$HOST" "$PORT"; then
            stage="metadata"
        fi
        if [[ "$stage" == metadata ]] && broker_answers; then
            break
        fi
        if (( SECONDS >= deadline )); then
            show_tail "$OUT_FILE" 40
            show_new_log "$log_lines"
            log "giving up: stopping pid $pid"
            stop_pid "$pid"
            rm -f "$PID_FILE"
            if [[ "$stage" == tcp ]]; then
                die "kafka did not open $HOST:$PORT within ${START_TIMEOUT}s (set KAFKA_START_TIMEOUT to wait longer)"
            fi
            die "kafka listens on $HOST:$PORT but did not answer a topic list within ${START_TIMEOUT}s"
        fi
        sleep 1
    done
    log "broker up in $((SECONDS - t0)) s"
    echo "kafka ready at $HOST:$PORT"
}

stop_pid() {
    local pid="$1" i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < STOP_TIMEOUT * 5; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    log "pid $pid still alive after ${STOP_TIMEOUT}s, sending KILL"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.2
    done
    die "pid $pid survived KILL"
}

stop() {
    mkdir -p "$DATA_DIR"
    exec 8>"$DATA_DIR/.lock"
    flock -w $((START_TIMEOUT + 30)) 8 || die "another kafka.sh start/stop holds $DATA_DIR/.lock for too long"
    local pid
    if pid="$(running_pid)"; then
        log "stopping kafka (pid $pid) ..."
        stop_pid "$pid"
        echo "kafka stopped"
    else
        echo "kafka not running"
    fi
    rm -f "$PID_FILE"
}

status() {
    if [[ -n "${KAFKA_BOOTSTRAP_SERVERS:-}" ]]; then
        ( check_external ) 2>/dev/null && return 0
        echo "kafka not answering at $KAFKA_BOOTSTRAP_SERVERS (external)"
        return 1
    fi
    local pid
    if pid="$(running_pid)"; then
        local running_port
        running_port="$(configured_port)"
        echo "kafka running (pid $pid) at $HOST:${running_port:-$PORT}"
        return 0
    fi
    echo "kafka not running"
    return 1
}

reset() {
    stop
    rm -rf "$DATA_DIR"
    echo "kafka data removed ($DATA_DIR)"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    fetch) fetch; echo "kafka $KAFKA_VERSION jars in $LIB_DIR" ;;
    reset) reset ;;
    *) echo "usage: $0 {start|stop|status|fetch|reset}" >&2; exit 2 ;;
esac
