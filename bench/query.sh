#!/usr/bin/env bash
# Query latency benchmark: the TSBS DevOps query types on the same DevOps cpu
# data set (TSBS cpu-only, 100 hosts x 1 day at 10 s = 864,000 rows) in fineod,
# PostgreSQL 15 and InfluxDB 1.x, in one run, with the same query parameters.
#
#   bench/query.sh                       # targets: fineod postgres influxdb
#   N=50 bench/query.sh fineod postgres  # a subset, more queries per type
#   N=20 bench/query.sh fineod fineod-segments   # row store vs Parquet segments
#
# Targets: fineod (every point in the row store: served with
# FINEOD_ARGS='--compaction-interval -1s' unless FINEOD_ARGS is set), fineod-segments
# (a second fineod, same data, on FINEOD_SEG_PORT/FINEOD_SEG_PG_PORT [18097/18442] with
# its own data dir, also without background compaction; after the load
# `fineod compact --hot-window 0s` moves every point into Parquet segments), postgres,
# influxdb. Both fineods are built from the same tree and get the same queries.
#
# Every target is started fresh (empty data dir, 127.0.0.1 only; see bench/peers/)
# and loaded: fineod and InfluxDB over HTTP line protocol with bench/cmd/load,
# PostgreSQL with COPY (bench/cmd/pgload: table cpu, indexes on (hostname, time
# DESC) and (time DESC), VACUUM ANALYZE). Then the script waits until the
# machine is quiet (background compactions done), and bench/cmd/query checks
# that every target counts all rows and runs the queries, the targets taking
# turns per query type. Finally `go test -bench Prepare ./sql` gives fineod's
# parse+plan cost without the network (PREPARE_BENCH=0 skips it).
#
# Environment (defaults in brackets):
#   SCALE [100]  DURATION [24h]  INTERVAL [10s]  SEED [1]   the data set (as ingest.sh)
#   N [20]  WARMUP [2]  QUERY_SEED [1]  QUERIES [all]       passed to bench/cmd/query
#   BATCH [5000]  WORKERS [2]                               the HTTP loads
#   QUIET_PCT [10]  machine CPU % (of all cores) under which it counts as quiet
#   PREPARE_BENCH [1]  WORK [${TMPDIR:-/tmp}/fineod-bench]
#   SCAN [1]  after the query types, bench/cmd/scan times whole-table aggregates
#             (sum(usage_user), count(*), sum of all ten fields) on the SQL targets,
#             SCAN_N [10] timed runs each
#   FINEOD_ARGS [--compaction-interval -1s]  FINEOD_SEG_ARGS [--compaction-interval -1s]
# Prints progress on stderr and the markdown report on stdout; the report, the
# raw measurements (JSON) and the loaders' output go to $WORK/results/.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
WORK=${WORK:-${TMPDIR:-/tmp}/fineod-bench}
SCALE=${SCALE:-100}
DURATION=${DURATION:-24h}
INTERVAL=${INTERVAL:-10s}
SEED=${SEED:-1}
N=${N:-20}
WARMUP=${WARMUP:-2}
QUERY_SEED=${QUERY_SEED:-1}
QUERIES=${QUERIES:-}
BATCH=${BATCH:-5000}
WORKERS=${WORKERS:-2}
QUIET_PCT=${QUIET_PCT:-10}
PREPARE_BENCH=${PREPARE_BENCH:-1}
SCAN=${SCAN:-1}
SCAN_N=${SCAN_N:-10}
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(fineod postgres influxdb)

