#!/usr/bin/env bash
# Whole-system ingest benchmark: the same DevOps cpu data set (TSBS cpu-only,
# 100 hosts x 1 day at 10 s = 864,000 rows, 8.64 M values) loaded over HTTP line
# protocol into each target, with the same batch size and workers, in one run.
#
#   bench/ingest.sh                         # targets: fineod influxdb victoriametrics
#   bench/ingest.sh influxdb                # just one
#   FINEOD_URL='http://127.0.0.1:8086/api/v2/write?bucket=benchmark&precision=ns' bench/ingest.sh
#
# Environment (defaults in brackets):
#   FINEOD_URL  write URL of a running fineod [http://127.0.0.1:8086/write?db=benchmark&precision=ns];
#               fineod is skipped when nothing answers /ping there. It is not
#               started or wiped by this script.
#   SCALE [100]  DURATION [24h]  INTERVAL [10s]  SEED [1]  USE_CASE [cpu-only]
#   BATCH [5000]  WORKERS [2]  GZIP [false]  RUNS [1]
#   PICK [median]  which run per target the table shows: median or best (by rows/s)
#   FINEOD_PID  pid of the fineod server, for its CPU time [found from the port with ss]
#   WORK  scratch directory [${TMPDIR:-/tmp}/fineod-bench]
#
# InfluxDB and VictoriaMetrics are started fresh (empty data dir) for every run
# and stopped afterwards, on 127.0.0.1 only; see bench/peers/.
# Prints progress on stderr and a markdown table on stdout; raw results go to
# $WORK/results/.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
WORK=${WORK:-${TMPDIR:-/tmp}/fineod-bench}
# fineod is started fresh by peers/fineod.sh unless FINEOD_URL names a running one.
FINEOD_URL=${FINEOD_URL:-}
SCALE=${SCALE:-100}
DURATION=${DURATION:-24h}
INTERVAL=${INTERVAL:-10s}
SEED=${SEED:-1}
USE_CASE=${USE_CASE:-cpu-only}
BATCH=${BATCH:-5000}
WORKERS=${WORKERS:-2}
GZIP=${GZIP:-false}
RUNS=${RUNS:-1}
PICK=${PICK:-median}
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(fineod influxdb victoriametrics)

export INFLUXDB_DIR=${INFLUXDB_DIR:-$WORK/influxdb}
export VM_DIR=${VM_DIR:-$WORK/victoriametrics}

log() { echo "ingest: $*" >&2; }

mkdir -p "$WORK/bin" "$WORK/results"
log "building bench/cmd/gen and bench/cmd/load"
(cd "$ROOT" && go build -o "$WORK/bin/gen" ./bench/cmd/gen && go build -o "$WORK/bin/load" ./bench/cmd/load)

DATA="$WORK/${USE_CASE}-${SCALE}x${DURATION}-${INTERVAL}-seed${SEED}.lp"
log "generating $DATA"
"$WORK/bin/gen" -use-case "$USE_CASE" -scale "$SCALE" -duration "$DURATION" -interval "$INTERVAL" -seed "$SEED" -o "$DATA"

# base URL (scheme://host:port) of a write URL
base_of() { sed -E 's#^(https?://[^/]+).*#\1#' <<<"$1"; }

target_url() {
	case "$1" in
	fineod) if [[ -n $FINEOD_URL ]]; then echo "$FINEOD_URL"; else "$HERE/peers/fineod.sh" url; fi ;;
	influxdb) "$HERE/peers/influxdb.sh" url ;;
	victoriametrics) "$HERE/peers/victoriametrics.sh" url ;;
	*) return 1 ;;
	esac
}

peer_start() {
	case "$1" in
	influxdb | victoriametrics) "$HERE/peers/$1.sh" start >&2 ;;
	fineod) [[ -n $FINEOD_URL ]] || "$HERE/peers/fineod.sh" start >&2 ;;
	esac
}

