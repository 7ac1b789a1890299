#!/usr/bin/env bash
# Runs a throw-away InfluxDB 1.x (Debian package "influxdb") as a benchmark peer.
#
#   bench/peers/influxdb.sh start    # fresh data dir, wait for /ping, create the database
#   bench/peers/influxdb.sh stop     # stop it (data dir is kept until the next start)
#   bench/peers/influxdb.sh status
#   bench/peers/influxdb.sh clean    # stop and delete the data dir
#
# Every listener is on 127.0.0.1: HTTP on $INFLUXDB_PORT (18086), the backup/restore
# RPC on $INFLUXDB_RPC_PORT (18088); ifql, UDP, graphite, collectd and opentsdb are
# off. The Debian package's own service is never used.
#
# Durability: wal-fsync-delay = 0s (InfluxDB's default) -- each write is appended to
# the shard WAL and fsynced before the HTTP 204, so acknowledged writes survive a
# crash of the process or the machine. Concurrent writes share an fsync.
#
# INFLUXDB_SNAPSHOT_COLD (cache-snapshot-write-cold-duration, default 10m0s) and
# INFLUXDB_FULL_COLD (compact-full-write-cold-duration, default 4h0m0s) set how long
# after a shard's last write its cache is snapshotted to TSM (emptying the WAL) and
# the shard is fully compacted; everything else is InfluxDB's default.
set -euo pipefail

PORT=${INFLUXDB_PORT:-18086}
RPC_PORT=${INFLUXDB_RPC_PORT:-18088}
DIR=${INFLUXDB_DIR:-${TMPDIR:-/tmp}/fineod-bench/influxdb}
DB=${INFLUXDB_DB:-benchmark}
INDEX=${INFLUXDB_INDEX:-inmem} # inmem (default) or tsi1
INFLUXD=${INFLUXD:-influxd}
# When the cache is written to a TSM file and the WAL released, and when a shard
# is fully compacted, after its last write (InfluxDB's defaults: 10m0s and 4h0m0s;
# bench/storage.sh lowers both so that a loaded shard reaches that state in seconds).
SNAPSHOT_COLD=${INFLUXDB_SNAPSHOT_COLD:-10m0s}
FULL_COLD=${INFLUXDB_FULL_COLD:-4h0m0s}
URL="http://127.0.0.1:${PORT}"

pid_alive() { [[ -f "$DIR/influxd.pid" ]] && kill -0 "$(cat "$DIR/influxd.pid")" 2>/dev/null; }

write_config() {
	cat >"$DIR/influxdb.conf" <<CONF
# Upstream spells it reporting-disabled; Debian's build renamed it to
# reporting-enabled. Unknown keys are ignored, so both are set.
reporting-disabled = true
reporting-enabled = false
bind-address = "127.0.0.1:${RPC_PORT}"

[meta]
  dir = "${DIR}/meta"
  retention-autocreate = true
  logging-enabled = true

[data]
  dir = "${DIR}/data"
  wal-dir = "${DIR}/wal"
  wal-fsync-delay = "0s"
  index-version = "${INDEX}"
  query-log-enabled = false
  cache-snapshot-write-cold-duration = "${SNAPSHOT_COLD}"
  compact-full-write-cold-duration = "${FULL_COLD}"

[monitor]
  # The _internal database would add its own writes to the measurement.
  store-enabled = false

[http]
  enabled = true
  bind-address = "127.0.0.1:${PORT}"
  auth-enabled = false
  log-enabled = false
  pprof-enabled = true
  max-body-size = 25000000

[ifql]
  enabled = false
  bind-address = "127.0.0.1:18082"

[subscriber]
  enabled = false

[continuous_queries]
  enabled = false
CONF
}

start() {
	command -v "$INFLUXD" >/dev/null || { echo "influxd not found: apt-get install -y influxdb" >&2; exit 1; }
	if pid_alive; then
		echo "influxdb: already running (pid $(cat "$DIR/influxd.pid")), stop it first" >&2
		exit 1
	fi
	if curl -fsS -o /dev/null "$URL/ping" 2>/dev/null; then
		echo "influxdb: something else answers on $URL" >&2
		exit 1
	fi
	rm -rf "$DIR"
	mkdir -p "$DIR"
	write_config
	nohup "$INFLUXD" -config "$DIR/influxdb.conf" >"$DIR/influxd.log" 2>&1 &
	echo $! >"$DIR/influxd.pid"
	for _ in $(seq 1 300); do
		if curl -fsS -o /dev/null "$URL/ping" 2>/dev/null; then
			curl -fsS -o /dev/null -XPOST "$URL/query" --data-urlencode "q=CREATE DATABASE \"${DB}\""
			echo "influxdb: $("$INFLUXD" version 2>/dev/null | head -1) pid $(cat "$DIR/influxd.pid") on $URL, database $DB, data in $DIR"
			return 0
		fi
		if ! pid_alive; then
			echo "influxdb: influxd exited; log:" >&2
			tail -20 "$DIR/influxd.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "influxdb: no answer on $URL/ping after 30 s" >&2
	stop
	exit 1
}

stop() {
	if ! pid_alive; then
		rm -f "$DIR/influxd.pid"
		return 0
	fi
	local pid
	pid=$(cat "$DIR/influxd.pid")
	kill "$pid"
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
	fi
	rm -f "$DIR/influxd.pid"
	echo "influxdb: stopped"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
clean)
	stop
	rm -rf "$DIR"
	;;
status)
	if pid_alive; then echo "influxdb: running, pid $(cat "$DIR/influxd.pid"), $URL"; else
		echo "influxdb: not running"
		exit 1
	fi
	;;
url) echo "$URL/write?db=${DB}&precision=ns" ;;
pid) pid_alive && cat "$DIR/influxd.pid" ;;
*)
	echo "usage: $0 start|stop|status|clean|url|pid" >&2
	exit 2
	;;
esac
