#!/usr/bin/env bash
# Runs one Apache Kafka node (KRaft, broker+controller) from jars that Maven resolves from Maven Central.
#
#   deploy/kafka/kafka.sh fetch    resolve the jars (pom.xml) into $KAFKA_LIBS, once per pom change
#   deploy/kafka/kafka.sh start    fetch, format storage once, start, wait until it serves requests
#   deploy/kafka/kafka.sh stop     SIGTERM the recorded pid (controlled shutdown), SIGKILL after a grace
#   deploy/kafka/kafka.sh status   exit 0 when the recorded pid is a running broker that answers
#
# Both start and stop are harmless when repeated. Settings, all optional:
#   KAFKA_DIR              state: data/, logs/, server.properties, kafka.pid  (default .run/kafka)
#   KAFKA_LIBS             jars, shared by every broker on this checkout     (default .run/kafka-libs)
#   KAFKA_PORT             client listener on 127.0.0.1                      (default 9092)
#   KAFKA_CONTROLLER_PORT  controller listener on 127.0.0.1                  (default 9093)
#   KAFKA_HEAP_OPTS        JVM heap                                          (default -Xms256m -Xmx768m)
#   KAFKA_FAST_START=1     C1 compiler only: starts ~1 s sooner, slower under load (tests use it)
#   KAFKA_START_TIMEOUT    seconds to wait for readiness                     (default 90)
#   MAVEN_REPO             a Maven repository to fetch from instead of Maven Central (an intranet
#                          mirror, e.g. https://nexus.example.gov.cn/repository/maven-public/)
#   MAVEN_SETTINGS         a settings.xml of your own for Maven (mirrors, proxies, credentials)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
KAFKA_DIR="$(mkdir -p "${KAFKA_DIR:-$repo/.run/kafka}" && cd "${KAFKA_DIR:-$repo/.run/kafka}" && pwd)"
KAFKA_LIBS="${KAFKA_LIBS:-$repo/.run/kafka-libs}"
KAFKA_PORT="${KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-9093}"
# Kafka does its I/O through the page cache, so a small heap is right; 768 MB keeps GC pauses short.
KAFKA_HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}"
KAFKA_START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"
pidfile="$KAFKA_DIR/kafka.pid"
python="${PYTHON:-python3}"

log() { printf '[kafka] %s\n' "$*" >&2; }

fetch() {
  local stamp="$KAFKA_LIBS/.pom.sha256" want
  want="$(sha256sum "$here/pom.xml" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    return 0
  fi
  command -v mvn >/dev/null || { log "Maven (mvn) is required to resolve the broker jars"; exit 1; }
  local settings=()
  if [[ -n "${MAVEN_SETTINGS:-}" ]]; then
    settings=(--settings "$MAVEN_SETTINGS")
    log "resolving Apache Kafka jars with $MAVEN_SETTINGS into $KAFKA_LIBS"
  elif [[ -n "${MAVEN_REPO:-}" ]]; then
    # A mirror of everything (the plugins too): Maven Central is never asked.
    mkdir -p "$(dirname "$KAFKA_LIBS")"
    local mirror="$KAFKA_LIBS.settings.xml"
    cat >"$mirror" <<XML
<settings><mirrors><mirror>
  <id>sanpi-mirror</id><mirrorOf>*</mirrorOf><url>$MAVEN_REPO</url>
</mirror></mirrors></settings>
XML
    settings=(--settings "$mirror")
    log "resolving Apache Kafka jars from $MAVEN_REPO into $KAFKA_LIBS"
  else
    log "resolving Apache Kafka jars from Maven Central into $KAFKA_LIBS"
  fi
  rm -rf "$KAFKA_LIBS.tmp"
  # Debian's Maven 3.8 prints bare colour resets even in quiet batch mode; strip them (pipefail
  # keeps mvn's exit status).
  mvn -B -q "${settings[@]}" -f "$here/pom.xml" dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$KAFKA_LIBS.tmp" 2>&1 \
    | sed -e 's/\x1b\[[0-9;]*m//g' -e '/^$/d' >&2
  rm -rf "$KAFKA_LIBS"
  mv "$KAFKA_LIBS.tmp" "$KAFKA_LIBS"
  echo "$want" >"$stamp"
  log "$(ls "$KAFKA_LIBS"/*.jar | wc -l) jars, $(du -sh "$KAFKA_LIBS" | cut -f1)"
}