peer_stop() {
	case "$1" in
	influxdb | victoriametrics) "$HERE/peers/$1.sh" stop >&2 || true ;;
	fineod) [[ -n $FINEOD_URL ]] || "$HERE/peers/fineod.sh" stop >&2 || true ;;
	esac
}

# Prints the pid of the target's server process, or nothing.
server_pid() {
	case "$1" in
	influxdb | victoriametrics) "$HERE/peers/$1.sh" pid 2>/dev/null || true ;;
	fineod)
		if [[ -z $FINEOD_URL ]]; then
			"$HERE/peers/fineod.sh" pid 2>/dev/null || true
		elif [[ -n ${FINEOD_PID:-} ]]; then
			echo "$FINEOD_PID"
		else
			local port
			port=$(sed -E 's#^https?://[^/:]+:([0-9]+).*#\1#' <<<"$FINEOD_URL")
			ss -ltnpH "sport = :$port" 2>/dev/null | grep -oE 'pid=[0-9]+' | head -1 | cut -d= -f2 || true
		fi
		;;
	esac
}

# Prints user+system CPU ticks used so far by pid, or nothing.
cpu_ticks() {
	[[ -n $1 && -r /proc/$1/stat ]] || return 0
	# fields after the ")" that closes the command name: utime is the 12th, stime the 13th
	sed -E 's/^.*\) //' "/proc/$1/stat" | awk '{print $12 + $13}'
}
CLK_TCK=$(getconf CLK_TCK)


# Prints the number of cpu rows the target holds, or "?".
stored_rows() {
	local base
	base=$(base_of "$(target_url "$1")")
	case "$1" in
	influxdb)
		curl -fsS -G "$base/query" --data-urlencode 'db=benchmark' \
			--data-urlencode 'q=SELECT count(usage_user) FROM cpu' 2>/dev/null |
			grep -oE '"values":\[\["[^"]*",[0-9]+' | grep -oE '[0-9]+$' || echo "?"
		;;
	victoriametrics)
		curl -fsS "$base/internal/force_flush" >/dev/null 2>&1 || true
		sleep 1
		# Covers data sets that start on the default 2016-01-01 and span up to a
		# year (VictoriaMetrics answers nothing for much longer windows).
		curl -fsS -G "$base/api/v1/query" --data-urlencode 'query=sum(count_over_time(cpu_usage_user[400d]))' \
			--data-urlencode 'time=2017-01-01T00:00:00Z' 2>/dev/null |
			grep -oE '"[0-9]+"\]' | grep -oE '[0-9]+' || echo "?"
		;;
	*) echo "?" ;;
	esac
}

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before the run: $LOAD_BEFORE (the benchmark assumes an otherwise idle machine)"
ALL="$WORK/results/ingest-$STAMP.tsv"
: >"$ALL"
trap 'for t in fineod influxdb victoriametrics; do peer_stop $t; done' EXIT

