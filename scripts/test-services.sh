#!/usr/bin/env bash
# Start and stop the services the test suite runs against: PostgreSQL, Redis, an S3 server
# (moto) and Debian's Chromium for the browser tests. Meant for `make test` on Debian 12 as root.
#
#   scripts/test-services.sh start   # writes var/test-services.env (source it) and .state
#   scripts/test-services.sh stop    # stops only what `start` started
#
# Services that were already running are used as they are and left running. `start` may be
# run again while started; `stop` never fails.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VAR="$ROOT/var"
ENV_FILE="$VAR/test-services.env"
STATE_FILE="$VAR/test-services.state"
VENV="$ROOT/.venv"

DB_NAME=secondopinion
REDIS_PORT=6379
REDIS_DB=15 # keep test data away from anything else in db 0
S3_BUCKET=secondopinion-test
S3_REGION=us-east-1

export DEBIAN_FRONTEND=noninteractive

log() { echo "test-services: $*" >&2; }
die() {
	log "error: $*"
	exit 1
}

# --- state: shell-sourceable key=value lines, merged across repeated `start`s --------------
moto_pid="" moto_port="" redis_pidfile="" pg_cluster=""

load_state() {
	if [[ -f "$STATE_FILE" ]]; then
		# shellcheck source=/dev/null
		. "$STATE_FILE"
	fi
}

save_state() {
	mkdir -p "$VAR"
	{
		echo "# written by scripts/test-services.sh start; read by stop"
		if [[ -n "$moto_pid" ]]; then
			printf 'moto_pid=%q\nmoto_port=%q\n' "$moto_pid" "$moto_port"
		fi
		if [[ -n "$redis_pidfile" ]]; then
			echo "# redis started"
			printf 'redis_pidfile=%q\n' "$redis_pidfile"
		fi
		if [[ -n "$pg_cluster" ]]; then
			echo "# pg cluster started"
			printf 'pg_cluster=%q\n' "$pg_cluster"
		fi
	} >"$STATE_FILE.tmp"
	mv "$STATE_FILE.tmp" "$STATE_FILE"
}

# True if $1 is a live process whose command line contains $2 (guards against reused pids).
pid_is() {
	local pid="$1" pattern="$2"
	[[ "$pid" =~ ^[0-9]+$ ]] || return 1
	[[ -r "/proc/$pid/cmdline" ]] || return 1
	tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "$pattern"
}

# Sends TERM, waits up to 10 s, then KILL. Never fails.
stop_pid() {
	local pid="$1" pattern="$2" name="$3" i
	if ! pid_is "$pid" "$pattern"; then
		log "$name (pid $pid) is already gone"
		return 0
	fi
	log "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || return 0
	for i in $(seq 50); do
		pid_is "$pid" "$pattern" || return 0
		sleep 0.2
	done
	log "$name (pid $pid) did not stop; killing it"
	kill -KILL "$pid" 2>/dev/null || true
}

