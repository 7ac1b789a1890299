package main

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// These tests drive the late-binding story (DESIGN.md section 1) through
// the real binary: line protocol over HTTP, SQL over the Postgres wire
// protocol with pgx (extended protocol, statement cache), compaction over
// the HTTP API, restarts after SIGTERM and SIGKILL.

var storyT0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

// storyNS is storyT0 plus d, in nanoseconds since the epoch.
func storyNS(d time.Duration) int64 { return storyT0.Add(d).UnixNano() }

// storyServer is a running fineod with its Postgres wire address.
type storyServer struct {
	*server
	pgAddr string
	dir    string
}

func startStoryServer(t *testing.T, bin, dir string) *storyServer {
	t.Helper()
	pgAddr := freeAddr(t)
	s := startServer(t, bin, dir, "--pg-addr", pgAddr, "--compaction-interval", "-1s")
	return &storyServer{server: s, pgAddr: pgAddr, dir: dir}
}

// stop ends the server with SIGTERM and checks that it exits cleanly.
func (s *storyServer) stop(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("graceful shutdown: %v\n%s", err, s.stderr.String())
	}
}

// storyWrite posts line protocol to database db; every line must be
// accepted (204).
func storyWrite(t *testing.T, addr, db, lines string) {
	t.Helper()
	if status, body := storyPost(addr, db, lines); status != http.StatusNoContent {
		t.Fatalf("write %q: %d %s", lines, status, body)
	}
}

func storyPost(addr, db, lines string) (int, string) {
	client := &http.Client{Timeout: 30 * time.Second}
	resp, err := client.Post("http://"+addr+"/write?db="+db, "text/plain", strings.NewReader(lines))
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func storyConnect(t *testing.T, pgAddr, db string) *pgx.Conn {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "postgres://fineo@"+pgAddr+"/"+db+"?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

// storyFormat prints one value: NULL, integers and floats in their
// shortest form with their Go type's kind, text quoted.
func storyFormat(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case int16, int32, int64:
		return fmt.Sprintf("%d", x)
	case float32:
		return strconv.FormatFloat(float64(x), 'g', -1, 32)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		return strconv.Quote(x)
	case []byte:
		return strconv.Quote(string(x))
	case bool:
		return strconv.FormatBool(x)
	case time.Time:
		return x.UTC().Format(time.RFC3339Nano)
	}
	return fmt.Sprintf("%T(%v)", v, v)
}

// storyQuery runs q and returns its result as text: a header line with
// the column names, one line per row, and the row count.
func storyQuery(ctx context.Context, conn *pgx.Conn, q string, args ...any) (string, error) {
	rows, err := conn.Query(ctx, q, args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	var b strings.Builder
	var names []string
	for _, f := range rows.FieldDescriptions() {
		names = append(names, f.Name)
	}
	b.WriteString(strings.Join(names, " | "))
	b.WriteString("\n")
	n := 0
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return "", err
		}
		parts := make([]string, len(vals))
		for i, v := range vals {
			parts[i] = storyFormat(v)
		}
		b.WriteString(strings.Join(parts, " | "))
		b.WriteString("\n")
		n++
	}
	if err := rows.Err(); err != nil {
		return "", err
	}
	fmt.Fprintf(&b, "(%d rows)\n", n)
	return b.String(), nil
}

func mustQuery(t *testing.T, conn *pgx.Conn, q string) string {
	t.Helper()
	got, err := storyQuery(context.Background(), conn, q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return got
}

// expectQuery runs q and compares its result with want (lines joined
// with newlines, the row count appended).
func expectQuery(t *testing.T, conn *pgx.Conn, q string, want ...string) string {
	t.Helper()
	got := mustQuery(t, conn, q)
	w := strings.Join(want, "\n") + fmt.Sprintf("\n(%d rows)\n", len(want)-1)
	if got != w {
		t.Fatalf("%s\ngot:\n%swant:\n%s", q, got, w)
	}
	return got
}

func mustExec(t *testing.T, conn *pgx.Conn, stmt string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), stmt); err != nil {
		t.Fatalf("%s: %v", stmt, err)
	}
}

