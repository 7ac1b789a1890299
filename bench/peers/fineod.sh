#!/usr/bin/env bash
# Runs a throw-away fineod, built from this checkout, as a benchmark target.
#
#   bench/peers/fineod.sh start    # build, fresh data dir, wait for /ping
#   bench/peers/fineod.sh stop     # SIGTERM and wait (data dir is kept until the next start);
#                                  # fineod checkpoints on the way out (row store flushed)
#   bench/peers/fineod.sh restart  # start on the data dir as it is (not wiped)
#   bench/peers/fineod.sh compact  # fineod compact --hot-window 0s through the running server
#   bench/peers/fineod.sh url|dsn|pid|status|clean
#
# HTTP on 127.0.0.1:$FINEOD_PORT (18087), the Postgres wire protocol on
# 127.0.0.1:$FINEOD_PG_PORT (18432; `dsn` prints a connection string for the
# database "benchmark", which is the line-protocol db). Durability is fineod's only mode: a
# write is answered 204 after its batch is fsynced in the log and applied.
# FINEOD_SRC builds from another source tree (e.g. a `git archive` export of a
# commit) instead of this checkout.
# FINEOD_NO_BUILD=1 runs $FINEOD_BIN as it is when it exists (a script that starts two
# fineods builds once, so both run the same binary).
# FINEOD_ARGS adds flags to `fineod serve` (split on spaces), e.g.
#   FINEOD_ARGS='--compaction-interval -1s'   no background compaction: every point
#                                             stays in the row store until `fineod compact`
# Without it the server runs with its defaults: background compaction every minute of
# points older than the 15 minute hot window, i.e. the whole 2016 benchmark data set
# moves into Parquet segments within about a minute of loading.
# `compact` runs `fineod compact --hot-window 0s` against the running server (all
# points into segments, progress on stderr).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
PORT=${FINEOD_PORT:-18087}
PG_PORT=${FINEOD_PG_PORT:-18432}
DIR=${FINEOD_DIR:-${TMPDIR:-/tmp}/fineod-bench/fineod}
BIN=${FINEOD_BIN:-${TMPDIR:-/tmp}/fineod-bench/bin/fineod}
URL="http://127.0.0.1:${PORT}"
read -r -a EXTRA <<<"${FINEOD_ARGS:-}"

pid_alive() { [[ -f "$DIR.pid" ]] && kill -0 "$(cat "$DIR.pid")" 2>/dev/null; }

case "${1:-}" in
start | restart)
	if pid_alive; then "$0" stop; fi
	mkdir -p "$(dirname "$BIN")"
	if [[ ${FINEOD_NO_BUILD:-0} != 1 || ! -x $BIN ]]; then
		(cd "${FINEOD_SRC:-$ROOT}" && go build -o "$BIN" ./cmd/fineod)
	fi
	[[ $1 == restart ]] || rm -rf "$DIR"
	"$BIN" serve --data-dir "$DIR" --http-addr "127.0.0.1:${PORT}" --pg-addr "127.0.0.1:${PG_PORT}" --log-level warn ${EXTRA[@]+"${EXTRA[@]}"} >"$DIR.log" 2>&1 &
	echo $! >"$DIR.pid"
	for _ in $(seq 1 200); do
		if curl -fsS -o /dev/null "$URL/ping" 2>/dev/null; then
			echo "fineod: started pid $(cat "$DIR.pid") on $URL and pg 127.0.0.1:${PG_PORT}, data in $DIR${FINEOD_ARGS:+, flags: $FINEOD_ARGS}"
			exit 0
		fi
		sleep 0.05
	done
	echo "fineod: did not answer /ping; log:" >&2
	cat "$DIR.log" >&2
	exit 1
	;;
stop)
	if pid_alive; then
		pid=$(cat "$DIR.pid")
		kill -TERM "$pid"
		for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -f "$DIR.pid"
	;;
compact)
	pid_alive || { echo "fineod: not running" >&2; exit 1; }
	"$BIN" compact --http-addr "127.0.0.1:${PORT}" --hot-window 0s --db benchmark
	;;
url) echo "$URL/write?db=benchmark&precision=ns" ;;
dsn) echo "postgres://bench@127.0.0.1:${PG_PORT}/benchmark?sslmode=disable" ;;
pid) pid_alive && cat "$DIR.pid" ;;
status) if pid_alive; then echo "running pid $(cat "$DIR.pid")"; else echo stopped; exit 1; fi ;;
clean) "$0" stop; rm -rf "$DIR" "$DIR.log" ;;
*) echo "usage: $0 start|stop|restart|compact|url|dsn|pid|status|clean" >&2; exit 2 ;;
esac
