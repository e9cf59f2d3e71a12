#!/usr/bin/env bash
# Runs a private PostgreSQL (Debian's package) for sanpi under .run/, on loopback, as a non-root user.
#
#   deploy/postgres/pg.sh start          initdb once, start, create the three service databases
#   deploy/postgres/pg.sh stop           fast shutdown of the recorded postmaster (by its pid file)
#   deploy/postgres/pg.sh crash          immediate shutdown: every server process ends at once, as in
#                                        a crash; the next start recovers from the WAL (fault tests)
#   deploy/postgres/pg.sh status         exit 0 when it accepts connections
#   deploy/postgres/pg.sh url SERVICE    print the SQLAlchemy URL of SERVICE's database
#   deploy/postgres/pg.sh createdb NAME  create database NAME if missing
#   deploy/postgres/pg.sh where          print the directory that holds the cluster (data/, server.log)
#   deploy/postgres/pg.sh destroy        stop, then delete the cluster and its data for good
#
# Settings, all optional:
#   PG_DIR    state: data/, log, password        (default .run/postgres)
#   PG_PORT   port on 127.0.0.1                   (default 5432)
#   PG_HOME   where a cluster goes when the server's user cannot reach PG_DIR (below)
#   PG_FAST=1 fsync off: for throwaway test clusters only, never for data you keep
#   PG_OPTIONS more server options (-c name=value …), applied last
# PostgreSQL refuses to run as root; when run as root the server runs as the `postgres` system
# user that Debian's package creates (install it with `make postgres-server`). That user cannot
# enter a checkout in a private folder (root's home has mode 0700): the cluster then lives in
# $PG_HOME/<hash of PG_DIR> (default /var/lib/postgresql/sanpi, the postgres user's own home;
# /tmp/sanpi-postgres for PG_FAST=1 clusters), owned by postgres with mode 0700, and PG_DIR/cluster
# records where.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# Absolute, so that the recorded location does not depend on how PG_DIR was written.
PG_DIR="$(realpath -m "${PG_DIR:-$repo/.run/postgres}")"
PG_PORT="${PG_PORT:-5432}"
USER_NAME=sanpi
DATABASES=(sanpi_registry sanpi_milestone sanpi_notification sanpi_portal)

log() { printf '[postgres] %s\n' "$*" >&2; }

bindir() {
  local dir
  if command -v pg_config >/dev/null && dir="$(pg_config --bindir 2>/dev/null)" && [[ -x "$dir/initdb" ]]; then
    echo "$dir"; return
  fi
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  [[ -n "$dir" && -x "$dir/initdb" ]] || { log "PostgreSQL server not installed: run 'make postgres-server' (apt-get install postgresql)"; exit 1; }
  echo "$dir"
}