# --- apt --------------------------------------------------------------------------------------
apt_updated=""
apt_install() {
	local pkg need_update=""
	for pkg in "$@"; do
		# Without package lists (a fresh image) there is no candidate: update once, then install.
		if ! apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [^(]'; then
			need_update=1
		fi
	done
	if [[ -n "$need_update" && -z "$apt_updated" ]]; then
		log "apt-get update"
		apt-get update -q >&2
		apt_updated=1
	fi
	log "apt-get install $*"
	if ! apt-get install -y -q "$@" >&2; then
		[[ -z "$apt_updated" ]] || die "apt-get install $* failed"
		# Stale lists (a package version gone from the mirror): update and try once more.
		apt-get update -q >&2
		apt_updated=1
		apt-get install -y -q "$@" >&2
	fi
}

# --- PostgreSQL -------------------------------------------------------------------------------
pg_port=""

start_postgres() {
	if ! command -v psql >/dev/null || ! command -v pg_lsclusters >/dev/null ||
		! compgen -G "/usr/lib/postgresql/*/bin/postgres" >/dev/null; then
		apt_install postgresql
	fi

	local clusters
	clusters="$(pg_lsclusters -h 2>/dev/null || true)"
	if [[ -z "$clusters" ]]; then
		# postgresql-common without a cluster (e.g. create_main_cluster = false): make one.
		local version
		version="$(basename "$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -type d | sort -V | tail -n 1)")"
		log "creating cluster $version main"
		pg_createcluster "$version" main >&2
		clusters="$(pg_lsclusters -h)"
	fi

	local online
	online="$(awk '$4 ~ /^online/ {print $1, $2, $3; exit}' <<<"$clusters")"
	if [[ -z "$online" ]]; then
		local version name
		read -r version name _ <<<"$(awk '$2 == "main" {print $1, $2, $3; exit}' <<<"$clusters")"
		if [[ -z "${version:-}" ]]; then
			read -r version name _ <<<"$(head -n 1 <<<"$clusters")"
		fi
		log "starting PostgreSQL cluster $version $name"
		pg_ctlcluster --skip-systemctl-redirect "$version" "$name" start >&2
		pg_cluster="$version $name"
		save_state
		online="$(pg_lsclusters -h | awk -v v="$version" -v n="$name" '$1 == v && $2 == n {print $1, $2, $3; exit}')"
	fi
	pg_port="$(awk '{print $3}' <<<"$online")"

	local i
	for i in $(seq 60); do
		pg_isready -q -p "$pg_port" && break
		[[ $i -lt 60 ]] || die "PostgreSQL on port $pg_port does not accept connections"
		sleep 0.5
	done

	if ! psql -p "$pg_port" -d postgres -tAc "select 1" >/dev/null 2>&1; then
		log "creating superuser role root"
		su postgres -c "createuser -p $pg_port -s root" >&2
	fi
	if [[ "$(psql -p "$pg_port" -d postgres -tAc "select 1 from pg_database where datname = '$DB_NAME'")" != 1 ]]; then
		log "creating database $DB_NAME"
		# Another start may have created it meanwhile; only the end state matters.
		createdb -p "$pg_port" "$DB_NAME" >&2 ||
			[[ "$(psql -p "$pg_port" -d postgres -tAc "select 1 from pg_database where datname = '$DB_NAME'")" == 1 ]]
	fi
}

