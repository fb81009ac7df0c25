#!/usr/bin/env bash
# Starts a throwaway PostgreSQL primary on loopback and a second cluster streaming from it
# that applies the primary's log only after a delay (real stale reads for story_progress).
# Installs Debian's packages first when no server is on the machine.
#
# Prints `export` lines for DATABASE_URL and FAULTLINE_REPLICA_URL on stdout, so both CI and
# a developer can use it the same way:
#     eval "$(bash .ci/postgres.sh)"
# Everything else goes to stderr. Running it again restarts the clusters from scratch.
# `bash .ci/postgres.sh --stop` stops the clusters it started (`.ci/run` does so on exit).
#
# It only ever deletes a folder it made itself: its folders carry a marker file, and a
# FAULTLINE_PG_DIR that exists without the marker is refused rather than emptied.
set -euo pipefail

base=${FAULTLINE_PG_DIR:-/tmp/faultline-pg}
port=${FAULTLINE_PG_PORT:-55432}
replica_port=$((port + 1))
delay_ms=${FAULTLINE_REPLICA_DELAY_MS:-400}
db=faultline_test

log() { echo "postgres.sh: $*" >&2; }

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
bin=$(find_bin)
if [ -z "$bin" ]; then
  log "no PostgreSQL server found; installing Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql postgresql-contrib >&2
  bin=$(find_bin)
fi
[ -n "$bin" ] || { log "PostgreSQL is still missing after the install"; exit 2; }

# The server refuses to run as root; use Debian's postgres account then.
if [ "$(id -u)" = 0 ]; then
  owner=postgres
  as_owner() { su "$owner" -s /bin/bash -c "$*"; }
else
  owner=$(id -un)
  as_owner() { bash -c "$*"; }
fi

marker=.faultline-postgres-sh
owned() { [ -f "$1/$marker" ]; }

stop_clusters() {
  for dir in "$base/primary" "$base/replica"; do
    if owned "$base" && [ -f "$dir/postmaster.pid" ]; then
      as_owner "'$bin/pg_ctl' -D '$dir' -m fast stop" >&2 || true
    fi
  done
}

if [ "${1:-}" = "--stop" ]; then
  stop_clusters
  exit 0
fi

if [ -e "$base" ] && ! owned "$base"; then
  if [ -n "$(ls -A "$base" 2>/dev/null)" ]; then
    log "$base exists and was not made by this script (no $marker in it); refusing to delete it. Set FAULTLINE_PG_DIR to another folder, or remove it yourself"
    exit 2
  fi
fi
stop_clusters
if owned "$base"; then
  rm -rf "$base"
fi
mkdir -p "$base"
touch "$base/$marker"
chown "$owner" "$base"

log "primary on 127.0.0.1:$port"
as_owner "'$bin/initdb' -D '$base/primary' -U postgres -A trust --no-sync" >/dev/null
cat >>"$base/primary/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$base'
wal_level = replica
max_wal_senders = 4
max_connections = 200
fsync = off
full_page_writes = off
EOF
echo "host replication all 127.0.0.1/32 trust" >>"$base/primary/pg_hba.conf"
as_owner "'$bin/pg_ctl' -D '$base/primary' -l '$base/primary.log' -w start" >&2
as_owner "'$bin/createdb' -h 127.0.0.1 -p $port -U postgres $db"

log "replica on 127.0.0.1:$replica_port, applying the log ${delay_ms} ms late"
as_owner "'$bin/pg_basebackup' -h 127.0.0.1 -p $port -U postgres -D '$base/replica' -R -X stream --checkpoint=fast" >&2
cat >>"$base/replica/postgresql.conf" <<EOF
port = $replica_port
hot_standby = on
recovery_min_apply_delay = '${delay_ms}ms'
EOF
as_owner "'$bin/pg_ctl' -D '$base/replica' -l '$base/replica.log' -w start" >&2

echo "export DATABASE_URL=postgres://postgres@127.0.0.1:$port/$db"
echo "export FAULTLINE_REPLICA_URL=postgres://postgres@127.0.0.1:$replica_port/$db"
echo "export FAULTLINE_PGBIN=$bin"
