package sql

import (
	"context"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
)

func testEngine(t testing.TB) (*memDB, *Engine, *Session) {
	db := newMemDB()
	tb := db.addTable("fineo", TableInfo{Name: "cpu", Columns: []ColumnInfo{
		{Name: "time", Type: TypeTimestamptz, Kind: KindTime},
		{Name: "hostname", Type: TypeText, Kind: KindTag},
		{Name: "usage_user", Type: TypeFloat8, Kind: KindField},
		{Name: "requests", Type: TypeInt8, Kind: KindField},
	}})
	base := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	for i := range 4 {
		tb.rows = append(tb.rows, []any{base + int64(i)*int64(time.Hour), "h" + string(rune('0'+i%2)), float64(i), int64(i * 10)})
	}
	eng := NewEngine(db, db, db, &Options{Now: func() time.Time { return fixedNow }})
	return db, eng, eng.NewSession("default", "fineo", "u")
}

func queryRows(t testing.TB, s *Session, q string, params ...any) [][]any {
	t.Helper()
	st, err := s.Prepare(context.Background(), q, nil)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	res, err := st.Execute(context.Background(), params)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var out [][]any
	for res.Next() {
		out = append(out, append([]any(nil), res.Row()...))
	}
	return out
}

func sqlState(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "none"
}

