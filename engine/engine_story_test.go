package engine

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// segmentSums returns the SHA-256 of every segment file, by path.
func segmentSums(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	filepath.Walk(filepath.Join(dir, "segments"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			out[p] = fmt.Sprintf("%x", sha256.Sum256(b))
		}
		return nil
	})
	return out
}

func sameSums(a, b map[string]string) bool {
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

// TestLateBindingStory is the fleet story of late binding: v1 devices send
// thermo temp in Celsius, v2 send thermostat temperature_f, v2.1 sends it as
// a string. Without rewriting anything the user merges the tables, renames
// temp, converts the Celsius values into the Fahrenheit column, reads the
// strings as numbers (one that is not a number reads as NULL and is
// reported once), and undoes the rename — with the data in the row store,
// and again with it in segments whose files must not change.
func TestLateBindingStory(t *testing.T) {
	for _, compacted := range []bool{false, true} {
		t.Run(fmt.Sprintf("compacted=%v", compacted), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			db := openTiersDB(t, dir)
			defer db.Close()
			t0 := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
			pts := []Point{
				{Table: "thermo", Tags: map[string]string{"device": "a"}, Fields: map[string]any{"temp": 21.5}, Time: t0},
				{Table: "thermo", Tags: map[string]string{"device": "a"}, Fields: map[string]any{"temp": 20.0}, Time: t0.Add(time.Minute)},
				{Table: "thermostat", Tags: map[string]string{"device": "b"}, Fields: map[string]any{"temperature_f": 70.7}, Time: t0},
				{Table: "thermostat", Tags: map[string]string{"device": "b"}, Fields: map[string]any{"temperature_f": "71.2"}, Time: t0.Add(time.Minute)},
				{Table: "thermostat", Tags: map[string]string{"device": "c"}, Fields: map[string]any{"temperature_f": "n/a"}, Time: t0.Add(2 * time.Minute)},
			}
			if err := db.Write(ctx, pts); err != nil {
				t.Fatal(err)
			}
			if compacted {
				compactUntil(t, db, t0.Add(24*time.Hour))
			}
			sums := segmentSums(t, dir)
			if compacted && len(sums) != 2 {
				t.Fatalf("segments: %v", sums)
			}
			step := func(name, stmt string) {
				t.Helper()
				if stmt != "" {
					dumpQuery(t, db, stmt)
				}
				if got := segmentSums(t, dir); !sameSums(got, sums) {
					t.Fatalf("%s changed the segment files", name)
				}
			}
			expect := func(q, want string) {
				t.Helper()
				if got := dumpQuery(t, db, q); got != want {
					t.Fatalf("%s:\n%s\nwant:\n%s", q, got, want)
				}
			}
			// 1. One table: thermo's rows read as thermostat's.
			step("add table alias", `SELECT fineo.add_table_alias('thermostat', 'thermo')`)
			expect(`SELECT device, count(*) FROM thermostat GROUP BY device ORDER BY device`, "a 2\nb 2\nc 1\n(3 rows)\n")
			expect(`SELECT count(*) FROM thermo`, "5\n(1 rows)\n")
			// 2. Rename; the old name keeps working.
			step("rename", `ALTER TABLE thermostat RENAME COLUMN temp TO temperature_c`)
			expect(`SELECT device, temperature_c FROM thermostat WHERE temperature_c IS NOT NULL ORDER BY time`, "a 21.5\na 20\n(2 rows)\n")
			expect(`SELECT device, temp FROM thermostat WHERE temp IS NOT NULL ORDER BY time`, "a 21.5\na 20\n(2 rows)\n")
			// 3. Fahrenheit for every device.
			step("convert", `ALTER TABLE thermostat ALTER COLUMN temperature_f TYPE double precision USING temperature_c * 9 / 5 + 32`)
			// 4. Strings read as numbers; "n/a" reads as NULL.
			expect(`SELECT device, temperature_f FROM thermostat ORDER BY device, time`,
				"a 70.7\na 68\nb 70.7\nb 71.2\nc <nil>\n(5 rows)\n")
			expect(`SELECT device, temperature_f FROM thermostat ORDER BY device, time`,
				"a 70.7\na 68\nb 70.7\nb 71.2\nc <nil>\n(5 rows)\n")
			expect(`SELECT count(*) FROM fineo.errors WHERE stage = 'read' AND message LIKE '%n/a%'`, "1\n(1 rows)\n")
			// 5. History, and undoing the rename.
			expect(`SELECT count(*) FROM fineo.schema_history WHERE table_name = 'thermostat'`, "3\n(1 rows)\n")
			step("undo rename", `ALTER TABLE thermostat RENAME COLUMN temperature_c TO temp`)
			expect(`SELECT device, temp FROM thermostat WHERE temp IS NOT NULL ORDER BY time`, "a 21.5\na 20\n(2 rows)\n")
			cols := dumpQuery(t, db, `SELECT column_name FROM information_schema.columns WHERE table_name = 'thermostat' ORDER BY ordinal_position`)
			if strings.Contains(cols, "temperature_c") || !strings.Contains(cols, "temp\n") {
				t.Fatalf("columns after undo: %s", cols)
			}
			_ = sort.Strings
		})
	}
}

