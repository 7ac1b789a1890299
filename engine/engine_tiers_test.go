package engine

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineod/fineod/schema"
	"github.com/fineod/fineod/storage"
)

// tiersQueries read the test table in ways that exercise every part of the
// scan: full scans, time ranges inside and across partition days, tag
// filters, field filters, last point per series, aggregates.
var tiersQueries = []string{
	`SELECT count(*), count(usage), count(idle), sum(usage), min(idle), max(idle) FROM cpu`,
	`SELECT host, count(*), sum(usage), max(note) FROM cpu GROUP BY host ORDER BY host`,
	`SELECT * FROM cpu ORDER BY host, time`,
	`SELECT time, host, usage FROM cpu WHERE host = 'h3' ORDER BY time`,
	`SELECT time, host, usage, idle FROM cpu WHERE time >= '2024-01-02 06:00:00+00' AND time < '2024-01-03 01:00:00+00' ORDER BY host, time`,
	`SELECT host, count(*) FROM cpu WHERE host IN ('h1', 'h5') AND time < '2024-01-02 12:00:00+00' GROUP BY host ORDER BY host`,
	`SELECT host, count(*) FROM cpu WHERE host <> 'h2' GROUP BY host ORDER BY host`,
	`SELECT count(*) FROM cpu WHERE usage > 50`,
	`SELECT time, host, usage FROM cpu WHERE usage > 90 AND idle < 20 ORDER BY host, time`,
	`SELECT DISTINCT ON (host) host, time, usage, idle, note FROM cpu ORDER BY host, time DESC`,
	`SELECT DISTINCT ON (host) host, time, usage FROM cpu WHERE time < '2024-01-02 00:00:00+00' ORDER BY host, time DESC`,
	`SELECT date_trunc('hour', time) AS h, avg(usage), max(idle) FROM cpu GROUP BY h ORDER BY h`,
	`SELECT host, first(usage, time), last(usage, time) FROM cpu GROUP BY host ORDER BY host`,
	// Few series over a short time: range reads of row groups, runs of
	// segment rows copied column by column, row-store points among them.
	`SELECT date_trunc('minute', time) AS m, max(usage), max(idle) FROM cpu WHERE host = 'h5' AND time >= '2024-01-01 03:00:00+00' AND time < '2024-01-01 04:00:00+00' GROUP BY 1 ORDER BY 1`,
	`SELECT time, host, usage, idle, note FROM cpu WHERE host IN ('h2', 'h6', 'h7') AND time >= '2024-01-02 01:00:00+00' AND time < '2024-01-02 09:30:00+00' ORDER BY host, time`,
	`SELECT host, count(*), count(idle), sum(usage) FROM cpu WHERE host IN ('h0', 'h3') AND time >= '2024-01-01 22:00:00+00' AND time < '2024-01-02 02:00:00+00' GROUP BY host ORDER BY host`,
	`SELECT time, usage, idle, note FROM cpu WHERE host = 'h0' AND time >= '2024-01-02 05:00:00+00' AND time < '2024-01-02 07:00:00+00' ORDER BY time`,
	`SELECT time, usage FROM cpu WHERE host = 'h3' AND time >= '2024-01-01 09:00:00+00' AND time <= '2024-01-01 11:00:00+00' ORDER BY time`,
}