export INFLUXDB_DIR=${INFLUXDB_DIR:-$WORK/influxdb}
export PG_DIR=${PG_DIR:-$WORK/postgres}
export FINEOD_DIR=${FINEOD_DIR:-$WORK/fineod}
export FINEOD_BIN=${FINEOD_BIN:-$WORK/bin/fineod}
export FINEOD_ARGS=${FINEOD_ARGS---compaction-interval -1s}
FINEOD_SEG_ARGS=${FINEOD_SEG_ARGS---compaction-interval -1s}
FINEOD_SEG_PORT=${FINEOD_SEG_PORT:-18097}
FINEOD_SEG_PG_PORT=${FINEOD_SEG_PG_PORT:-18442}
FINEOD_SEG_DIR=${FINEOD_SEG_DIR:-$WORK/fineod-segments}
# The second fineod: the same peer script with its own ports, data dir and flags.
fineod_seg() {
	FINEOD_PORT=$FINEOD_SEG_PORT FINEOD_PG_PORT=$FINEOD_SEG_PG_PORT FINEOD_DIR=$FINEOD_SEG_DIR \
		FINEOD_ARGS=$FINEOD_SEG_ARGS "$HERE/peers/fineod.sh" "$@"
}
stop_all() {
	for t in fineod postgres influxdb; do "$HERE/peers/$t.sh" stop >&2 || true; done
	fineod_seg stop >&2 || true
}

log() { echo "query: $*" >&2; }

mkdir -p "$WORK/bin" "$WORK/results"
log "building bench/cmd/{gen,load,pgload,query,scan}"
(cd "$ROOT" && for c in gen load pgload query scan; do go build -o "$WORK/bin/$c" "./bench/cmd/$c"; done)

# One fineod binary for both fineod targets (the tree may change while this runs).
if [[ " ${TARGETS[*]} " == *" fineod"* ]]; then
	log "building fineod from ${FINEOD_SRC:-$ROOT}"
	(cd "${FINEOD_SRC:-$ROOT}" && go build -o "$FINEOD_BIN" ./cmd/fineod)
	export FINEOD_NO_BUILD=1
fi

DATA="$WORK/cpu-only-${SCALE}x${DURATION}-${INTERVAL}-seed${SEED}.lp"
if [[ ! -s $DATA ]]; then
	log "generating $DATA"
	"$WORK/bin/gen" -use-case cpu-only -scale "$SCALE" -duration "$DURATION" -interval "$INTERVAL" -seed "$SEED" -o "$DATA"
else
	log "reusing $DATA (the generator is deterministic; delete the file to regenerate)"
fi
ROWS=$(wc -l <"$DATA")
log "$ROWS rows"

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$WORK/results/query-$STAMP"
trap stop_all EXIT

declare -A QTARGET
for t in "${TARGETS[@]}"; do
	case "$t" in
	fineod)
		"$HERE/peers/fineod.sh" start >&2
		"$WORK/bin/load" -q -name fineod -file "$DATA" -url "$("$HERE/peers/fineod.sh" url)" \
			-batch "$BATCH" -workers "$WORKERS" -format tsv >"$OUT-load-fineod.tsv"
		QTARGET[$t]="fineod=$("$HERE/peers/fineod.sh" dsn)"
		log "fineod: fineo.segments files, rows (0 while everything is in the row store): $("$FINEOD_BIN" sql \
			--pg-addr "127.0.0.1:${FINEOD_PG_PORT:-18432}" -d benchmark --format csv \
			'SELECT count(*), sum(rows) FROM fineo.segments' | tail -n +2)"
		;;
	fineod-segments)
		fineod_seg start >&2
		"$WORK/bin/load" -q -name fineod-segments -file "$DATA" -url "$(fineod_seg url)" \
			-batch "$BATCH" -workers "$WORKERS" -format tsv >"$OUT-load-fineod-segments.tsv"
		log "fineod-segments: fineod compact --hot-window 0s"
		t0=$(date +%s.%N)
		fineod_seg compact 2>&1 | tee "$OUT-compact-fineod-segments.txt" >&2
		log "fineod-segments: compacted in $(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }') s"
		log "fineod-segments: fineo.segments rows, bytes, files: $("$FINEOD_BIN" sql --pg-addr "127.0.0.1:$FINEOD_SEG_PG_PORT" -d benchmark --format csv \
			'SELECT sum(rows), sum(bytes), count(*) FROM fineo.segments' | tail -n +2)"
		QTARGET[$t]="fineod-segments=$(fineod_seg dsn)"
		;;
	influxdb)
		"$HERE/peers/influxdb.sh" start >&2
		"$WORK/bin/load" -q -name influxdb -file "$DATA" -url "$("$HERE/peers/influxdb.sh" url)" \
			-batch "$BATCH" -workers "$WORKERS" -format tsv >"$OUT-load-influxdb.tsv"
		QTARGET[$t]="influxdb=http://127.0.0.1:${INFLUXDB_PORT:-18086}?db=benchmark"
		;;
	postgres)
		"$HERE/peers/postgres.sh" start >&2
		"$WORK/bin/pgload" -file "$DATA" -dsn "$("$HERE/peers/postgres.sh" dsn)" | tee "$OUT-load-postgres.txt" >&2
		QTARGET[$t]="postgres=$("$HERE/peers/postgres.sh" dsn)"
		;;
	*)
		log "unknown target $t (want fineod, fineod-segments, postgres or influxdb)"
		exit 2
		;;
	esac
	log "$t loaded"