// TestStrictModeUnmapped: in a strict table a new field name gets no
// column; its values read in _unmapped until the user maps it.
func TestStrictModeUnmapped(t *testing.T) {
	ctx := context.Background()
	db := openTiersDB(t, t.TempDir())
	defer db.Close()
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	w := func(f map[string]any, dt time.Duration) {
		t.Helper()
		if err := db.Write(ctx, []Point{{Table: "dev", Tags: map[string]string{"id": "x"}, Fields: f, Time: t0.Add(dt)}}); err != nil {
			t.Fatal(err)
		}
	}
	w(map[string]any{"temp": 20.5}, 0)
	dumpQuery(t, db, `ALTER TABLE dev SET (strict = true)`)
	w(map[string]any{"temp": 21.0, "hum": int64(40), "fw": "2.1"}, time.Minute)
	if got := dumpQuery(t, db, `SELECT column_name FROM information_schema.columns WHERE table_name = 'dev' ORDER BY ordinal_position`); got != "time\nid\ntemp\n_unmapped\n(4 rows)\n" {
		t.Fatalf("columns of a strict table:\n%s", got)
	}
	if got := dumpQuery(t, db, `SELECT temp, _unmapped FROM dev ORDER BY time`); got != "20.5 <nil>\n21 {\"fw\":\"2.1\",\"hum\":40}\n(2 rows)\n" {
		t.Fatalf("_unmapped:\n%s", got)
	}
	// Map hum: a new column reads it, and _unmapped no longer holds it.
	dumpQuery(t, db, `ALTER TABLE dev ADD COLUMN humidity bigint`)
	dumpQuery(t, db, `SELECT fineo.add_alias('dev', 'humidity', 'hum')`)
	if got := dumpQuery(t, db, `SELECT humidity, _unmapped FROM dev ORDER BY time`); got != "<nil> <nil>\n40 {\"fw\":\"2.1\"}\n(2 rows)\n" {
		t.Fatalf("after mapping hum:\n%s", got)
	}
}