render_config() {
  mkdir -p "$KAFKA_DIR/data" "$KAFKA_DIR/logs"
  sed -e "s#@PORT@#$KAFKA_PORT#g" \
      -e "s#@CONTROLLER_PORT@#$KAFKA_CONTROLLER_PORT#g" \
      -e "s#@DATA_DIR@#$KAFKA_DIR/data#g" \
      "$here/server.properties" >"$KAFKA_DIR/server.properties"
}

# The pid file alone is not proof: after a reboot the number may belong to another program.
running_pid() {
  [[ -f "$pidfile" ]] || return 1
  local pid
  pid="$(cat "$pidfile")"
  [[ -n "$pid" && -r "/proc/$pid/cmdline" ]] || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q "kafka.Kafka $KAFKA_DIR/server.properties" || return 1
  echo "$pid"
}

format_storage() {
  local cluster_id_file="$KAFKA_DIR/cluster.id"
  if [[ ! -s "$cluster_id_file" ]]; then
    java -Xmx256m -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool random-uuid >"$cluster_id_file"
  fi
  # --ignore-formatted: a second format of an existing log dir is a no-op, not an error.
  java -Xmx256m -cp "$KAFKA_LIBS/*" kafka.tools.StorageTool format \
    -t "$(cat "$cluster_id_file")" -c "$KAFKA_DIR/server.properties" \
    --standalone --ignore-formatted >"$KAFKA_DIR/logs/format.log" 2>&1 \
    || { cat "$KAFKA_DIR/logs/format.log" >&2; exit 1; }
}

start() {
  local pid
  if pid="$(running_pid)"; then
    log "already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  fetch
  render_config
  format_storage
  local jvm=(-XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35
             -XX:+ExplicitGCInvokesConcurrent -Djava.awt.headless=true)
  [[ "${KAFKA_FAST_START:-0}" == "1" ]] && jvm+=(-XX:TieredStopAtLevel=1)
  local started=$SECONDS
  # shellcheck disable=SC2086  # KAFKA_HEAP_OPTS holds several flags on purpose
  nohup java $KAFKA_HEAP_OPTS "${jvm[@]}" \
    -Dkafka.logs.dir="$KAFKA_DIR/logs" \
    -Dlog4j2.configurationFile="$here/log4j2.properties" \
    -cp "$KAFKA_LIBS/*" kafka.Kafka "$KAFKA_DIR/server.properties" \
    >"$KAFKA_DIR/logs/stdout.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$pidfile"
  log "started pid $pid, waiting for 127.0.0.1:$KAFKA_PORT"
  local deadline=$((SECONDS + KAFKA_START_TIMEOUT))
  until "$python" "$here/probe.py" 127.0.0.1 "$KAFKA_PORT" 0 2>/dev/null; do
    if ! kill -0 "$pid" 2>/dev/null; then
      log "the broker exited during start-up; last lines of its logs:"
      tail -n 30 "$KAFKA_DIR/logs/stdout.log" "$KAFKA_DIR/logs/server.log" >&2 2>/dev/null || true
      rm -f "$pidfile"
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "not ready after ${KAFKA_START_TIMEOUT}s; see $KAFKA_DIR/logs/server.log"
      exit 1
    fi
    sleep 0.2
  done
  log "ready on 127.0.0.1:$KAFKA_PORT after $((SECONDS - started))s (pid $pid)"
}

stop() {
  local pid
  if ! pid="$(running_pid)"; then
    log "not running"
    rm -f "$pidfile"
    return 0
  fi
  kill -TERM "$pid"
  # Controlled shutdown normally takes a few seconds; 60 s covers a loaded machine.
  local deadline=$((SECONDS + 60))
  while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
      log "pid $pid ignored SIGTERM for 60 s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      break
    fi
    sleep 0.2
  done
  rm -f "$pidfile"
  log "stopped (pid $pid)"
}

status() {
  local pid
  pid="$(running_pid)" || { log "not running"; return 1; }
  "$python" "$here/probe.py" 127.0.0.1 "$KAFKA_PORT" 2 || return 1
  log "running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
}

case "${1:-}" in
  fetch) fetch ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) sed -n '2,19p' "$0" | sed 's/^# \{0,1\}//'; [[ "${1:-}" =~ ^(-h|--help|help)$ ]] ;;
esac