done

# Busy jiffies / total jiffies over 5 s from /proc/stat, as a percentage.
busy_pct() {
	local a b
	a=$(head -1 /proc/stat)
	sleep 5
	b=$(head -1 /proc/stat)
	awk -v a="$a" -v b="$b" 'BEGIN {
		split(a, x, " "); split(b, y, " "); tot = 0; idle = 0
		for (i = 2; i <= 9; i++) tot += y[i] - x[i]
		idle = (y[5] - x[5]) + (y[6] - x[6])
		pct = 0
		if (tot > 0) pct = 100 * (tot - idle) / tot
		printf "%d\n", pct }'
}
for _ in $(seq 1 24); do
	pct=$(busy_pct)
	log "machine CPU busy over 5 s: ${pct}%"
	[[ $pct -lt $QUIET_PCT ]] && break
done

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
log "load average before the queries: $LOAD_BEFORE"
args=()
for t in "${TARGETS[@]}"; do args+=(-target "${QTARGET[$t]}"); done
rc=0
"$WORK/bin/query" "${args[@]}" -n "$N" -warmup "$WARMUP" -seed "$QUERY_SEED" -scale "$SCALE" -duration "$DURATION" \
	${QUERIES:+-queries "$QUERIES"} -wait-rows "$ROWS" -json "$OUT.json" >"$OUT.md" || rc=$?
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
{
	echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average before the queries: ${LOAD_BEFORE}, after: ${LOAD_AFTER}"
	echo
} >>"$OUT.md"
sql_targets=()
for t in "${TARGETS[@]}"; do [[ $t == influxdb ]] || sql_targets+=(-target "${QTARGET[$t]}"); done
if [[ $SCAN == 1 && ${#sql_targets[@]} -gt 0 ]]; then
	log "bench/cmd/scan: whole-table aggregates"
	{
		"$WORK/bin/scan" "${sql_targets[@]}" -n "$SCAN_N" -warmup 2 || log "scan failed or the answers differ"
		echo
	} >>"$OUT.md"
fi
stop_all

if [[ $PREPARE_BENCH == 1 ]]; then
	log "go test -run XXX -bench Prepare ./sql (parse + bind + plan, no network)"
	{
		echo "fineod parse+bind+plan without the network (go test -run XXX -bench Prepare -benchtime 2s ./sql):"
		echo
		echo '```'
		(cd "${FINEOD_SRC:-$ROOT}" && go test -run XXX -bench Prepare -benchtime 2s ./sql 2>&1 | grep -E '^Benchmark')
		echo '```'
	} >>"$OUT.md" || log "the Prepare benchmark failed"
fi
cat "$OUT.md"
log "report: $OUT.md, raw: $OUT.json"
exit "$rc"