as_owner() {
  if [[ "$(id -u)" == "0" ]]; then
    # From /: the caller's directory may be one the postgres user cannot enter (every path given
    # is absolute).
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

password() { cat "$PG_DIR/password"; }

# The directory of the cluster's files that the server itself opens (data/, the socket,
# server.log): PG_DIR, unless the server's user cannot reach it. Decided once, then recorded.
cluster=""
data=""
locate() {
  if [[ -s "$PG_DIR/cluster" ]]; then
    cluster="$(cat "$PG_DIR/cluster")"
  elif [[ "$(id -u)" != "0" ]] || runuser -u postgres -- test -x "$(dirname "$PG_DIR")" 2>/dev/null; then
    cluster="$PG_DIR"
  else
    local home="${PG_HOME:-}"
    if [[ -z "$home" ]]; then
      [[ "${PG_FAST:-0}" == "1" ]] && home=/tmp/sanpi-postgres || home=/var/lib/postgresql/sanpi
    fi
    cluster="$home/$(printf '%s' "$PG_DIR" | sha256sum | cut -c1-16)"
    log "the postgres user cannot enter $(dirname "$PG_DIR") (a parent directory is private);"
    log "keeping this cluster in $cluster (owned by postgres, mode 0700; recorded in $PG_DIR/cluster)"
    mkdir -p "$home"
    if [[ -d "$cluster" ]]; then
      # Left by an earlier PG_DIR of the same path that was deleted with its password: unusable.
      local pid
      pid="$(head -n 1 "$cluster/data/postmaster.pid" 2>/dev/null || true)"
      if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
        log "$cluster still runs a server (pid $pid) whose $PG_DIR was deleted; stop it first"
        exit 1
      fi
      rm -rf "$cluster"
    fi
    install -d -m 700 -o postgres -g postgres "$cluster"
    echo "$cluster" >"$PG_DIR/cluster"
  fi
  data="$cluster/data"
}

init() {
  mkdir -p "$PG_DIR"
  locate
  [[ -f "$data/PG_VERSION" ]] && return 0
  local bin; bin="$(bindir)"
  [[ -s "$PG_DIR/password" ]] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$PG_DIR/password")
  mkdir -p "$data"
  if [[ "$(id -u)" == "0" ]]; then
    chown -R postgres: "$cluster"
    chmod 700 "$data"
  fi
  local pwfile="$cluster/.pwfile"
  (umask 077; password >"$pwfile")
  [[ "$(id -u)" == "0" ]] && chown postgres: "$pwfile"
  log "initialising a cluster in $data"
  as_owner "$bin/initdb" -D "$data" -U "$USER_NAME" --pwfile="$pwfile" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
  rm -f "$pwfile"
}

running() { [[ -n "$data" && -f "$data/postmaster.pid" ]] && kill -0 "$(head -n 1 "$data/postmaster.pid")" 2>/dev/null; }

start() {
  init
  local bin; bin="$(bindir)"
  if running; then
    log "already running (pid $(head -n 1 "$data/postmaster.pid")) on 127.0.0.1:$PG_PORT"
  else
    local opts="-c listen_addresses=127.0.0.1 -p $PG_PORT -k $cluster -c max_connections=200"
    # Throwaway test clusters trade durability for speed; a cluster you keep never does.
    [[ "${PG_FAST:-0}" == "1" ]] && opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    [[ -n "${PG_OPTIONS:-}" ]] && opts+=" $PG_OPTIONS"
    as_owner "$bin/pg_ctl" -D "$data" -l "$cluster/server.log" -o "$opts" -w -t 60 start >/dev/null \
      || { tail -n 30 "$cluster/server.log" >&2; exit 1; }
    log "ready on 127.0.0.1:$PG_PORT (pid $(head -n 1 "$data/postmaster.pid"))"
  fi
  for db in "${DATABASES[@]}"; do createdb_if_missing "$db"; done
}

psql_cmd() {
  PGPASSWORD="$(password)" "$(bindir)/psql" -h 127.0.0.1 -p "$PG_PORT" -U "$USER_NAME" -v ON_ERROR_STOP=1 -qAt "$@"
}

createdb_if_missing() {
  local name="$1"
  [[ "$name" =~ ^[a-z_][a-z0-9_]*$ ]] || { log "bad database name: $name"; exit 2; }
  if [[ -z "$(psql_cmd -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]]; then
    psql_cmd -d postgres -c "CREATE DATABASE $name" >/dev/null
  fi
}

stop() {
  [[ -d "$PG_DIR" ]] && locate
  if ! running; then log "not running"; return 0; fi
  local pid; pid="$(head -n 1 "$data/postmaster.pid")"
  as_owner "$(bindir)/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
  log "stopped (pid $pid)"
}

crash() {
  if ! running; then log "not running"; return 0; fi
  local pid; pid="$(head -n 1 "$data/postmaster.pid")"
  as_owner "$(bindir)/pg_ctl" -D "$data" -m immediate -w -t 60 stop >/dev/null
  log "crashed on purpose (pid $pid)"
}

status() {
  [[ -d "$PG_DIR" ]] && locate
  running || { log "not running"; return 1; }
  "$(bindir)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" || return 1
  log "running (pid $(head -n 1 "$data/postmaster.pid")) on 127.0.0.1:$PG_PORT"
}

url() {
  local service="${1:?usage: pg.sh url SERVICE}"
  echo "postgresql+asyncpg://$USER_NAME:$(password)@127.0.0.1:$PG_PORT/sanpi_$service"
}

destroy() {
  stop
  [[ -d "$PG_DIR" ]] || return 0
  [[ "$cluster" != "$PG_DIR" ]] && rm -rf "$cluster"
  rm -rf "$PG_DIR/data" "$PG_DIR/cluster"
  log "deleted the cluster of $PG_DIR"
}

case "${1:-}" in
  start) start ;;
  where) mkdir -p "$PG_DIR"; locate; echo "$cluster" ;;
  destroy) destroy ;;
  stop) stop ;;
  crash) crash ;;
  status) status ;;
  url) url "${2:-}" ;;
  createdb) createdb_if_missing "${2:?usage: pg.sh createdb NAME}" ;;
  *) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; [[ "${1:-}" =~ ^(-h|--help|help)$ ]] ;;
esac