# --- Redis ------------------------------------------------------------------------------------
redis_up() { command -v redis-cli >/dev/null && [[ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }

start_redis() {
	redis_up && return 0
	if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
		apt_install redis-server
		redis_up && return 0 # the package's service may have started it
	fi
	local pidfile="$VAR/redis.pid" i
	log "starting redis-server on 127.0.0.1:$REDIS_PORT"
	redis-server --daemonize yes --bind 127.0.0.1 --port "$REDIS_PORT" --save "" --appendonly no \
		--dir "$VAR" --pidfile "$pidfile" --logfile "$VAR/redis.log" >&2
	for i in $(seq 50); do
		redis_up && break
		[[ $i -lt 50 ]] || die "redis-server did not answer; see $VAR/redis.log"
		sleep 0.2
	done
	redis_pidfile="$pidfile"
	save_state
}

# --- S3 (moto) --------------------------------------------------------------------------------
s3_up() { curl -s -o /dev/null --max-time 2 "http://127.0.0.1:$1/"; }

start_moto() {
	if [[ -n "$moto_pid" ]] && pid_is "$moto_pid" moto_server && s3_up "$moto_port"; then
		log "moto_server already running (pid $moto_pid, port $moto_port)"
		return 0
	fi
	if [[ -n "$moto_pid" ]]; then
		stop_pid "$moto_pid" moto_server "stale moto_server"
	fi
	[[ -x "$VENV/bin/moto_server" ]] || die "$VENV/bin/moto_server missing: install moto[s3], flask and flask-cors"
	moto_port="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
	log "starting moto_server on 127.0.0.1:$moto_port"
	nohup "$VENV/bin/moto_server" -H 127.0.0.1 -p "$moto_port" </dev/null >"$VAR/moto.log" 2>&1 &
	moto_pid=$!
	save_state
	local i
	for i in $(seq 100); do
		s3_up "$moto_port" && return 0
		# kill -0, not pid_is: until the forked shell has exec'd, its command line is this
		# script's, so a pattern check right after the start fails on a live server.
		kill -0 "$moto_pid" 2>/dev/null || die "moto_server exited; see $VAR/moto.log"
		sleep 0.2
	done
	die "moto_server did not answer on port $moto_port; see $VAR/moto.log"
}

create_bucket() {
	S3_ENDPOINT_URL="http://127.0.0.1:$moto_port" S3_BUCKET="$S3_BUCKET" S3_REGION="$S3_REGION" \
		"$VENV/bin/python" - <<'EOF'
import os

import boto3

s3 = boto3.client(
    "s3",
    endpoint_url=os.environ["S3_ENDPOINT_URL"],
    region_name=os.environ["S3_REGION"],
    aws_access_key_id="testing",
    aws_secret_access_key="testing",
)
try:
    s3.create_bucket(Bucket=os.environ["S3_BUCKET"])
except s3.exceptions.BucketAlreadyOwnedByYou:
    pass
EOF
}

# --- commands ---------------------------------------------------------------------------------
start() {
	[[ $EUID -eq 0 ]] || die "run as root (installs packages and manages services)"
	mkdir -p "$VAR"
	chmod 700 "$VAR"
	load_state

	start_postgres
	start_redis
	start_moto
	create_bucket
	if [[ ! -x /usr/bin/chromium ]]; then
		apt_install chromium
	fi

	local db_url="postgres:///$DB_NAME"
	# A cluster on another port: libpq's default socket directory, that port.
	[[ "$pg_port" == 5432 ]] || db_url="postgres://:$pg_port/$DB_NAME"
	cat >"$ENV_FILE.tmp" <<EOF
export DATABASE_URL=$db_url
export REDIS_URL=redis://127.0.0.1:$REDIS_PORT/$REDIS_DB
export S3_ENDPOINT_URL=http://127.0.0.1:$moto_port
export S3_BUCKET=$S3_BUCKET
export S3_ACCESS_KEY=testing
export S3_SECRET_KEY=testing
export S3_REGION=$S3_REGION
EOF
	mv "$ENV_FILE.tmp" "$ENV_FILE"
	save_state
	log "ready; variables in ${ENV_FILE#"$ROOT"/}"
}

stop() {
	set +e
	load_state
	if [[ -n "$moto_pid" ]]; then
		stop_pid "$moto_pid" moto_server moto_server
	fi
	if [[ -n "$redis_pidfile" ]]; then
		local pid
		pid="$(cat "$redis_pidfile" 2>/dev/null)"
		if [[ -n "$pid" ]]; then
			stop_pid "$pid" redis-server redis-server
		else
			log "redis-server pid file $redis_pidfile is gone; nothing to stop"
		fi
		rm -f "$redis_pidfile"
	fi
	if [[ -n "$pg_cluster" ]]; then
		local version name
		read -r version name <<<"$pg_cluster"
		if pg_lsclusters -h 2>/dev/null | awk -v v="$version" -v n="$name" '$1 == v && $2 == n && $4 ~ /^online/ {f = 1} END {exit !f}'; then
			log "stopping PostgreSQL cluster $version $name"
			pg_ctlcluster --skip-systemctl-redirect "$version" "$name" stop >&2 ||
				log "could not stop PostgreSQL cluster $version $name"
		fi
	fi
	rm -f "$STATE_FILE" "$STATE_FILE.tmp" "$ENV_FILE" "$ENV_FILE.tmp"
	return 0
}

case "${1:-}" in
start) start ;;
stop) stop ;;
*)
	echo "usage: $0 start|stop" >&2
	exit 2
	;;
esac
