#!/usr/bin/env bash
# Runs a throw-away PostgreSQL 15 (Debian package "postgresql-15") as a benchmark peer.
#
#   bench/peers/postgres.sh start    # initdb into a fresh dir, start, create the database
#   bench/peers/postgres.sh stop     # fast shutdown (data dir is kept until the next start)
#   bench/peers/postgres.sh dsn      # connection string of the benchmark database
#   bench/peers/postgres.sh status|pid|clean
#
# Listens on 127.0.0.1:$PG_PORT (15432) only, plus a Unix socket inside the data
# dir; authentication is "trust" for the superuser postgres (local use only).
# PostgreSQL refuses to run as root: when run as root, the server runs as the
# OS user $PG_USER (postgres) through runuser, and the data dir is chowned to it.
#
# Settings (only what differs from PostgreSQL's defaults):
#   fsync=off, synchronous_commit=off, full_page_writes=off  -- the data set is
#     loaded once and thrown away; these change load time, not query time
#   shared_buffers=1GB    the whole table and its indexes (~0.3 GB) fit in it
#   work_mem=64MB         sorts and hash aggregates of the benchmark stay in memory
#   timezone=UTC, log_min_messages=warning
# Everything else is the default, including JIT (on, when the llvmjit module is
# installed) and parallel query (max_parallel_workers_per_gather=2).
set -euo pipefail

PORT=${PG_PORT:-15432}
DIR=${PG_DIR:-${TMPDIR:-/tmp}/fineod-bench/postgres}
DB=${PG_DB:-benchmark}
BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
RUN_AS=${PG_USER:-postgres}

as_server() {
	if [[ $(id -u) -eq 0 ]]; then
		runuser -u "$RUN_AS" -- "$@"
	else
		"$@"
	fi
}

pid_alive() { [[ -f "$DIR/data/postmaster.pid" ]] && kill -0 "$(head -1 "$DIR/data/postmaster.pid")" 2>/dev/null; }

start() {
	[[ -x $BIN/initdb ]] || { echo "postgres: $BIN/initdb not found: apt-get install -y postgresql-15" >&2; exit 1; }
	if pid_alive; then
		echo "postgres: already running (pid $(head -1 "$DIR/data/postmaster.pid")), stop it first" >&2
		exit 1
	fi
	if (echo >"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then
		echo "postgres: something else listens on 127.0.0.1:$PORT" >&2
		exit 1
	fi
	rm -rf "$DIR"
	mkdir -p "$DIR"
	[[ $(id -u) -ne 0 ]] || chown -R "$RUN_AS" "$DIR"
	as_server "$BIN/initdb" -D "$DIR/data" -U postgres -A trust -E UTF8 --locale=C --no-sync >"$DIR/initdb.log" 2>&1 ||
		{ cat "$DIR/initdb.log" >&2; exit 1; }
	local opts="-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories=$DIR"
	opts+=" -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
	opts+=" -c shared_buffers=1GB -c work_mem=64MB -c timezone=UTC -c log_min_messages=warning"
	if ! as_server "$BIN/pg_ctl" -D "$DIR/data" -o "$opts" -l "$DIR/postgres.log" -w -t 60 start >/dev/null; then
		echo "postgres: did not start; log:" >&2
		tail -20 "$DIR/postgres.log" >&2
		exit 1
	fi
	as_server "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -qAt -c "CREATE DATABASE \"$DB\"" >/dev/null
	echo "postgres: $("$BIN/postgres" --version) pid $(head -1 "$DIR/data/postmaster.pid") on 127.0.0.1:$PORT, database $DB, data in $DIR"
}

stop() {
	if pid_alive; then
		as_server "$BIN/pg_ctl" -D "$DIR/data" -m fast -w -t 60 stop >/dev/null
		echo "postgres: stopped"
	fi
}

case "${1:-}" in
start) start ;;
stop) stop ;;
clean)
	stop
	rm -rf "$DIR"
	;;
status)
	if pid_alive; then echo "postgres: running, pid $(head -1 "$DIR/data/postmaster.pid"), 127.0.0.1:$PORT"; else
		echo "postgres: not running"
		exit 1
	fi
	;;
dsn) echo "postgres://postgres@127.0.0.1:${PORT}/${DB}?sslmode=disable" ;;
pid) pid_alive && head -1 "$DIR/data/postmaster.pid" ;;
*)
	echo "usage: $0 start|stop|status|clean|dsn|pid" >&2
	exit 2
	;;
esac
