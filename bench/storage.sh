#!/usr/bin/env bash
# Storage benchmark: bytes per stored value once each target has compacted the
# same data set (TSBS DevOps cpu-only, 100 hosts x 1 day at 10 s = 864,000 rows,
# 8,640,000 values; the file ingest.sh and query.sh use), in one run.
#
#   bench/storage.sh                          # targets: fineod influxdb victoriametrics
#   bench/storage.sh fineod influxdb postgres # any of fineod influxdb victoriametrics postgres
#
# Per target (each started fresh, 127.0.0.1 only; see bench/peers/):
#   fineod           load over HTTP (bench/cmd/load), check count(*), wait for the next
#                    checkpoint (the row store is flushed) and measure the row store and
#                    the log; `fineod compact --hot-window 0s` through the server, check
#                    count(*) and fineo.segments, stop (fineod checkpoints on the way
#                    out), measure.
#                    Headline: the Parquet files under segments/.
#   influxdb         load, then wait until the cache has been snapshotted (every WAL
#                    file empty) and every shard is one fully compacted TSM file, stable
#                    for 15 s; stop, measure. The peer runs with
#                    cache-snapshot-write-cold-duration = $INFLUXDB_SNAPSHOT_COLD (10s)
#                    and compact-full-write-cold-duration = $INFLUXDB_FULL_COLD (30s)
#                    instead of 10m and 4h: the same compactions InfluxDB runs on a
#                    cold shard, only sooner. Headline: the *.tsm files.
#   victoriametrics  load, /internal/force_flush, count, /internal/force_merge (every
#                    partition), wait until no merge runs and the part count is stable
#                    for 15 s; stop, measure. Headline: data/data (the samples' parts).
#   postgres         bench/cmd/pgload (COPY, two indexes, VACUUM ANALYZE), CHECKPOINT;
#                    headline: pg_total_relation_size('cpu') (heap + indexes + TOAST).
#
# Sizes are the sum of the regular files' sizes (ls -l bytes); the whole-directory
# figures also give the space allocated on disk (du -B1), which differs for sparse or
# preallocated files (InfluxDB's series file: 4 MiB files, mostly holes).
#
# Environment (defaults in brackets):
#   SCALE [100]  DURATION [24h]  INTERVAL [10s]  SEED [1]   the data set (as ingest.sh)
#   BATCH [5000]  WORKERS [2]                               the HTTP loads
#   FINEOD_ARGS [--compaction-interval -1s]  extra `fineod serve` flags (the default keeps
#                the background pass from compacting before the timed `fineod compact`)
#   INFLUXDB_SNAPSHOT_COLD [10s]  INFLUXDB_FULL_COLD [30s]
#   FINEOD_SRC   build fineod from this source tree instead of the checkout
#   SETTLE_TIMEOUT [600]  seconds to wait for InfluxDB / VictoriaMetrics to settle
#   WORK [${TMPDIR:-/tmp}/fineod-bench], and the peers' port and directory variables
# Prints progress on stderr and the markdown report on stdout; the report and the raw
# sizes (TSV) go to $WORK/results/storage-STAMP*.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
WORK=${WORK:-${TMPDIR:-/tmp}/fineod-bench}
SCALE=${SCALE:-100}
DURATION=${DURATION:-24h}
INTERVAL=${INTERVAL:-10s}
SEED=${SEED:-1}
BATCH=${BATCH:-5000}
WORKERS=${WORKERS:-2}
SETTLE_TIMEOUT=${SETTLE_TIMEOUT:-600}
TARGETS=("$@")
[[ ${#TARGETS[@]} -gt 0 ]] || TARGETS=(fineod influxdb victoriametrics)

export INFLUXDB_DIR=${INFLUXDB_DIR:-$WORK/influxdb}
export VM_DIR=${VM_DIR:-$WORK/victoriametrics}
export PG_DIR=${PG_DIR:-$WORK/postgres}
export FINEOD_DIR=${FINEOD_DIR:-$WORK/fineod}
export FINEOD_BIN=${FINEOD_BIN:-$WORK/bin/fineod}
export FINEOD_ARGS=${FINEOD_ARGS---compaction-interval -1s}
export INFLUXDB_SNAPSHOT_COLD=${INFLUXDB_SNAPSHOT_COLD:-10s}
export INFLUXDB_FULL_COLD=${INFLUXDB_FULL_COLD:-30s}
FINEOD_PG_ADDR="127.0.0.1:${FINEOD_PG_PORT:-18432}"
VM_URL="http://127.0.0.1:${VM_PORT:-18428}"
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}

log() { echo "storage: $*" >&2; }

mkdir -p "$WORK/bin" "$WORK/results"
log "building bench/cmd/{gen,load,pgload}"
(cd "$ROOT" && for c in gen load pgload; do go build -o "$WORK/bin/$c" "./bench/cmd/$c"; done)

if [[ " ${TARGETS[*]} " == *" fineod "* ]]; then
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
VALUES=$((ROWS * 10)) # cpu-only: ten fields per row; the HTTP loads recount it below

STAMP=$(date -u +%Y%m%dT%H%M%SZ)
OUT="$WORK/results/storage-$STAMP"
RAW="$OUT.tsv"
: >"$RAW"
trap 'for t in fineod influxdb victoriametrics postgres; do "$HERE/peers/$t.sh" stop >&2 || true; done' EXIT

# Sum of the sizes of the regular files under $1 (optionally only names matching $2).
fbytes() {
	[[ -e $1 ]] || { echo 0; return; }
	find "$1" -type f ${2:+-name "$2"} -printf '%s\n' | awk '{ s += $1 } END { printf "%d\n", s }'
}
# Bytes allocated on disk under $1.
abytes() { [[ -e $1 ]] && du -s -B1 "$1" | cut -f1 || echo 0; }
# record TARGET KIND LABEL BYTES ALLOCATED NOTE; KIND is main (the headline figure),
# part (a component of the whole directory) or total (the whole directory).
record() { printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$@" >>"$RAW"; }

http_load() { # TARGET URL
	local out="$OUT-load-$1.tsv"
	"$WORK/bin/load" -q -name "$1" -file "$DATA" -url "$2" -batch "$BATCH" -workers "$WORKERS" -format tsv >"$out"
	VALUES=$(tail -1 "$out" | cut -f3)
	log "$1 loaded: $(tail -1 "$out" | awk -F'\t' '{printf "%s rows, %s values in %s s, %s failed batches", $2, $3, $5, $4}')"
}

fineod_sql() { "$FINEOD_BIN" sql --pg-addr "$FINEOD_PG_ADDR" -d benchmark --format csv "$1" | tail -n +2; }

fineod_checkpoints() {
	curl -fsS "http://127.0.0.1:${FINEOD_PORT:-18087}/metrics" | awk '$1 == "fineo_checkpoints_total" { print $2 }'
}

run_fineod() {
	local d=$FINEOD_DIR t0 t1 c0 waited=0
	"$HERE/peers/fineod.sh" start >&2
	http_load fineod "$("$HERE/peers/fineod.sh" url)"
	log "fineod: count(*) = $(fineod_sql 'SELECT count(*) FROM cpu')"
	# The row store has no WAL of its own: what the load wrote is on disk after the
	# next checkpoint (every 30 s by default). Measure the row store after it.
	c0=$(fineod_checkpoints)
	while [[ $(fineod_checkpoints) == "$c0" ]] && ((waited < 120)); do sleep 1; waited=$((waited + 1)); done
	log "fineod: checkpoint after ${waited} s (fineo_checkpoints_total $c0 -> $(fineod_checkpoints))"
	record fineod before "row store (rows/), before compaction" "$(fbytes "$d/rows")" "$(abytes "$d/rows")" "Pebble after a checkpoint: one key per point, snappy"
	record fineod before "log (wal/), before compaction" "$(fbytes "$d/wal")" "$(abytes "$d/wal")" "the replicated log: every write batch as proposed"
	t0=$(date +%s.%N)
	"$HERE/peers/fineod.sh" compact 2>&1 | tee "$OUT-fineod-compact.txt" >&2
	t1=$(date +%s.%N)
	log "fineod: compact took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }') s"
	log "fineod: count(*) = $(fineod_sql 'SELECT count(*) FROM cpu'); fineo.segments rows, bytes, files = $(fineod_sql 'SELECT sum(rows), sum(bytes), count(*) FROM fineo.segments')"
	"$HERE/peers/fineod.sh" stop >&2
	record fineod main "Parquet segments (segments/**/*.parquet)" "$(fbytes "$d/segments" '*.parquet')" "$(abytes "$d/segments")" "$(find "$d/segments" -name '*.parquet' | wc -l) file(s)"
	record fineod part "segments/" "$(fbytes "$d/segments")" "$(abytes "$d/segments")" "Parquet files (zstd; time delta, tags dictionary, ints delta)"
	record fineod part "rows/" "$(fbytes "$d/rows")" "$(abytes "$d/rows")" "Pebble row store: series and tag index, catalog, segment manifest, and the compacted points until Pebble's compactions drop them under the range tombstones"
	record fineod part "wal/" "$(fbytes "$d/wal")" "$(abytes "$d/wal")" "the log; checkpoints release whole segment files only (they rotate at 64 MiB)"
	record fineod total "data dir" "$(fbytes "$d")" "$(abytes "$d")" ""
}

run_influxdb() {
	local d=$INFLUXDB_DIR waited=0 stable=0 last="" state
	"$HERE/peers/influxdb.sh" start >&2
	http_load influxdb "$("$HERE/peers/influxdb.sh" url)"
	log "influxdb: waiting for the WAL to empty and every shard to be one TSM file (snapshot after ${INFLUXDB_SNAPSHOT_COLD}, full compaction after ${INFLUXDB_FULL_COLD} without writes)"
	while ((waited < SETTLE_TIMEOUT)); do
		sleep 5
		waited=$((waited + 5))
		# state: bytes in WAL files, TSM files per shard dir, temporary files, TSM bytes
		state="$(fbytes "$d/wal" '*.wal') $(find "$d/data" -name '*.tsm' -printf '%h\n' | sort | uniq -c | awk '{print $1}' | sort -u | tr '\n' ,) $(find "$d/data" -name '*.tmp' | wc -l) $(fbytes "$d/data" '*.tsm')"
		log "influxdb: after ${waited} s: WAL bytes, TSM files per shard, .tmp files, TSM bytes = $state"
		if [[ $state == "0 1, 0 "* && $state == "$last" ]]; then
			stable=$((stable + 1))
			((stable < 3)) || break
		else
			stable=0
		fi
		last=$state
	done
	((stable >= 3)) || log "influxdb: did not settle in ${SETTLE_TIMEOUT} s; measuring anyway"
	grep -E 'tsm1_strategy=full.*TSM compaction \(end\)|TSM compaction \(end\).*tsm1_strategy=full' "$d/influxd.log" | tail -1 | cut -c1-200 >&2 || log "influxdb: no full compaction in the log"
	log "influxdb: count(usage_user) = $(curl -fsS -G "http://127.0.0.1:${INFLUXDB_PORT:-18086}/query" --data-urlencode db=benchmark \
		--data-urlencode 'q=SELECT count(usage_user) FROM cpu' | grep -oE '"values":\[\["[^"]*",[0-9]+' | grep -oE '[0-9]+$' || echo '?')"
	"$HERE/peers/influxdb.sh" stop >&2
	record influxdb main "TSM files (data/**/*.tsm)" "$(fbytes "$d/data" '*.tsm')" "$(abytes "$d/data")" "$(find "$d/data" -name '*.tsm' | wc -l) file(s): $(find "$d/data" -name '*.tsm' -printf '%f ')"
	record influxdb part "data/ (TSM, series file, fields.idx)" "$(fbytes "$d/data")" "$(abytes "$d/data")" "series file: $(fbytes "$d/data" '0000') bytes in 4 MiB preallocated files"
	record influxdb part "wal/" "$(fbytes "$d/wal")" "$(abytes "$d/wal")" "empty once the cache is snapshotted"
	record influxdb part "meta/" "$(fbytes "$d/meta")" "$(abytes "$d/meta")" ""
	record influxdb total "data + wal + meta" "$(($(fbytes "$d/data") + $(fbytes "$d/wal") + $(fbytes "$d/meta")))" "$(($(abytes "$d/data") + $(abytes "$d/wal") + $(abytes "$d/meta")))" ""
}

vm_metric() { # sum of the values of the metric lines matching $1
	curl -fsS "$VM_URL/metrics" | grep -E "$1" | awk '{ s += $2 } END { printf "%d\n", s }'
}

run_victoriametrics() {
	local d=$VM_DIR/data waited=0 stable=0 last="" state
	"$HERE/peers/victoriametrics.sh" start >&2
	http_load victoriametrics "$("$HERE/peers/victoriametrics.sh" url)"
	curl -fsS "$VM_URL/internal/force_flush" >/dev/null
	sleep 2
	log "victoriametrics: stored samples = $(curl -fsS -G "$VM_URL/api/v1/query" --data-urlencode 'query=sum(count_over_time({__name__=~"cpu_.*"}[400d]))' \
		--data-urlencode 'time=2017-01-01T00:00:00Z' | grep -oE '"[0-9]+"\]' | grep -oE '[0-9]+' || echo '?')"
	log "victoriametrics: /internal/force_merge"
	curl -fsS "$VM_URL/internal/force_merge" >/dev/null
	while ((waited < SETTLE_TIMEOUT)); do
		sleep 5
		waited=$((waited + 5))
		state="$(vm_metric '^vm_active_merges\{') $(vm_metric '^vm_parts\{type="storage/') $(fbytes "$d/data")"
		log "victoriametrics: after ${waited} s: active merges, parts, data/data bytes = $state"
		if [[ $state == "0 "* && $state == "$last" ]]; then
			stable=$((stable + 1))
			((stable < 3)) || break
		else
			stable=0
		fi
		last=$state
	done
	((stable >= 3)) || log "victoriametrics: did not settle in ${SETTLE_TIMEOUT} s; measuring anyway"
	"$HERE/peers/victoriametrics.sh" stop >&2
	record victoriametrics main "data/data (samples' parts)" "$(fbytes "$d/data")" "$(abytes "$d/data")" "$(find "$d/data" -name values.bin | wc -l) part(s); values.bin $(fbytes "$d/data" values.bin), timestamps.bin $(fbytes "$d/data" timestamps.bin)"
	record victoriametrics part "data/data" "$(fbytes "$d/data")" "$(abytes "$d/data")" "samples: values, timestamps, block index"
	record victoriametrics part "data/indexdb" "$(fbytes "$d/indexdb")" "$(abytes "$d/indexdb")" "metric names, labels and their inverted index"
	record victoriametrics part "data/cache" "$(fbytes "$d/cache")" "$(abytes "$d/cache")" "caches written at shutdown (rebuilt if deleted)"
	record victoriametrics part "the rest" "$(($(fbytes "$d") - $(fbytes "$d/data") - $(fbytes "$d/indexdb") - $(fbytes "$d/cache")))" "" "metadata, snapshots, tmp"
	record victoriametrics total "data dir" "$(fbytes "$d")" "$(abytes "$d")" ""
}

pg_q() { "$PG_BIN/psql" "$("$HERE/peers/postgres.sh" dsn)" -qAt -c "$1"; }

run_postgres() {
	"$HERE/peers/postgres.sh" start >&2
	"$WORK/bin/pgload" -file "$DATA" -dsn "$("$HERE/peers/postgres.sh" dsn)" >"$OUT-load-postgres.txt"
	pg_q CHECKPOINT >/dev/null
	log "postgres: count(*) = $(pg_q 'SELECT count(*) FROM cpu')"
	local total heap idx db
	total=$(pg_q "SELECT pg_total_relation_size('cpu')")
	heap=$(pg_q "SELECT pg_table_size('cpu')")
	idx=$(pg_q "SELECT pg_indexes_size('cpu')")
	db=$(pg_q "SELECT pg_database_size('benchmark')")
	"$HERE/peers/postgres.sh" stop >&2
	record postgres main "table cpu + its indexes" "$total" "" "pg_total_relation_size"
	record postgres part "heap (pg_table_size)" "$heap" "" "rows, TOAST, free space and visibility maps"
	record postgres part "indexes" "$idx" "" "(hostname, time DESC) and (time DESC)"
	record postgres part "database benchmark" "$db" "" "pg_database_size (catalogs included)"
	record postgres total "data dir" "$(fbytes "$PG_DIR/data")" "$(abytes "$PG_DIR/data")" "incl. pg_wal (16 MiB segments) and the template databases"
}

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
for t in "${TARGETS[@]}"; do
	case "$t" in
	fineod | influxdb | victoriametrics | postgres) "run_$t" ;;
	*)
		log "unknown target $t (want fineod, influxdb, victoriametrics or postgres)"
		exit 2
		;;
	esac