// TestStrictTenant: in a strict tenant writes create no tables (their rows
// go to the errors table, the other rows land) and new tables start strict.
func TestStrictTenant(t *testing.T) {
	ctx := context.Background()
	db := openTiersDB(t, t.TempDir())
	defer db.Close()
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	if err := db.Write(ctx, []Point{{Table: "known", Fields: map[string]any{"v": 1.0}, Time: t0}}); err != nil {
		t.Fatal(err)
	}
	if got := dumpQuery(t, db, `SELECT fineo.set_strict('*', true)`); !strings.Contains(got, "is strict") {
		t.Fatalf("set_strict: %s", got)
	}
	err := db.Write(ctx, []Point{
		{Table: "known", Fields: map[string]any{"v": 2.0}, Time: t0.Add(time.Minute)},
		{Table: "unknown", Tags: map[string]string{"d": "x"}, Fields: map[string]any{"v": 3.0, "s": "a b"}, Time: t0},
	})
	var se *StrictTableError
	if !errors.As(err, &se) || len(se.Lines) != 1 || se.Tables[0] != "unknown" {
		t.Fatalf("write to an unknown table in a strict tenant: %v", err)
	}
	expect := func(q, want string) {
		t.Helper()
		if got := dumpQuery(t, db, q); got != want {
			t.Fatalf("%s:\n%s\nwant:\n%s", q, got, want)
		}
	}
	expect(`SELECT count(*) FROM known`, "2\n(1 rows)\n")
	expect(`SELECT table_name, raw FROM fineo.errors WHERE stage = 'ingest'`, "unknown unknown,d=x s=\"a b\",v=3 1709251200000000000\n(1 rows)\n")
	// CREATE TABLE works, and the new table is strict.
	dumpQuery(t, db, `CREATE TABLE unknown (time timestamptz, d text, v double precision) WITH (tags = 'd')`)
	if err := db.Write(ctx, []Point{{Table: "unknown", Tags: map[string]string{"d": "x"}, Fields: map[string]any{"v": 3.0, "s": "a b"}, Time: t0}}); err != nil {
		t.Fatal(err)
	}
	expect(`SELECT v, _unmapped FROM unknown`, "3 {\"s\":\"a b\"}\n(1 rows)\n")
}

// TestLateBindingEdgeCases: last point per series through converted and
// aliased columns; a cursor and a plan made before a type change; a
// strict write spanning databases.
func TestLateBindingEdgeCases(t *testing.T) {
	ctx := context.Background()
	db := openTiersDB(t, t.TempDir())
	defer db.Close()
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	var pts []Point
	for i := 0; i < 3; i++ {
		for _, h := range []string{"a", "b"} {
			pts = append(pts, Point{Table: "m", Tags: map[string]string{"host": h}, Fields: map[string]any{"c": float64(i + 1)}, Time: t0.Add(time.Duration(i) * time.Minute)})
		}
	}
	if err := db.Write(ctx, pts); err != nil {
		t.Fatal(err)
	}
	dumpQuery(t, db, `ALTER TABLE m ALTER COLUMN c TYPE double precision USING c * 2`)
	dumpQuery(t, db, `ALTER TABLE m RENAME COLUMN c TO d`)
	for _, compacted := range []bool{false, true} {
		if compacted {
			compactUntil(t, db, t0.Add(48*time.Hour))
		}
		if got := dumpQuery(t, db, `SELECT DISTINCT ON (host) host, d, c FROM m ORDER BY host, time DESC`); got != "a 6 6\nb 6 6\n(2 rows)\n" {
			t.Fatalf("last point through a converted, renamed column (compacted=%v):\n%s", compacted, got)
		}
	}
	// Strict tenant: the rows of the other database are stored.
	dumpQuery(t, db, `SELECT fineo.set_strict('*', true)`)
	err := db.Write(ctx, []Point{
		{Database: "a", Table: "nope", Fields: map[string]any{"v": 1.0}, Time: t0},
		{Table: "m", Tags: map[string]string{"host": "c"}, Fields: map[string]any{"c": 1.0}, Time: t0},
	})
	var se *StrictTableError
	if !errors.As(err, &se) {
		t.Fatalf("strict write: %v", err)
	}
	if got := dumpQuery(t, db, `SELECT count(*) FROM m WHERE host = 'c'`); got != "1\n(1 rows)\n" {
		t.Fatalf("rows of the other database: %s", got)
	}
}