for t in "${TARGETS[@]}"; do
	url=$(target_url "$t") || { log "unknown target $t (want fineod, influxdb or victoriametrics)"; exit 2; }
	if [[ $t == fineod && -n $FINEOD_URL ]] && ! curl -fsS -o /dev/null --max-time 2 "$(base_of "$url")/ping" 2>/dev/null; then
		log "fineod: nothing answers $(base_of "$url")/ping; skipped"
		printf 'fineod\tskipped\n' >>"$ALL"
		continue
	fi
	for run in $(seq 1 "$RUNS"); do
		peer_start "$t"
		log "$t run $run/$RUNS: $url"
		out="$WORK/results/ingest-$STAMP-$t-$run.tsv"
		rc=0
		spid=$(server_pid "$t")
		t0=$(cpu_ticks "$spid")
		"$WORK/bin/load" -q -name "$t" -file "$DATA" -url "$url" -batch "$BATCH" -workers "$WORKERS" \
			-gzip="$GZIP" -format tsv >"$out" || rc=$?
		if [[ $rc -ne 0 && $rc -ne 3 ]]; then
			log "$t: loader failed (exit $rc)"
			peer_stop "$t"
			continue
		fi
		t1=$(cpu_ticks "$spid")
		cpu_s="?"
		if [[ -n $t0 && -n $t1 ]]; then
			cpu_s=$(awk -v a="$t0" -v b="$t1" -v hz="$CLK_TCK" 'BEGIN { printf "%.2f", (b - a) / hz }')
		fi
		row=$(tail -1 "$out")
		log "$t run $run: $(awk -F'\t' '{printf "%s rows in %s s = %s rows/s, %s values/s, %s failed batches", $2, $5, $6, $7, $4}' <<<"$row")"
		if [[ $rc -eq 3 ]]; then
			log "$t: some batches failed; first error: $(cut -f11 <<<"$row")"
		fi
		stored=$(stored_rows "$t")
		# Other processes = whole machine - server - loader, all within the timed window
		# except the server's figure, which also spans the loader's start-up (idle time).
		others=$(awk -F'\t' -v srv="$cpu_s" '{ if (srv == "?") print "?"; else { o = $13 - srv - $12; printf "%.2f", (o < 0 ? 0 : o) } }' <<<"$row")
		log "$t run $run: target reports $stored cpu rows stored; CPU s during the load: server $cpu_s, loader $(cut -f12 <<<"$row"), other processes $others, steal $(cut -f14 <<<"$row") (of $(nproc) x $(cut -f5 <<<"$row") s)"
		printf '%s\t%s\t%s\t%s\n' "$row" "$stored" "$cpu_s" "$others" >>"$ALL"
		peer_stop "$t"
	done
done

# The median (or best) run per target by rows/s, then the table.
log "raw results: $ALL"
table() {
	echo
	echo "Ingest — ${USE_CASE}, ${SCALE} hosts x ${DURATION} every ${INTERVAL} (seed ${SEED}), batch ${BATCH}, ${WORKERS} workers, gzip=${GZIP}, $1 of ${RUNS} run(s)"
	echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average before: ${LOAD_BEFORE}, after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "| target | rows sent | rows stored | values | failed batches | wall s | rows/s | values/s | MB/s | p50 / p99 batch ms | server CPU s (µs/row) | loader / other CPU s | rows/s vs InfluxDB |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
	awk -F'\t' -v order="${TARGETS[*]}" -v pick="$1" '
		$2 == "skipped" { skipped[$1] = 1; next }
		{ n[$1]++; line[$1, n[$1]] = $0; rate[$1, n[$1]] = $6 }
		END {
			# median by rows/s
			for (t in n) {
				for (i = 1; i <= n[t]; i++) idx[i] = i
				for (i = 1; i <= n[t]; i++) for (j = i + 1; j <= n[t]; j++)
					if (rate[t, idx[j]] + 0 < rate[t, idx[i]] + 0) { k = idx[i]; idx[i] = idx[j]; idx[j] = k }
				med[t] = line[t, idx[pick == "best" ? n[t] : int((n[t] + 1) / 2)]]
			}
			base = 0
			if ("influxdb" in med) { split(med["influxdb"], f, "\t"); base = f[6] }
			m = split(order, names, " ")
			for (i = 1; i <= m; i++) {
				t = names[i]
				if (t in skipped) { printf "| %s | skipped (no /ping answer) | | | | | | | | | | | |\n", t; continue }
				if (!(t in med)) continue
				split(med[t], f, "\t")
				ratio = (base > 0) ? sprintf("%.2fx", f[6] / base) : "n/a"
				cpu = (f[16] == "?" || f[2] == 0) ? "?" : sprintf("%s (%.1f)", f[16], f[16] * 1e6 / f[2])
				printf "| %s | %s | %s | %s | %s | %.2f | %s | %s | %s | %s / %s | %s | %s / %s | %s |\n", t, f[2], f[15], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], cpu, f[12], f[17], ratio
			}
		}' "$ALL"
}

table "$PICK"
if [[ $RUNS -gt 1 && $PICK != best ]]; then
	table best
fi