// segmentHashes returns the SHA-256 of every file under dir/segments.
func segmentHashes(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.Walk(filepath.Join(dir, "segments"), func(p string, info os.FileInfo, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		if info.IsDir() {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out[p] = fmt.Sprintf("%x", sha256.Sum256(b))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func sameHashes(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// TestFleetStoryEndToEnd is the fleet story of late binding through the
// binary: v1 devices send thermo temp in Celsius, v2 devices thermostat
// temperature_f, v2.1 sends it as a string. Over SQL the user merges the
// tables, renames temp, converts the Celsius values into the Fahrenheit
// column, reads the strings as numbers ("n/a" reads as NULL and is
// reported once) and undoes the rename: once with the data in the row
// store, once with it compacted into segments whose files must not change.
// Both runs must answer the same.
func TestFleetStoryEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	results := map[bool][]string{}
	for _, compacted := range []bool{false, true} {
		t.Run(fmt.Sprintf("compacted=%v", compacted), func(t *testing.T) {
			results[compacted] = fleetStory(t, bin, compacted)
		})
	}
	a, b := results[false], results[true]
	if len(a) == 0 || len(b) == 0 {
		return // a subtest failed
	}
	if len(a) != len(b) {
		t.Fatalf("the runs made %d and %d queries", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("query %d answers differently in the row store and in segments:\n%s\nvs\n%s", i, a[i], b[i])
		}
	}
}

func fleetStory(t *testing.T, bin string, compacted bool) []string {
	dir := t.TempDir()
	s := startStoryServer(t, bin, dir)
	defer s.kill9(t)
	storyWrite(t, s.addr, "fleet", fmt.Sprintf(
		"thermo,device=a temp=21.5 %d\n"+
			"thermo,device=a temp=20 %d\n"+
			"thermostat,device=b temperature_f=70.7 %d\n"+
			"thermostat,device=b temperature_f=\"71.2\" %d\n"+
			"thermostat,device=c temperature_f=\"n/a\" %d\n",
		storyNS(0), storyNS(time.Minute), storyNS(0), storyNS(time.Minute), storyNS(2*time.Minute)))
	if compacted {
		compactServer(t, s.addr, "hot_window=0s")
	}
	conn := storyConnect(t, s.pgAddr, "fleet")
	var out []string
	expect := func(q string, want ...string) {
		t.Helper()
		out = append(out, expectQuery(t, conn, q, want...))
	}
	sums := segmentHashes(t, dir)
	if compacted && len(sums) != 2 {
		t.Fatalf("after compaction: %d segment files, want 2 (thermo and thermostat): %v", len(sums), sums)
	}
	if !compacted && len(sums) != 0 {
		t.Fatalf("segment files without compaction: %v", sums)
	}
	step := func(name, stmt string) {
		t.Helper()
		mustExec(t, conn, stmt)
		if got := segmentHashes(t, dir); !sameHashes(got, sums) {
			t.Fatalf("%s (%s) changed the segment files:\nbefore %v\nafter  %v", name, stmt, sums, got)
		}
	}
	expect(`SELECT device, count(*) FROM thermostat GROUP BY device ORDER BY device`,
		"device | count", `"b" | 2`, `"c" | 1`)

	// 1. One table: thermo's rows read as thermostat's, and a new write to
	// thermo lands in the same logical table.
	step("add table alias", `SELECT fineo.add_table_alias('thermostat','thermo')`)
	expect(`SELECT device, count(*) FROM thermostat GROUP BY device ORDER BY device`,
		"device | count", `"a" | 2`, `"b" | 2`, `"c" | 1`)
	storyWrite(t, s.addr, "fleet", fmt.Sprintf("thermo,device=d temp=25 %d\n", storyNS(3*time.Minute)))
	expect(`SELECT device, count(*) FROM thermostat GROUP BY device ORDER BY device`,
		"device | count", `"a" | 2`, `"b" | 2`, `"c" | 1`, `"d" | 1`)
	expect(`SELECT count(*) FROM thermo`, "count", "6")
	if got := segmentHashes(t, dir); !sameHashes(got, sums) {
		t.Fatalf("a write after the alias changed the segment files")
	}

	// 2. Rename; the old name keeps working.
	step("rename", `ALTER TABLE thermostat RENAME COLUMN temp TO temperature_c`)
	expect(`SELECT device, temperature_c FROM thermostat WHERE temperature_c IS NOT NULL ORDER BY time, device`,
		"device | temperature_c", `"a" | 21.5`, `"a" | 20`, `"d" | 25`)
	expect(`SELECT device, temp FROM thermostat WHERE temp IS NOT NULL ORDER BY time, device`,
		"device | temp", `"a" | 21.5`, `"a" | 20`, `"d" | 25`)
	expect(`SELECT device, temp FROM thermo WHERE temp > 20.5`, "device | temp", `"a" | 21.5`, `"d" | 25`)

	// 3. Fahrenheit for every device; 4. strings read as numbers, "n/a"
	// as NULL, reported once however often it is read.
	step("convert", `ALTER TABLE thermostat ALTER COLUMN temperature_f TYPE double precision USING temperature_c * 9 / 5 + 32`)
	fahrenheit := []string{"device | temperature_f", `"a" | 70.7`, `"a" | 68`, `"b" | 70.7`, `"b" | 71.2`, `"c" | NULL`, `"d" | 77`}
	expect(`SELECT device, temperature_f FROM thermostat ORDER BY device, time`, fahrenheit...)
	expect(`SELECT device, temperature_f FROM thermostat ORDER BY device, time`, fahrenheit...)
	expect(`SELECT stage, kind, database, table_name FROM fineo.errors`,
		"stage | kind | database | table_name", `"read" | "bad_input" | "fleet" | "thermostat"`)
	expect(`SELECT count(*) FROM fineo.errors WHERE stage = 'read' AND raw LIKE '%n/a%'`, "count", "1")
	expect(`SELECT device, temperature_f FROM thermostat WHERE temperature_f > 70 ORDER BY temperature_f, device`,
		"device | temperature_f", `"a" | 70.7`, `"b" | 70.7`, `"b" | 71.2`, `"d" | 77`)
	expect(`SELECT count(*) FROM fineo.errors`, "count", "1")

	// 5. History, and undoing the rename.
	history := []string{"table_name | change | statement",
		`"thermostat" | "add table alias thermo (merges table thermo)" | "SELECT fineo.add_table_alias('thermostat','thermo')"`,
		`"thermostat" | "rename column temp to temperature_c" | "ALTER TABLE thermostat RENAME COLUMN temp TO temperature_c"`,
		`"thermostat" | "alter column temperature_f type double precision using ((temperature_c * 9) / 5) + 32" | "ALTER TABLE thermostat ALTER COLUMN temperature_f TYPE double precision USING temperature_c * 9 / 5 + 32"`}
	expect(`SELECT table_name, change, statement FROM fineo.schema_history ORDER BY version`, history...)
	step("undo rename", `ALTER TABLE thermostat RENAME COLUMN temperature_c TO temp`)
	history = append(history, `"thermostat" | "rename column temperature_c to temp" | "ALTER TABLE thermostat RENAME COLUMN temperature_c TO temp"`)
	expect(`SELECT table_name, change, statement FROM fineo.schema_history ORDER BY version`, history...)
	expect(`SELECT device, temp FROM thermostat WHERE temp IS NOT NULL ORDER BY time, device`,
		"device | temp", `"a" | 21.5`, `"a" | 20`, `"d" | 25`)
	expect(`SELECT device, temperature_f FROM thermostat ORDER BY device, time`, fahrenheit...)
	expect(`SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'thermostat' ORDER BY ordinal_position`,
		"column_name | data_type", `"time" | "timestamp with time zone"`, `"device" | "text"`, `"temperature_f" | "double precision"`, `"temp" | "double precision"`)
	expect(`SELECT count(*) FROM fineo.errors`, "count", "1")
	if got := segmentHashes(t, dir); !sameHashes(got, sums) {
		t.Fatalf("the story's queries changed the segment files")
	}
	return out
}

// TestPreparedStatementReplannedAfterRename prepares a statement over the
// extended protocol, changes the schema from another connection, and
// executes it again: a rename keeps it working (the old name is an alias),
// a drop makes it fail with 42703, and a restore brings it back.
func TestPreparedStatementReplannedAfterRename(t *testing.T) {
	bin := buildBinary(t)
	s := startStoryServer(t, bin, t.TempDir())
	defer s.kill9(t)
	storyWrite(t, s.addr, "prep", fmt.Sprintf("thermo,device=a temp=21.5 %d\nthermo,device=b temp=19 %d\nthermo,device=a temp=20 %d\n",
		storyNS(0), storyNS(time.Minute), storyNS(2*time.Minute)))
	ctx := context.Background()
	conn := storyConnect(t, s.pgAddr, "prep")
	admin := storyConnect(t, s.pgAddr, "prep")
	if _, err := conn.Prepare(ctx, "by_temp", `SELECT device, temp FROM thermo ORDER BY time`); err != nil {
		t.Fatal(err)
	}
	want := []string{"device | temp", `"a" | 21.5`, `"b" | 19`, `"a" | 20`}
	expectQuery(t, conn, "by_temp", want...)

	mustExec(t, admin, `ALTER TABLE thermo RENAME COLUMN temp TO temperature_c`)
	expectQuery(t, conn, "by_temp", want...)
	expectQuery(t, conn, "by_temp", want...)
	if _, err := conn.Prepare(ctx, "by_c", `SELECT device, temperature_c FROM thermo ORDER BY time`); err != nil {
		t.Fatal(err)
	}
	wantC := []string{"device | temperature_c", `"a" | 21.5`, `"b" | 19`, `"a" | 20`}
	expectQuery(t, conn, "by_c", wantC...)
	// The statement cache of pgx prepares these on first use.
	expectQuery(t, conn, `SELECT device, temperature_c FROM thermo WHERE device = 'a' ORDER BY time`,
		"device | temperature_c", `"a" | 21.5`, `"a" | 20`)

	mustExec(t, admin, `ALTER TABLE thermo DROP COLUMN temperature_c`)
	for _, name := range []string{"by_temp", "by_c"} {
		got, err := storyQuery(ctx, conn, name)
		if err == nil || sqlState(err) != "42703" {
			t.Errorf("prepared %s after DROP COLUMN: got %q, err %v; want SQLSTATE 42703", name, got, err)
		}
	}
	// The connection is still usable.
	expectQuery(t, conn, `SELECT count(*) FROM thermo`, "count", "3")

	mustExec(t, admin, `SELECT fineo.restore_column('thermo','temperature_c')`)
	expectQuery(t, conn, "by_temp", want...)
	expectQuery(t, conn, "by_c", wantC...)
}

// schemaSnapshot is what must survive a restart: the columns SQL sees,
// the schema history and query results through renamed and converted
// columns.
func schemaSnapshot(t *testing.T, conn *pgx.Conn) []string {
	t.Helper()
	qs := []string{
		`SELECT table_name, column_name, data_type, ordinal_position FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
		`SELECT table_name, version, "user", change, statement FROM fineo.schema_history ORDER BY table_name, version`,
		`SELECT time, device, temperature_c, temperature_f FROM thermostat ORDER BY time, device, temperature_c NULLS FIRST, temperature_f`,
		`SELECT time, device, temp FROM thermo WHERE temp IS NOT NULL ORDER BY time, device`,
		`SELECT device, count(*), sum(temperature_f) FROM thermostat GROUP BY device ORDER BY device`,
		`SELECT device, level FROM tank ORDER BY time, device`,
		`SELECT count(*) FROM fineo.errors`,
	}
	var out []string
	for _, q := range qs {
		out = append(out, q+"\n"+mustQuery(t, conn, q))
	}
	return out
}

func sameSnapshot(t *testing.T, when string, before, after []string) {
	t.Helper()
	if len(before) != len(after) {
		t.Fatalf("%s: %d results, want %d", when, len(after), len(before))
	}
	for i := range before {
		if before[i] == after[i] {
			continue
		}
		a, b := strings.Split(after[i], "\n"), strings.Split(before[i], "\n")
		for j := 0; j < len(a) && j < len(b); j++ {
			if a[j] != b[j] {
				t.Fatalf("%s: %s\nline %d is %q, was %q", when, a[0], j, a[j], b[j])
			}
		}
		t.Fatalf("%s: %s\n%d lines, were %d", when, a[0], len(a), len(b))
	}
}

// TestSchemaChangesSurviveRestart makes schema changes while writes go on,
// then checks that the catalog, the history and the answers are the same
// after a graceful restart and after a kill -9 (both replay the log).
func TestSchemaChangesSurviveRestart(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	s := startStoryServer(t, bin, dir)
	storyWrite(t, s.addr, "plant", fmt.Sprintf(
		"thermo,device=a temp=21.5 %d\n"+
			"thermo,device=a temp=20 %d\n"+
			"thermostat,device=b temperature_f=70.7,humidity=40i %d\n"+
			"thermostat,device=b temperature_f=\"71.2\",humidity=41i %d\n"+
			"tank,device=t level=3i %d\n",
		storyNS(0), storyNS(time.Minute), storyNS(0), storyNS(time.Minute), storyNS(0)))

	// A writer goes on during the schema changes: device w, one point a
	// second from t0+1h into both tables, each batch acknowledged with 204.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	var mu sync.Mutex
	acked, failed := 0, ""
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 0; ctx.Err() == nil; n += 5 {
			var b strings.Builder
			for i := n; i < n+5; i++ {
				ts := storyNS(time.Hour + time.Duration(i)*time.Second)
				fmt.Fprintf(&b, "thermo,device=w temp=%d.25 %d\n", i%40, ts)
				fmt.Fprintf(&b, "thermostat,device=w temperature_f=%d.5 %d\n", 50+i%40, ts)
			}
			status, body := storyPost(s.addr, "plant", b.String())
			mu.Lock()
			if status != http.StatusNoContent {
				failed = fmt.Sprintf("%d %s", status, body)
				mu.Unlock()
				return
			}
			acked += 5
			mu.Unlock()
			time.Sleep(2 * time.Millisecond)
		}
	}()
	conn := storyConnect(t, s.pgAddr, "plant")
	for _, stmt := range []string{
		`SELECT fineo.add_table_alias('thermostat','thermo')`,
		`ALTER TABLE thermostat RENAME COLUMN temp TO temperature_c`,
		`ALTER TABLE thermostat ALTER COLUMN temperature_f TYPE double precision USING temperature_c * 9 / 5 + 32`,
		`ALTER TABLE thermostat DROP COLUMN humidity`,
		`ALTER TABLE tank ALTER COLUMN level TYPE double precision USING level / 2.0`,
		`ALTER TABLE tank SET (ttl = '3650 days')`,
		`SELECT fineo.set_ttl('thermostat', '3650 days')`,
	} {
		mustExec(t, conn, stmt)
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	cancel()
	wg.Wait()
	if failed != "" {
		t.Fatalf("a concurrent write was refused: %s", failed)
	}
	if acked < 10 {
		t.Fatalf("only %d points per table written concurrently", acked)
	}
	// Every acknowledged point of the writer is there, in both tables.
	expectQuery(t, conn, `SELECT count(*), count(temperature_c), count(temperature_f) FROM thermostat WHERE device = 'w'`,
		"count | count | count", fmt.Sprintf("%d | %d | %d", 2*acked, acked, 2*acked))
	expectQuery(t, conn, `SELECT device, level FROM tank`, "device | level", `"t" | 1.5`)
	expectQuery(t, conn, `SELECT change, statement FROM fineo.schema_history WHERE table_name = 'tank' ORDER BY version`,
		"change | statement",
		`"alter column level type double precision using level / 2.0" | "ALTER TABLE tank ALTER COLUMN level TYPE double precision USING level / 2.0"`,
		`"set ttl 87600h0m0s" | "ALTER TABLE tank SET (ttl = '3650 days')"`)
	before := schemaSnapshot(t, conn)
	if !strings.Contains(before[0], `"thermostat" | "temperature_c" | "double precision"`) ||
		strings.Contains(before[0], "humidity") || strings.Contains(before[0], `"thermo"`) {
		t.Fatalf("columns before the restart:\n%s", before[0])
	}
	if !strings.HasSuffix(before[1], "\n(7 rows)\n") {
		t.Fatalf("schema history before the restart:\n%s", before[1])
	}
	conn.Close(context.Background())

	s.stop(t)
	s = startStoryServer(t, bin, dir)
	conn = storyConnect(t, s.pgAddr, "plant")
	sameSnapshot(t, "after SIGTERM and restart", before, schemaSnapshot(t, conn))
	if _, err := storyQuery(context.Background(), conn, `SELECT humidity FROM thermostat`); sqlState(err) != "42703" {
		t.Fatalf("the dropped column after the restart: err %v, want SQLSTATE 42703", err)
	}

	// One more change and write after the restart, then kill -9: the
	// replay must bring back this state too.
	mustExec(t, conn, `SELECT fineo.add_alias('thermostat','temperature_f','temp_f')`)
	storyWrite(t, s.addr, "plant", fmt.Sprintf("thermostat,device=v temp_f=80 %d\n", storyNS(2*time.Minute)))
	expectQuery(t, conn, `SELECT device, temperature_f FROM thermostat WHERE device = 'v'`, "device | temperature_f", `"v" | 80`)
	before = schemaSnapshot(t, conn)
	if !strings.HasSuffix(before[1], "\n(8 rows)\n") {
		t.Fatalf("schema history before kill -9:\n%s", before[1])
	}
	conn.Close(context.Background())
	s.kill9(t)
	s = startStoryServer(t, bin, dir)
	defer s.kill9(t)
	conn = storyConnect(t, s.pgAddr, "plant")
	sameSnapshot(t, "after kill -9 and restart", before, schemaSnapshot(t, conn))
	expectQuery(t, conn, `SELECT device, temperature_f FROM thermostat WHERE device = 'v'`, "device | temperature_f", `"v" | 80`)
}

// TestTypeDriftEndToEnd writes one field as int, float, string and bool in
// turn and reads it under the type its first write decided, then as text,
// then as double precision: every value reads under the declared type or
// as NULL with exactly one row in fineo.errors.
func TestTypeDriftEndToEnd(t *testing.T) {
	bin := buildBinary(t)
	s := startStoryServer(t, bin, t.TempDir())
	defer s.kill9(t)
	for i, v := range []string{"1i", "2.5", `"3"`, `"x"`, "true"} {
		storyWrite(t, s.addr, "drift", fmt.Sprintf("drift v=%s %d\n", v, storyNS(time.Duration(i)*time.Second)))
	}
	conn := storyConnect(t, s.pgAddr, "drift")
	const q = `SELECT time, v FROM drift ORDER BY time`
	ts := func(i int) string { return storyT0.Add(time.Duration(i) * time.Second).Format(time.RFC3339Nano) }
	row := func(i int, v string) string { return ts(i) + " | " + v }
	typeIs := func(typ string) {
		t.Helper()
		expectQuery(t, conn, `SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 'drift' ORDER BY ordinal_position`,
			"column_name | data_type", `"time" | "timestamp with time zone"`, `"v" | "`+typ+`"`)
	}
	// The two failed casts, each reported once.
	errorsAre := func() {
		t.Helper()
		expectQuery(t, conn, `SELECT stage, kind, database, table_name FROM fineo.errors`,
			"stage | kind | database | table_name", `"read" | "bad_input" | "drift" | "drift"`, `"read" | "bad_input" | "drift" | "drift"`)
		expectQuery(t, conn, `SELECT count(*) FROM fineo.errors WHERE raw LIKE '%"value":"x"%'`, "count", "1")
		expectQuery(t, conn, `SELECT count(*) FROM fineo.errors WHERE raw LIKE '%"value":"true"%'`, "count", "1")
	}
	// v is bigint: its first write was an integer. 2.5 rounds half to even
	// as PostgreSQL's float8 -> int8 cast does; "3" casts; "x" does not, and
	// true does not either (PostgreSQL has no boolean -> bigint cast).
	typeIs("bigint")
	asBigint := []string{"time | v", row(0, "1"), row(1, "2"), row(2, "3"), row(3, "NULL"), row(4, "NULL")}
	expectQuery(t, conn, q, asBigint...)
	expectQuery(t, conn, q, asBigint...)
	errorsAre()

	// As text every value reads as written.
	mustExec(t, conn, `ALTER TABLE drift ALTER COLUMN v TYPE text`)
	typeIs("text")
	asText := []string{"time | v", row(0, `"1"`), row(1, `"2.5"`), row(2, `"3"`), row(3, `"x"`), row(4, `"true"`)}
	expectReplanned(t, conn, q, asText...)
	expectQuery(t, conn, q, asText...)
	expectFreshConn(t, s.pgAddr, "drift", q, asText...)
	errorsAre()

	// text -> double precision: '3' is 3, 'x' NULL; a boolean has no cast
	// to double precision and reads NULL. Neither failure is reported a
	// second time: one error row per value.
	mustExec(t, conn, `ALTER TABLE drift ALTER COLUMN v TYPE double precision`)
	typeIs("double precision")
	asDouble := []string{"time | v", row(0, "1"), row(1, "2.5"), row(2, "3"), row(3, "NULL"), row(4, "NULL")}
	expectReplanned(t, conn, q, asDouble...)
	expectQuery(t, conn, q, asDouble...)
	expectFreshConn(t, s.pgAddr, "drift", q, asDouble...)
	expectQuery(t, conn, `SELECT count(v), sum(v) FROM drift`, "count | sum", "3 | 6.5")
	errorsAre()
	expectQuery(t, conn, `SELECT change, statement FROM fineo.schema_history ORDER BY version`, "change | statement",
		`"alter column v type text" | "ALTER TABLE drift ALTER COLUMN v TYPE text"`,
		`"alter column v type double precision" | "ALTER TABLE drift ALTER COLUMN v TYPE double precision"`)
}

// expectReplanned runs q, whose statement pgx prepared (and cached) before
// a change of its result type. PostgreSQL answers the stale statement with
// SQLSTATE 0A000 (cached plan must not change result type) and pgx
// prepares it again; fineod may do the same, or answer correctly at once.
func expectReplanned(t *testing.T, conn *pgx.Conn, q string, want ...string) {
	t.Helper()
	got, err := storyQuery(context.Background(), conn, q)
	if err != nil {
		if sqlState(err) != "0A000" {
			t.Fatalf("%s after its result type changed: %v; want the new rows or SQLSTATE 0A000", q, err)
		}
		got, err = storyQuery(context.Background(), conn, q)
		if err != nil {
			t.Fatalf("%s prepared again: %v", q, err)
		}
	}
	if w := strings.Join(want, "\n") + fmt.Sprintf("\n(%d rows)\n", len(want)-1); got != w {
		t.Fatalf("%s\ngot:\n%swant:\n%s", q, got, w)
	}
}

// expectFreshConn runs q on a new connection.
func expectFreshConn(t *testing.T, pgAddr, db, q string, want ...string) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "postgres://fineo@"+pgAddr+"/"+db+"?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	expectQuery(t, conn, q, want...)
}