done

{
	echo "Storage — cpu-only, ${SCALE} hosts x ${DURATION} every ${INTERVAL} (seed ${SEED}): ${ROWS} rows, ${VALUES} values; after each target's compaction"
	echo "Machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'); load average before: ${LOAD_BEFORE}, after: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo
	echo "| target | what | bytes | bytes/value | vs InfluxDB TSM |"
	echo "|---|---|---:|---:|---:|"
	awk -F'\t' -v v="$VALUES" '
		$2 == "main" { main[$1] = $4; label[$1] = $3; n++; order[n] = $1 }
		END {
			base = ("influxdb" in main) ? main["influxdb"] : 0
			for (i = 1; i <= n; i++) {
				t = order[i]
				r = base > 0 ? sprintf("%.2fx", main[t] / base) : "n/a"
				printf "| %s | %s | %d | %.3f | %s |\n", t, label[t], main[t], main[t] / v, r
			}
		}' "$RAW"
	echo
	echo "Whole directories (bytes = sum of file sizes; allocated = du -B1):"
	echo
	echo "| target | part | bytes | bytes/value | allocated | note |"
	echo "|---|---|---:|---:|---:|---|"
	awk -F'\t' -v v="$VALUES" '
		$2 != "main" { printf "| %s | %s | %d | %.3f | %s | %s |\n", $1, ($2 == "total" ? "**" $3 "**" : $3), $4, $4 / v, $5, $6 }' "$RAW"
} >"$OUT.md"
cat "$OUT.md"
log "report: $OUT.md, raw: $RAW"
