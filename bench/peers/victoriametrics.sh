#!/usr/bin/env bash
# Runs a throw-away single-node VictoriaMetrics (Debian package "victoria-metrics")
# as a benchmark peer.
#
#   bench/peers/victoriametrics.sh start   # fresh data dir, wait for /health
#   bench/peers/victoriametrics.sh stop
#   bench/peers/victoriametrics.sh status
#   bench/peers/victoriametrics.sh clean   # stop and delete the data dir
#
# HTTP (which also takes InfluxDB line protocol at /write) listens on
# 127.0.0.1:$VM_PORT (18428); no other listener is enabled. The Debian package's
# own service is never used.
#
# -retentionPeriod=100y: the benchmark data starts on 2016-01-01 and the default
# retention (1 month) would silently drop every row.
#
# Durability: VictoriaMetrics acknowledges a write once it is in memory and writes
# it to disk within about a second, without an fsync per request; a crash loses
# the last seconds of acknowledged writes. Keep that in mind when comparing.
set -euo pipefail

PORT=${VM_PORT:-18428}
DIR=${VM_DIR:-${TMPDIR:-/tmp}/fineod-bench/victoriametrics}
VM=${VICTORIA_METRICS:-victoria-metrics}
URL="http://127.0.0.1:${PORT}"

pid_alive() { [[ -f "$DIR/vm.pid" ]] && kill -0 "$(cat "$DIR/vm.pid")" 2>/dev/null; }

start() {
	command -v "$VM" >/dev/null || { echo "victoria-metrics not found: apt-get install -y victoria-metrics" >&2; exit 1; }
	if pid_alive; then
		echo "victoriametrics: already running (pid $(cat "$DIR/vm.pid")), stop it first" >&2
		exit 1
	fi
	if curl -fsS -o /dev/null "$URL/health" 2>/dev/null; then
		echo "victoriametrics: something else answers on $URL" >&2
		exit 1
	fi
	rm -rf "$DIR"
	mkdir -p "$DIR"
	nohup "$VM" \
		-httpListenAddr="127.0.0.1:${PORT}" \
		-storageDataPath="$DIR/data" \
		-retentionPeriod=100y \
		-loggerLevel=INFO \
		>"$DIR/vm.log" 2>&1 &
	echo $! >"$DIR/vm.pid"
	for _ in $(seq 1 300); do
		if curl -fsS -o /dev/null "$URL/health" 2>/dev/null; then
			echo "victoriametrics: $(dpkg-query -W -f='${Version}' victoria-metrics 2>/dev/null || "$VM" -version 2>/dev/null | head -1) pid $(cat "$DIR/vm.pid") on $URL, data in $DIR"
			return 0
		fi
		if ! pid_alive; then
			echo "victoriametrics: exited; log:" >&2
			tail -20 "$DIR/vm.log" >&2
			exit 1
		fi
		sleep 0.1
	done
	echo "victoriametrics: no answer on $URL/health after 30 s" >&2
	stop
	exit 1
}

stop() {
	if ! pid_alive; then
		rm -f "$DIR/vm.pid"
		return 0
	fi
	local pid
	pid=$(cat "$DIR/vm.pid")
	kill "$pid"
	for _ in $(seq 1 300); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -9 "$pid"
	fi
	rm -f "$DIR/vm.pid"
	echo "victoriametrics: stopped"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
clean)
	stop
	rm -rf "$DIR"
	;;
status)
	if pid_alive; then echo "victoriametrics: running, pid $(cat "$DIR/vm.pid"), $URL"; else
		echo "victoriametrics: not running"
		exit 1
	fi
	;;
url) echo "$URL/write?db=benchmark&precision=ns" ;;
pid) pid_alive && cat "$DIR/vm.pid" ;;
*)
	echo "usage: $0 start|stop|status|clean|url|pid" >&2
	exit 2
	;;
esac
