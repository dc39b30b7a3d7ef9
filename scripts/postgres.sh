#!/usr/bin/env bash
# Native PostgreSQL 15 + pgvector 0.8 and PgBouncer (transaction mode) for tests, CI and the bench.
#
# Run as root on Debian bookworm, from nothing or again (idempotent; concurrent runs serialise on
# a lock). It installs what is missing, builds pgvector from Debian trixie's source package,
# starts (or reuses) a throwaway cluster on 127.0.0.1:5432 and PgBouncer on 127.0.0.1:6432, and
# prints the two URLs. The cluster is for tests: a known password, nothing else on it.
#
#   bash scripts/postgres.sh          # then e.g. TEST_DATABASE_URL=<first URL> npm run test:engines
#
# Overridable: VSDB_PG_DIR (/var/tmp/vsdb-pg), VSDB_PG_PORT (5432), VSDB_PGBOUNCER_PORT (6432),
# VSDB_PG_PASSWORD (vsdb).
set -euo pipefail

PG_DIR=${VSDB_PG_DIR:-/var/tmp/vsdb-pg}
PG_PORT=${VSDB_PG_PORT:-5432}
BOUNCER_PORT=${VSDB_PGBOUNCER_PORT:-6432}
PASSWORD=${VSDB_PG_PASSWORD:-vsdb}
DATA="$PG_DIR/data"
RUN="$PG_DIR/run"
BOUNCER="$PG_DIR/pgbouncer"
SRC="$PG_DIR/src"