func TestParams(t *testing.T) {
	_, _, s := testEngine(t)
	ctx := context.Background()
	st, err := s.Prepare(ctx, "SELECT hostname, usage_user FROM cpu WHERE time >= $1 AND hostname = $2 AND usage_user > $3 ORDER BY time", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.ParamTypes(), []Type{TypeTimestamptz, TypeText, TypeFloat8}; !reflect.DeepEqual(got, want) {
		t.Fatalf("param types %v, want %v", got, want)
	}
	if got := st.Columns(); len(got) != 2 || got[1].Type != TypeFloat8 {
		t.Fatalf("columns %v", got)
	}
	for _, p := range [][]any{
		{time.Date(2016, 1, 1, 1, 0, 0, 0, time.UTC), "h1", 0.5},
		{"2016-01-01T01:00:00Z", []byte("h1"), "0.5"},
	} {
		res, err := st.Execute(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for res.Next() {
			n++
		}
		if n != 2 || res.Tag() != "SELECT 2" {
			t.Fatalf("%v: %d rows, tag %q", p, n, res.Tag())
		}
	}
	if _, err := st.Execute(ctx, []any{"not a time", "h1", 1.0}); sqlState(err) != CodeInvalidDatetime {
		t.Fatalf("bad timestamp param: %v", err)
	}
	if _, err := st.Execute(ctx, []any{nil}); sqlState(err) != CodeProtocolViolation {
		t.Fatalf("wrong param count: %v", err)
	}
	// explicit types win over inference
	st, err = s.Prepare(ctx, "SELECT $1", []Type{TypeInt8})
	if err != nil {
		t.Fatal(err)
	}
	rows, err := st.Execute(ctx, []any{int64(7)})
	if err != nil || !rows.Next() || rows.Row()[0] != int64(7) {
		t.Fatalf("SELECT $1::int8: %v", err)
	}
}

func TestPlanCache(t *testing.T) {
	db, eng, s := testEngine(t)
	q := "SELECT count(*) FROM cpu WHERE hostname = $1"
	for range 3 {
		queryRows(t, s, q, "h0")
	}
	if n := eng.parses.Load(); n != 1 {
		t.Fatalf("parsed %d times, want 1", n)
	}
	// another session shares the cache
	s2 := eng.NewSession("default", "fineo", "v")
	queryRows(t, s2, q, "h0")
	if n := eng.parses.Load(); n != 1 {
		t.Fatalf("parsed %d times, want 1", n)
	}
	// a catalog change rebinds (without parsing again)
	if _, err := s.Prepare(context.Background(), "SELECT * FROM mem", nil); sqlState(err) != CodeUndefinedTable {
		t.Fatalf("want 42P01, got %v", err)
	}
	db.addTable("fineo", TableInfo{Name: "mem", Columns: []ColumnInfo{{Name: "time", Type: TypeTimestamptz, Kind: KindTime}}})
	if rows := queryRows(t, s, "SELECT * FROM mem"); len(rows) != 0 {
		t.Fatalf("rows %v", rows)
	}
	if n := eng.parses.Load(); n != 2 {
		t.Fatalf("parsed %d times, want 2", n)
	}
	// a different database is a different plan
	s3 := eng.NewSession("default", "other", "v")
	if _, err := s3.Prepare(context.Background(), q, nil); sqlState(err) != CodeUndefinedTable {
		t.Fatalf("other database: %v", err)
	}
}

// TestPlanCacheTimeZone: plans are shared between sessions and kept
// across SET TimeZone, so nothing zone-dependent may be folded into them.
func TestPlanCacheTimeZone(t *testing.T) {
	_, eng, utc := testEngine(t)
	ny := eng.NewSession("default", "fineo", "v")
	if err := ny.Set("TimeZone", "America/New_York"); err != nil {
		t.Fatal(err)
	}
	q := `SELECT '2016-01-01 00:00'::timestamptz AS lit, date_trunc('day', time) AS day,
		extract(hour FROM time) AS h, '2016-01-01 00:00'::timestamptz + interval '1 day' AS plus,
		count(*) AS n
		FROM cpu WHERE time >= '2015-12-31 20:00' GROUP BY 2, 3 ORDER BY 2, 3 LIMIT 1`
	utcRow := []any{time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC), 0.0,
		time.Date(2016, 1, 2, 0, 0, 0, 0, time.UTC), int64(1)}
	nyRow := []any{time.Date(2016, 1, 1, 5, 0, 0, 0, time.UTC), time.Date(2015, 12, 31, 5, 0, 0, 0, time.UTC), 20.0,
		time.Date(2016, 1, 2, 5, 0, 0, 0, time.UTC), int64(1)}
	for range 2 {
		for _, c := range []struct {
			s    *Session
			want []any
		}{{utc, utcRow}, {ny, nyRow}} {
			rows := queryRows(t, c.s, q)
			if len(rows) != 1 || !reflect.DeepEqual(rows[0], c.want) {
				t.Fatalf("TimeZone %s: %v, want %v", c.s.settings["TimeZone"], rows, c.want)
			}
		}
	}
	if n := eng.parses.Load(); n != 1 {
		t.Fatalf("parsed %d times, want 1", n)
	}
	// a statement prepared before SET TimeZone follows the new zone
	st, err := utc.Prepare(context.Background(), "SELECT $1::timestamptz, '2016-01-01'::timestamptz", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := utc.Set("TimeZone", "UTC+3"); err != nil {
		t.Fatal(err)
	}
	res, err := st.Execute(context.Background(), []any{"2016-01-01 00:00"})
	if err != nil || !res.Next() {
		t.Fatal(err)
	}
	want := time.Date(2016, 1, 1, 3, 0, 0, 0, time.UTC)
	if got := res.Row(); got[0] != want || got[1] != want {
		t.Fatalf("after SET TimeZone: %v, want %v", got, want)
	}
}

func TestSessionStatements(t *testing.T) {
	_, _, s := testEngine(t)
	ctx := context.Background()
	exec := func(q string) (*Result, error) {
		st, err := s.Prepare(ctx, q, nil)
		if err != nil {
			return nil, err
		}
		return st.Execute(ctx, nil)
	}
	for _, c := range []struct{ q, tag string }{
		{"SET application_name = 'psql'", "SET"},
		{"SET search_path TO public", "SET"},
		{"SET TIME ZONE 'UTC'", "SET"},
		{"BEGIN", "BEGIN"},
		{"START TRANSACTION", "START TRANSACTION"},
		{"COMMIT", "COMMIT"},
		{"ROLLBACK", "ROLLBACK"},
		{"RESET application_name", "RESET"},
		{"", ""},
	} {
		res, err := exec(c.q)
		if err != nil {
			t.Fatalf("%s: %v", c.q, err)
		}
		if res.Tag() != c.tag {
			t.Fatalf("%s: tag %q, want %q", c.q, res.Tag(), c.tag)
		}
	}
	if _, err := exec("SET application_name = 'x'"); err != nil {
		t.Fatal(err)
	}
	if got := s.Settings()["application_name"]; got != "x" {
		t.Fatalf("application_name %q", got)
	}
	if got := s.Settings()["server_version"]; got != "15.0 (fineod)" {
		t.Fatalf("server_version %q", got)
	}
	rows := queryRows(t, s, "SHOW application_name")
	if len(rows) != 1 || rows[0][0] != "x" {
		t.Fatalf("SHOW: %v", rows)
	}
	st, _ := s.Prepare(ctx, "SHOW DateStyle", nil)
	if c := st.Columns(); len(c) != 1 || c[0].Name != "DateStyle" || c[0].Type != TypeText {
		t.Fatalf("SHOW columns %v", c)
	}
	if _, err := exec("SET no_such_thing = 1"); sqlState(err) != CodeUndefinedObject {
		t.Fatalf("unknown setting: %v", err)
	}
	if _, err := exec("SHOW no_such_thing"); sqlState(err) != CodeUndefinedObject {
		t.Fatalf("unknown setting: %v", err)
	}
	if _, err := exec("BEGIN"); err != nil || !s.InTransaction() {
		t.Fatalf("BEGIN: %v", err)
	}
	if _, err := exec("UPDATE t SET x = 1"); sqlState(err) != CodeFeatureNotSupported {
		t.Fatalf("UPDATE: %v", err)
	}
	if _, err := s.Prepare(ctx, "SELECT 1; SELECT 2", nil); sqlState(err) != CodeSyntaxError {
		t.Fatalf("two statements: %v", err)
	}
}

func TestSplit(t *testing.T) {
	_, _, s := testEngine(t)
	got, err := s.Split("SELECT 1; SELECT ';' ;; SET x = 1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[1] != "SELECT ';'" {
		t.Fatalf("split %q", got)
	}
	if _, err := s.Split("SELECT 1; SELEC 2"); sqlState(err) != CodeSyntaxError {
		t.Fatalf("syntax error: %v", err)
	}
}

func TestInsert(t *testing.T) {
	db, _, s := testEngine(t)
	ctx := context.Background()
	st, err := s.Prepare(ctx, "INSERT INTO cpu (time, hostname, usage_user, requests) VALUES ('2017-01-01T00:00:00Z', 'h9', 1.5, 3), ($1, $2, $3, NULL)", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := st.ParamTypes(), []Type{TypeTimestamptz, TypeText, TypeFloat8}; !reflect.DeepEqual(got, want) {
		t.Fatalf("param types %v", got)
	}
	if st.Columns() != nil {
		t.Fatal("INSERT has no columns")
	}
	res, err := st.Execute(ctx, []any{time.Date(2017, 1, 1, 1, 0, 0, 0, time.UTC), "h9", 2.5})
	if err != nil {
		t.Fatal(err)
	}
	if res.Tag() != "INSERT 0 2" {
		t.Fatalf("tag %q", res.Tag())
	}
	rows := queryRows(t, s, "SELECT time, usage_user, requests FROM cpu WHERE hostname = 'h9' ORDER BY time")
	if len(rows) != 2 || rows[0][1] != 1.5 || rows[0][2] != int64(3) || rows[1][2] != nil {
		t.Fatalf("rows %v", rows)
	}
	// no time: now()
	queryRows(t, s, "INSERT INTO cpu (hostname, usage_user) VALUES ('h8', 1)")
	rows = queryRows(t, s, "SELECT time FROM cpu WHERE hostname = 'h8'")
	if len(rows) != 1 || !rows[0][0].(time.Time).Equal(fixedNow) {
		t.Fatalf("rows %v", rows)
	}
	// INSERT ... SELECT
	st, err = s.Prepare(ctx, "INSERT INTO cpu (time, hostname, usage_user) SELECT time + interval '1 year', 'copy', usage_user * 2 FROM cpu WHERE hostname = 'h0'", nil)
	if err != nil {
		t.Fatal(err)
	}
	if res, err = st.Execute(ctx, nil); err != nil || res.Tag() != "INSERT 0 2" {
		t.Fatalf("insert select: %v %v", err, res)
	}
	rows = queryRows(t, s, "SELECT sum(usage_user) FROM cpu WHERE hostname = 'copy'")
	if rows[0][0] != 4.0 {
		t.Fatalf("rows %v", rows)
	}
	for q, code := range map[string]string{
		"INSERT INTO nope (time) VALUES (now())":                   CodeUndefinedTable,
		"INSERT INTO cpu (nope) VALUES (1)":                        CodeUndefinedColumn,
		"INSERT INTO cpu (hostname, usage_user) VALUES ('a', 'x')": CodeInvalidTextRepr,
		"INSERT INTO cpu (hostname) VALUES ('a', 'b')":             CodeSyntaxError,
	} {
		if _, err := s.Prepare(ctx, q, nil); sqlState(err) != code {
			t.Errorf("%s: got %v, want %s", q, err, code)
		}
	}
	_ = db
}

func TestCancel(t *testing.T) {
	_, _, s := testEngine(t)
	st, err := s.Prepare(context.Background(), "SELECT * FROM cpu", nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.Execute(ctx, nil); sqlState(err) != CodeQueryCanceled {
		t.Fatalf("want 57014, got %v", err)
	}
}

func TestRowValues(t *testing.T) {
	_, _, s := testEngine(t)
	rows := queryRows(t, s, "SELECT true, 1::int8, 1.5::float8, 'x', '2016-01-01T00:00:00.1234567Z'::timestamptz, interval '1 day 2 hours', NULL")
	want := []any{true, int64(1), 1.5, "x", time.Date(2016, 1, 1, 0, 0, 0, 123456000, time.UTC), Interval{Days: 1, Micros: 2 * 3600e6}, nil}
	if !reflect.DeepEqual(rows[0], want) {
		t.Fatalf("row %#v\nwant %#v", rows[0], want)
	}
}

// TestTimeRangeExtraction checks what WHERE clauses push into ScanSpec.
func TestTimeRangeExtraction(t *testing.T) {
	ts := func(s string) int64 {
		x, err := parseTimestamp(s)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	now := fixedNow.UnixNano()
	for _, c := range []struct {
		where    string
		min, max int64
		tags     []TagFilter
		cols     []string
	}{
		{"true", math.MinInt64, math.MaxInt64, nil, nil},
		{"time >= '2016-01-01T00:00:00Z' AND time < '2016-01-02T00:00:00Z'", ts("2016-01-01"), ts("2016-01-02") - 1, nil, nil},
		{"time > '2016-01-01' AND '2016-01-03' >= time", ts("2016-01-01") + 1, ts("2016-01-03"), nil, nil},
		{"time BETWEEN '2016-01-01' AND '2016-01-02'", ts("2016-01-01"), ts("2016-01-02"), nil, nil},
		{"time = '2016-01-01'", ts("2016-01-01"), ts("2016-01-01"), nil, nil},
		{"time > now() - interval '1 hour'", now - int64(time.Hour) + 1, math.MaxInt64, nil, nil},
		{"time >= '2016-01-01' AND time >= '2016-01-05' AND time <= '2016-01-09'", ts("2016-01-05"), ts("2016-01-09"), nil, nil},
		{"time > '2016-01-01' OR time < '2015-01-01'", math.MinInt64, math.MaxInt64, nil, []string{}},
		{"hostname = 'h0' AND hostname IN ('h0', 'h1') AND hostname <> 'h2' AND hostname NOT IN ('h3')", math.MinInt64, math.MaxInt64,
			[]TagFilter{{Key: "hostname", Op: TagEq, Values: []string{"h0"}}, {Key: "hostname", Op: TagIn, Values: []string{"h0", "h1"}},
				{Key: "hostname", Op: TagNe, Values: []string{"h2"}}, {Key: "hostname", Op: TagNotIn, Values: []string{"h3"}}}, []string{"hostname"}},
		{"usage_user > 1 AND time < '2016-01-01'", math.MinInt64, ts("2016-01-01") - 1, nil, []string{"usage_user"}},
	} {
		db, _, s := testEngine(t)
		db.scans = nil
		queryRows(t, s, "SELECT count(*) FROM cpu WHERE "+c.where)
		if len(db.scans) != 1 {
			t.Fatalf("%s: %d scans", c.where, len(db.scans))
		}
		sp := db.scans[0]
		if sp.MinTime != c.min || sp.MaxTime != c.max {
			t.Errorf("%s: range [%d, %d], want [%d, %d]", c.where, sp.MinTime, sp.MaxTime, c.min, c.max)
		}
		if !reflect.DeepEqual(sp.TagFilters, c.tags) {
			t.Errorf("%s: tags %v, want %v", c.where, sp.TagFilters, c.tags)
		}
		if c.cols != nil && !reflect.DeepEqual(sp.Columns, c.cols) && !(len(c.cols) == 0 && len(sp.Columns) == 0) {
			t.Errorf("%s: columns %v, want %v", c.where, sp.Columns, c.cols)
		}
	}
	// empty ranges never reach the scanner
	for _, w := range []string{"time > '2016-01-02' AND time < '2016-01-01'", "hostname = NULL"} {
		db, _, s := testEngine(t)
		db.scans = nil
		if rows := queryRows(t, s, "SELECT count(*) FROM cpu WHERE "+w); rows[0][0] != int64(0) {
			t.Errorf("%s: %v", w, rows)
		}
		if len(db.scans) != 0 {
			t.Errorf("%s: scanned %v", w, db.scans)
		}
	}
	// parameters are evaluated at execution
	db, _, s := testEngine(t)
	db.scans = nil
	queryRows(t, s, "SELECT count(*) FROM cpu WHERE time >= $1 AND hostname = $2", "2016-01-01T02:00:00Z", "h0")
	if sp := db.scans[0]; sp.MinTime != ts("2016-01-01T02:00:00Z") || sp.TagFilters[0].Values[0] != "h0" {
		t.Errorf("param pushdown: %+v", sp)
	}
}