func dumpQuery(t *testing.T, db *DB, q string) string {
	t.Helper()
	rows, err := db.Query(context.Background(), q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var sb strings.Builder
	n := 0
	for rows.Next() {
		n++
		fmt.Fprintln(&sb, rows.Values()...)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	fmt.Fprintf(&sb, "(%d rows)\n", n)
	return sb.String()
}

func dumpAll(t *testing.T, db *DB) []string {
	t.Helper()
	out := make([]string, len(tiersQueries))
	for i, q := range tiersQueries {
		out[i] = dumpQuery(t, db, q)
	}
	return out
}

func compareDumps(t *testing.T, what string, want, got []string) {
	t.Helper()
	for i := range want {
		if want[i] != got[i] {
			t.Errorf("%s: %s\nwant:\n%s\ngot:\n%s", what, tiersQueries[i], clip(want[i]), clip(got[i]))
		}
	}
}

func clip(s string) string {
	if len(s) > 3000 {
		return s[:3000] + "..."
	}
	return s
}

var tiersDay0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// tiersPoints: 8 hosts, three days at 5 minutes, usage always, idle
// mostly, a string field sometimes.
func tiersPoints() []Point {
	r := rand.New(rand.NewPCG(1, 2))
	var pts []Point
	for i := 0; i < 3*24*12; i++ {
		ts := tiersDay0.Add(time.Duration(i) * 5 * time.Minute)
		for h := 0; h < 8; h++ {
			f := map[string]any{"usage": float64(r.IntN(400)) / 4} // exact sums in any order
			if r.IntN(10) > 0 {
				f["idle"] = int64(r.IntN(100))
			}
			if r.IntN(20) == 0 {
				f["note"] = fmt.Sprintf("n%d", r.IntN(5))
			}
			tags := map[string]string{"host": fmt.Sprintf("h%d", h)}
			if h%2 == 0 {
				tags["rack"] = "r1"
			}
			pts = append(pts, Point{Table: "cpu", Tags: tags, Fields: f, Time: ts})
		}
	}
	return pts
}

func openTiersDB(t *testing.T, dir string) *DB {
	t.Helper()
	db, err := Open(dir, &Options{CompactionInterval: -1, RowGroupRows: 500, SegmentCacheSize: tiersCacheSize})
	if err != nil {
		t.Fatal(err)
	}
	return db
}

func compactUntil(t *testing.T, db *DB, cutoff time.Time) CompactSummary {
	t.Helper()
	sum, err := db.Compact(context.Background(), CompactRequest{Cutoff: cutoff})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Failed > 0 {
		t.Fatalf("compaction failures: %+v", sum)
	}
	return sum
}

// TestQueriesAcrossTiers checks that every query answers the same with all
// data in the row store, half of it compacted, all of it compacted, and
// after late writes into compacted days (new points, rewrites of single
// fields of compacted points) before and after they are compacted too.
func TestQueriesAcrossTiers(t *testing.T) {
	testQueriesAcrossTiers(t)
}

// tiersCacheSize is the decoded-column cache size openTiersDB asks for (0:
// the default).
var tiersCacheSize int64

// TestQueriesAcrossTiersUncached is TestQueriesAcrossTiers without the
// decoded-column cache: every read of a segment decodes, by range reads
// where a query wants part of a row group.
func TestQueriesAcrossTiersUncached(t *testing.T) {
	tiersCacheSize = -1
	defer func() {
		tiersCacheSize = 0
		storage.SetDecodedCacheSize(128 << 20)
	}()
	testQueriesAcrossTiers(t)
}

func testQueriesAcrossTiers(t *testing.T) {
	ctx := context.Background()
	// The reference keeps everything in the row store.
	ref := openTiersDB(t, t.TempDir())
	defer ref.Close()
	db := openTiersDB(t, t.TempDir())
	defer db.Close()
	pts := tiersPoints()
	for _, d := range []*DB{ref, db} {
		if err := d.Write(ctx, pts); err != nil {
			t.Fatal(err)
		}
	}
	want := dumpAll(t, ref)
	compareDumps(t, "row store only", want, dumpAll(t, db))

	// Half: day 0 and the first half of day 1 (two segments: day 0, and an
	// open day 1 segment).
	sum := compactUntil(t, db, tiersDay0.Add(36*time.Hour))
	if sum.Segments != 2 || sum.RowStoreRows != int64(36*12*8) {
		t.Fatalf("half compaction: %+v", sum)
	}
	compareDumps(t, "half compacted", want, dumpAll(t, db))

	// Late writes: rewrite one field of compacted points (the row store
	// wins field by field), add new points to a compacted day, and a
	// point in the row-store half.
	late := []Point{
		{Table: "cpu", Tags: map[string]string{"host": "h3"}, Fields: map[string]any{"usage": 1234.5}, Time: tiersDay0.Add(10 * time.Hour)},
		{Table: "cpu", Tags: map[string]string{"host": "h0", "rack": "r1"}, Fields: map[string]any{"idle": int64(-7), "note": "late"}, Time: tiersDay0.Add(30 * time.Hour)},
		{Table: "cpu", Tags: map[string]string{"host": "h9"}, Fields: map[string]any{"usage": 5.0}, Time: tiersDay0.Add(3*time.Hour + time.Second)},
		{Table: "cpu", Tags: map[string]string{"host": "h1"}, Fields: map[string]any{"usage": 77.0}, Time: tiersDay0.Add(50 * time.Hour)},
	}
	for _, d := range []*DB{ref, db} {
		if err := d.Write(ctx, late); err != nil {
			t.Fatal(err)
		}
	}
	want = dumpAll(t, ref)
	compareDumps(t, "late writes over segments", want, dumpAll(t, db))

	// Everything, merging the late writes into the compacted days.
	compactUntil(t, db, tiersDay0.Add(100*time.Hour))
	compareDumps(t, "all compacted", want, dumpAll(t, db))
	tn, _ := db.cat.Tenant(schema.DefaultTenant)
	tbl, _ := db.cat.Table(tn.ID, schema.DefaultDatabase, "cpu")
	segs, err := db.rows.Segments(tn.ID, tbl.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != 3 {
		t.Fatalf("want one segment per day after a full compaction, got %d", len(segs))
	}
	days, err := db.rows.PointDays(tn.ID, tbl.ID, 1<<62)
	if err != nil || len(days) != 0 {
		t.Fatalf("row store still has points in days %v (%v)", days, err)
	}

	// Restart: the manifest and segments come back.
	dir := db.dir
	db.Close()
	db = openTiersDB(t, dir)
	defer db.Close()
	compareDumps(t, "after reopen", want, dumpAll(t, db))
}

// TestCompactionDuringQueries compacts while queries run: every query must
// see each point exactly once.
func TestCompactionDuringQueries(t *testing.T) {
	ctx := context.Background()
	db := openTiersDB(t, t.TempDir())
	defer db.Close()
	if err := db.Write(ctx, tiersPoints()); err != nil {
		t.Fatal(err)
	}
	want := dumpQuery(t, db, tiersQueries[0])
	done := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(done)
		for h := 6; h <= 80; h += 6 {
			if _, err := db.Compact(ctx, CompactRequest{Cutoff: tiersDay0.Add(time.Duration(h) * time.Hour)}); err != nil {
				errc <- err
				return
			}
		}
	}()
	for running := true; running; {
		select {
		case <-done:
			running = false
		default:
		}
		if got := dumpQuery(t, db, tiersQueries[0]); got != want {
			t.Fatalf("during compaction:\nwant %s\ngot  %s", want, got)
		}
	}
	select {
	case err := <-errc:
		t.Fatal(err)
	default:
	}
	_ = storage.DayString
}

func TestSegmentsSystemTable(t *testing.T) {
	db := openTiersDB(t, t.TempDir())
	defer db.Close()
	if err := db.Write(context.Background(), tiersPoints()); err != nil {
		t.Fatal(err)
	}
	compactUntil(t, db, tiersDay0.Add(36*time.Hour))
	got := dumpQuery(t, db, `SELECT table_name, database, partition, rows, row_groups, min_time, max_time, file LIKE 'segments/tenant=default/database=fineo/table=cpu/date=' || partition || '/%.parquet', bytes > 1000 FROM fineo.segments ORDER BY partition`)
	want := "cpu fineo 2024-01-01 2304 5 2024-01-01 00:00:00 +0000 UTC 2024-01-01 23:55:00 +0000 UTC true true\n" +
		"cpu fineo 2024-01-02 1152 3 2024-01-02 00:00:00 +0000 UTC 2024-01-02 11:55:00 +0000 UTC true true\n(2 rows)\n"
	if got != want {
		t.Fatalf("fineo.segments:\n%s\nwant:\n%s", got, want)
	}
}

func TestExplainShowsSegmentPruning(t *testing.T) {
	db := openTiersDB(t, t.TempDir())
	defer db.Close()
	if err := db.Write(context.Background(), tiersPoints()); err != nil {
		t.Fatal(err)
	}
	compactUntil(t, db, tiersDay0.Add(100*time.Hour))
	for _, c := range []struct{ q, want string }{
		{`EXPLAIN SELECT count(*) FROM cpu`, "segments: 3 of 3 scanned (0 pruned by time range)"},
		{`EXPLAIN SELECT count(*) FROM cpu WHERE time >= '2024-01-02 00:00:00+00' AND time < '2024-01-02 01:00:00+00'`, "segments: 1 of 3 scanned (2 pruned by time range)"},
		// Rows are sorted by tags: host h3's rows sit in two of the day's
		// five row groups.
		{`EXPLAIN SELECT count(*) FROM cpu WHERE host = 'h3' AND time < '2024-01-02 00:00:00+00'`, "row groups: 2 of 5 scanned (3 pruned by time, tag statistics and dictionaries)"},
		{`EXPLAIN SELECT count(*) FROM cpu WHERE host = 'h3'`, "row store: 1 series"},
	} {
		got := dumpQuery(t, db, c.q)
		if !strings.Contains(got, c.want) {
			t.Errorf("%s:\n%s\nwant a line %q", c.q, got, c.want)
		}
	}
}

// TestRetentionDropsExpiredPartitions sets a table's TTL and checks that
// exactly the partitions whose whole day is older than now minus the TTL
// go, in both tiers, and that a refused schema change says why.
func TestRetentionDropsExpiredPartitions(t *testing.T) {
	ctx := context.Background()
	db := openTiersDB(t, t.TempDir())
	defer db.Close()
	now := time.Now().UTC()
	today := now.Truncate(24 * time.Hour)
	var pts []Point
	for d := 0; d < 7; d++ {
		day := today.Add(-time.Duration(d) * 24 * time.Hour)
		for h := 0; h < 24; h += 2 {
			ts := day.Add(time.Duration(h) * time.Hour)
			if ts.After(now) {
				continue
			}
			pts = append(pts, Point{Table: "m", Tags: map[string]string{"s": "a"}, Fields: map[string]any{"v": float64(d)}, Time: ts})
		}
	}
	pts = append(pts, Point{Table: "keep", Fields: map[string]any{"v": 1.0}, Time: today.Add(-6 * 24 * time.Hour)})
	if err := db.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	// Days 5 and 6 ago into segments; the rest stays in the row store.
	compactUntil(t, db, today.Add(-4*24*time.Hour))
	err := db.AlterTable(ctx, &schema.Alter{Tenant: schema.DefaultTenant, Table: "m", Ops: []schema.AlterOp{{Op: schema.OpDropColumn, Column: "nope"}}})
	var ae *AlterError
	if !errors.As(err, &ae) || !strings.Contains(err.Error(), "nope") || ae.SQLState() != "42703" {
		t.Fatalf("refused change: %v", err)
	}
	ttl := 3*24*time.Hour + time.Hour
	if got := dumpQuery(t, db, `ALTER TABLE m SET (ttl = '73 hours')`); got != "(0 rows)\n" {
		t.Fatalf("ALTER TABLE: %q", got)
	}
	if tn, _ := db.cat.Tenant(schema.DefaultTenant); true {
		if m, _ := db.cat.Table(tn.ID, schema.DefaultDatabase, "m"); m.TTL != int64(ttl) {
			t.Fatalf("TTL %v", time.Duration(m.TTL))
		}
	}
	sum, err := db.Compact(ctx, CompactRequest{Cutoff: today.Add(-4 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	// Expired: days whose last instant is before now - ttl.
	expiry := now.Add(-ttl)
	want := 0
	wantDropped := 0
	for d := 0; d < 7; d++ {
		day := today.Add(-time.Duration(d) * 24 * time.Hour)
		if day.Add(24*time.Hour - 1).Before(expiry) {
			wantDropped++
			continue
		}
		for h := 0; h < 24; h += 2 {
			if !day.Add(time.Duration(h) * time.Hour).After(now) {
				want++
			}
		}
	}
	if sum.Dropped != wantDropped || wantDropped < 3 {
		t.Fatalf("dropped %d partitions, want %d", sum.Dropped, wantDropped)
	}
	if got := dumpQuery(t, db, `SELECT count(*) FROM m`); got != fmt.Sprintf("%d\n(1 rows)\n", want) {
		t.Fatalf("rows left: %s want %d", got, want)
	}
	if got := dumpQuery(t, db, `SELECT count(*) FROM fineo.segments WHERE table_name = 'm'`); got != "0\n(1 rows)\n" {
		t.Fatalf("segments of m left: %s", got)
	}
	// Last point per series comes from the latest index or the row
	// store, and agrees with a plain max(time).
	if a, b := dumpQuery(t, db, `SELECT DISTINCT ON (s) s, time FROM m ORDER BY s, time DESC`), dumpQuery(t, db, `SELECT s, max(time) FROM m GROUP BY s`); a != b {
		t.Fatalf("last point %s vs max %s", a, b)
	}
	if got := dumpQuery(t, db, `SELECT count(*) FROM keep`); got != "1\n(1 rows)\n" {
		t.Fatalf("a table without TTL lost rows: %s", got)
	}
}

// TestSmallSegmentsAreMerged compacts an open day hour by hour: each pass
// adds a small segment until MaxSegmentsPerPartition, which merges them;
// once the day is closed it ends as one segment.
func TestSmallSegmentsAreMerged(t *testing.T) {
	ctx := context.Background()
	db, err := Open(t.TempDir(), &Options{CompactionInterval: -1, MaxSegmentsPerPartition: 4})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Write(ctx, tiersPoints()); err != nil {
		t.Fatal(err)
	}
	want := dumpAll(t, db)
	tn, _ := db.cat.Tenant(schema.DefaultTenant)
	tbl, _ := db.cat.Table(tn.ID, schema.DefaultDatabase, "cpu")
	day0 := func() int {
		segs, err := db.rows.PartitionSegments(tn.ID, tbl.ID, storage.DayOf(tiersDay0.UnixNano()))
		if err != nil {
			t.Fatal(err)
		}
		return len(segs)
	}
	var counts []int
	for h := 1; h <= 6; h++ {
		compactUntil(t, db, tiersDay0.Add(time.Duration(h)*time.Hour))
		counts = append(counts, day0())
	}
	// Passes 1-3 add segments; pass 4 finds 3 (< 4) and adds a fourth;
	// pass 5 finds 4 and merges them with its points into one.
	if fmt.Sprint(counts) != "[1 2 3 4 1 2]" {
		t.Fatalf("segments of day 0 after each pass: %v", counts)
	}
	compareDumps(t, "small segments", want, dumpAll(t, db))
	compactUntil(t, db, tiersDay0.Add(30*time.Hour))
	if n := day0(); n != 1 {
		t.Fatalf("a closed day has %d segments", n)
	}
	compareDumps(t, "closed day merged", want, dumpAll(t, db))
}

func TestSchemaHistoryTable(t *testing.T) {
	db := openTiersDB(t, t.TempDir())
	defer db.Close()
	if err := db.Write(context.Background(), []Point{{Table: "thermo", Tags: map[string]string{"device": "a"}, Fields: map[string]any{"temp": 21.5}, Time: tiersDay0}}); err != nil {
		t.Fatal(err)
	}
	dumpQuery(t, db, `ALTER TABLE thermo RENAME COLUMN temp TO temperature_c`)
	dumpQuery(t, db, `ALTER TABLE thermo SET (ttl = '30 days')`)
	got := dumpQuery(t, db, `SELECT version, table_name, database, change, statement FROM fineo.schema_history ORDER BY version`)
	if !strings.Contains(got, "1 thermo fineo rename column temp to temperature_c ALTER TABLE thermo RENAME COLUMN temp TO temperature_c") ||
		!strings.Contains(got, "2 thermo fineo") || !strings.Contains(got, "(2 rows)") {
		t.Fatalf("fineo.schema_history:\n%s", got)
	}
}

func TestErrorRetention(t *testing.T) {
	ctx := context.Background()
	db := openTiersDB(t, t.TempDir())
	defer db.Close()
	if err := db.Write(ctx, []Point{{Table: "m", Fields: map[string]any{"v": 1.0}, Time: tiersDay0}}); err != nil {
		t.Fatal(err)
	}
	tn, _ := db.cat.Tenant(schema.DefaultTenant)
	now := time.Now()
	if err := db.rows.PutErrors(tn.ID, []schema.ErrorRow{
		{Time: now.Add(-31 * 24 * time.Hour).UnixNano(), Stage: schema.StageIngest, Kind: schema.KindBadInput, Message: "old"},
		{Time: now.Add(-29 * 24 * time.Hour).UnixNano(), Stage: schema.StageIngest, Kind: schema.KindBadInput, Message: "recent"},
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Compact(ctx, CompactRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := dumpQuery(t, db, `SELECT message FROM fineo.errors`); got != "recent\n(1 rows)\n" {
		t.Fatalf("errors after retention: %s", got)
	}
}

// TestFailedCompactionIsRecordedAndRetried: a compaction that cannot
// write its segment leaves everything as it was, records a processing
// error, and the next pass succeeds.
func TestFailedCompactionIsRecordedAndRetried(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := openTiersDB(t, dir)
	defer db.Close()
	if err := db.Write(ctx, tiersPoints()); err != nil {
		t.Fatal(err)
	}
	want := dumpAll(t, db)
	// A file where the table's segment directory must go.
	blocker := filepath.Join(dir, "segments", "tenant=default", "database=fineo", "table=cpu")
	if err := os.MkdirAll(filepath.Dir(blocker), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blocker, []byte("not a directory"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, err := db.Compact(ctx, CompactRequest{Cutoff: tiersDay0.Add(100 * time.Hour)})
	if err != nil || sum.Failed != 3 || sum.Segments != 0 {
		t.Fatalf("blocked compaction: %+v %v", sum, err)
	}
	compareDumps(t, "after a failed compaction", want, dumpAll(t, db))
	if got := dumpQuery(t, db, `SELECT count(*), min(kind), min(table_name) FROM fineo.errors WHERE stage = 'compact' AND message LIKE '%will be retried%'`); got != "3 processing cpu\n(1 rows)\n" {
		t.Fatalf("compaction errors: %s", got)
	}
	if err := os.Remove(blocker); err != nil {
		t.Fatal(err)
	}
	sum = compactUntil(t, db, tiersDay0.Add(100*time.Hour))
	if sum.Segments != 3 {
		t.Fatalf("retry: %+v", sum)
	}
	compareDumps(t, "after the retry", want, dumpAll(t, db))
}