log() { printf 'postgres.sh: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (it installs packages and starts services as postgres)"
mkdir -p "$PG_DIR"
exec 9>"$PG_DIR.lock"
flock 9

# --- 1. packages from bookworm -----------------------------------------------------------------
export DEBIAN_FRONTEND=noninteractive
need=()
for p in postgresql-15 postgresql-server-dev-15 pgbouncer build-essential dpkg-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  # Keep Debian's own services (its default cluster, its pgbouncer) from starting on our ports.
  own_policy=0
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    own_policy=1
  fi
  apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null 2>&1 ||
    { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends "${need[@]}" >/dev/null; }
  [ "$own_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
fi

PG_CONFIG=/usr/lib/postgresql/15/bin/pg_config
BIN=$("$PG_CONFIG" --bindir)
id postgres >/dev/null 2>&1 || die "no postgres user (postgresql-15 should have created it)"

# --- 2. pgvector 0.8 from trixie's source package, built against PG 15 -----------------------
if [ ! -f "$("$PG_CONFIG" --sharedir)/extension/vector.control" ]; then
  # The first Debian mirror the machine's own sources use (one-line or deb822; comments skipped).
  mirror=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources \
    2>/dev/null | grep -E '^[[:space:]]*(URIs:|deb[[:space:]])' |
    grep -oE 'https?://[^[:space:]]+/debian/?([[:space:]]|$)' | head -n1 | tr -d '[:space:]' || true)
  mirror=${mirror:-http://deb.debian.org/debian}
  mirror=${mirror%/}
  log "fetching pgvector source from trixie on $mirror"
  apt_dir="$PG_DIR/apt-trixie"
  mkdir -p "$apt_dir/lists/partial"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" \
    >"$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=-
    -o "Dir::State::Lists=$apt_dir/lists")
  apt-get "${apt_opts[@]}" update -q >/dev/null
  rm -rf "$SRC" && mkdir -p "$SRC"
  (cd "$SRC" && apt-get "${apt_opts[@]}" source -q pgvector >"$SRC/apt-source.log" 2>&1) ||
    die "apt-get source pgvector failed: $(tail -n3 "$SRC/apt-source.log")"
  dir=$(find "$SRC" -maxdepth 1 -mindepth 1 -type d -name 'pgvector-*' | head -n1)
  [ -n "$dir" ] || die "apt-get source pgvector gave no source tree in $SRC"
  log "building $(basename "$dir") against PG $("$PG_CONFIG" --version)"
  make -C "$dir" -s -j"$(nproc)" PG_CONFIG="$PG_CONFIG" >/dev/null
  make -C "$dir" -s install PG_CONFIG="$PG_CONFIG" >/dev/null
fi

# --- 3. the cluster ----------------------------------------------------------------------------
mkdir -p "$RUN" "$BOUNCER"
chown postgres:postgres "$PG_DIR" "$RUN" "$BOUNCER"
as_pg() { runuser -u postgres -- "$@"; }
if [ ! -f "$DATA/PG_VERSION" ]; then
  log "initdb $DATA"
  pwfile=$(mktemp) && printf '%s\n' "$PASSWORD" >"$pwfile" && chown postgres "$pwfile"
  as_pg "$BIN/initdb" -D "$DATA" -U postgres --pwfile="$pwfile" -E UTF8 --locale=C \
    --auth-local=trust --auth-host=scram-sha-256 >/dev/null
  rm -f "$pwfile"
  cat >>"$DATA/postgresql.conf" <<EOF
# scripts/postgres.sh
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$RUN'
max_connections = 400
shared_buffers = 256MB
password_encryption = scram-sha-256
EOF
fi
if ! as_pg "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$PG_DIR/postgres.log" -w -t 60 start >/dev/null 9>&- ||
    die "PostgreSQL did not start; see $PG_DIR/postgres.log"
fi
psql_su() { as_pg "$BIN/psql" -h "$RUN" -p "$PG_PORT" -U postgres -d postgres -qAtX -v ON_ERROR_STOP=1 "$@"; }
psql_su -c "ALTER ROLE postgres PASSWORD '$PASSWORD'" >/dev/null
# pgvector is not trusted: a superuser creates it (as RDS's master user does). Prove it works.
psql_su -c "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS vector; SELECT '[1,2]'::vector <-> '[1,3]'::vector" >/dev/null

# --- 4. PgBouncer in transaction mode ----------------------------------------------------------
# Default startup-parameter policy on purpose (no ignore_startup_parameters): a client that sends
# an option RDS Proxy or PgBouncer refuse must fail here too.
cat >"$BOUNCER/pgbouncer.ini.new" <<EOF
[databases]
* = host=127.0.0.1 port=$PG_PORT

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $BOUNCER_PORT
unix_socket_dir =
auth_type = scram-sha-256
auth_file = $BOUNCER/userlist.txt
pool_mode = transaction
max_client_conn = 2000
default_pool_size = 40
max_db_connections = 0
server_reset_query =
logfile = $BOUNCER/pgbouncer.log
pidfile = $BOUNCER/pgbouncer.pid
admin_users = postgres
EOF
printf '"postgres" "%s"\n' "$PASSWORD" >"$BOUNCER/userlist.txt"
mv "$BOUNCER/pgbouncer.ini.new" "$BOUNCER/pgbouncer.ini"
chown postgres:postgres "$BOUNCER"/* && chmod 600 "$BOUNCER/userlist.txt"
bouncer_up() { [ -f "$BOUNCER/pgbouncer.pid" ] && kill -0 "$(cat "$BOUNCER/pgbouncer.pid")" 2>/dev/null; }
if bouncer_up; then
  kill -HUP "$(cat "$BOUNCER/pgbouncer.pid")" # reload the config written above
else
  log "starting PgBouncer (transaction mode) on 127.0.0.1:$BOUNCER_PORT"
  as_pg /usr/sbin/pgbouncer -d "$BOUNCER/pgbouncer.ini" 9>&- ||
    die "PgBouncer did not start; see $BOUNCER/pgbouncer.log"
fi
for _ in $(seq 1 50); do
  PGPASSWORD=$PASSWORD "$BIN/psql" -h 127.0.0.1 -p "$BOUNCER_PORT" -U postgres -d postgres -qAtX \
    -c 'SELECT 1' >/dev/null 2>&1 && break
  sleep 0.2
done
PGPASSWORD=$PASSWORD "$BIN/psql" -h 127.0.0.1 -p "$BOUNCER_PORT" -U postgres -d postgres -qAtX \
  -c 'SELECT 1' >/dev/null || die "PgBouncer does not answer; see $BOUNCER/pgbouncer.log"

echo "postgres://postgres:$PASSWORD@127.0.0.1:$PG_PORT/postgres"
echo "postgres://postgres:$PASSWORD@127.0.0.1:$BOUNCER_PORT/postgres"
