#!/usr/bin/env bash
# Runs a private PostgreSQL (Debian's package) for sanpi under .run/, on loopback, as a non-root user.
#
#   deploy/postgres/pg.sh start          initdb once, start, create the three service databases
#   deploy/postgres/pg.sh stop           fast shutdown of the recorded postmaster (by its pid file)
#   deploy/postgres/pg.sh status         exit 0 when it accepts connections
#   deploy/postgres/pg.sh url SERVICE    print the SQLAlchemy URL of SERVICE's database
#   deploy/postgres/pg.sh createdb NAME  create database NAME if missing
#
# Settings, all optional:
#   PG_DIR    state: data/, log, password        (default .run/postgres)
#   PG_PORT   port on 127.0.0.1                   (default 5432)
#   PG_FAST=1 fsync off: for throwaway test clusters only, never for data you keep
# PostgreSQL refuses to run as root; when run as root the server runs as the `postgres` system
# user that Debian's package creates (install it with `make postgres-server`).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
PG_DIR="${PG_DIR:-$repo/.run/postgres}"
PG_PORT="${PG_PORT:-5432}"
data="$PG_DIR/data"
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
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

password() { cat "$PG_DIR/password"; }

init() {
  [[ -f "$data/PG_VERSION" ]] && return 0
  local bin; bin="$(bindir)"
  mkdir -p "$PG_DIR"
  [[ -s "$PG_DIR/password" ]] || (umask 077; head -c 24 /dev/urandom | base64 | tr -d '/+=' >"$PG_DIR/password")
  mkdir -p "$data"
  if [[ "$(id -u)" == "0" ]]; then
    chown -R postgres: "$PG_DIR"
    chmod 700 "$data"
  fi
  local pwfile="$PG_DIR/.pwfile"
  (umask 077; password >"$pwfile")
  [[ "$(id -u)" == "0" ]] && chown postgres: "$pwfile"
  log "initialising a cluster in $data"
  as_owner "$bin/initdb" -D "$data" -U "$USER_NAME" --pwfile="$pwfile" \
    --auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
  rm -f "$pwfile"
}

running() { [[ -f "$data/postmaster.pid" ]] && kill -0 "$(head -n 1 "$data/postmaster.pid")" 2>/dev/null; }

start() {
  init
  local bin; bin="$(bindir)"
  if running; then
    log "already running (pid $(head -n 1 "$data/postmaster.pid")) on 127.0.0.1:$PG_PORT"
  else
    local opts="-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_connections=200"
    # Throwaway test clusters trade durability for speed; a cluster you keep never does.
    [[ "${PG_FAST:-0}" == "1" ]] && opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
    as_owner "$bin/pg_ctl" -D "$data" -l "$PG_DIR/server.log" -o "$opts" -w -t 60 start >/dev/null \
      || { tail -n 30 "$PG_DIR/server.log" >&2; exit 1; }
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
  if ! running; then log "not running"; return 0; fi
  local pid; pid="$(head -n 1 "$data/postmaster.pid")"
  as_owner "$(bindir)/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
  log "stopped (pid $pid)"
}

status() {
  running || { log "not running"; return 1; }
  "$(bindir)/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" || return 1
  log "running (pid $(head -n 1 "$data/postmaster.pid")) on 127.0.0.1:$PG_PORT"
}

url() {
  local service="${1:?usage: pg.sh url SERVICE}"
  echo "postgresql+asyncpg://$USER_NAME:$(password)@127.0.0.1:$PG_PORT/sanpi_$service"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  url) url "${2:-}" ;;
  createdb) createdb_if_missing "${2:?usage: pg.sh createdb NAME}" ;;
  *) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; [[ "${1:-}" =~ ^(-h|--help|help)$ ]] ;;
esac
