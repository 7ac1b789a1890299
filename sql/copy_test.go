package sql

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func copyFixture(t *testing.T) (*memDB, *Session) {
	t.Helper()
	db := newMemDB()
	if err := loadTable(db, "cpu", []string{
		"time host:tag usage:float8 n:int8",
		"2016-01-01T00:00:00Z h1 1.5 1",
		"2016-01-01T00:00:01Z h2 NULL 2",
	}); err != nil {
		t.Fatal(err)
	}
	eng := NewEngine(db, db, db, &Options{Now: func() time.Time { return fixedNow }})
	return db, eng.NewSession("default", "fineo", "tester")
}

func sqlCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return "none"
}

func collect(t *testing.T, s *Session, q string) string {
	t.Helper()
	st, err := s.Prepare(context.Background(), q, nil)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	res, err := st.Execute(context.Background(), nil)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var rows []string
	for res.Next() {
		var vs []string
		for _, v := range res.Row() {
			vs = append(vs, renderValue(v))
		}
		rows = append(rows, strings.Join(vs, " "))
	}
	return strings.Join(rows, "\n")
}

func TestCopyOut(t *testing.T) {
	_, s := copyFixture(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name, query, cols, rows, tag string
		opts                         CopyOptions
	}{
		{"query", "COPY (SELECT host, usage FROM cpu ORDER BY time) TO STDOUT", "host usage", "h1 1.5\nh2 NULL", "COPY 2", CopyOptions{}},
		{"table", "COPY cpu TO STDOUT WITH (FORMAT csv, HEADER, DELIMITER ';', NULL 'x')", "time host usage n",
			"2016-01-01 00:00:00+00 h1 1.5 1\n2016-01-01 00:00:01+00 h2 NULL 2", "COPY 2",
			CopyOptions{Format: CopyCSV, Header: true, Delimiter: ';', Null: "x"}},
		{"columns", "COPY cpu (n, HOST) TO STDOUT CSV", "n host", "1 h1\n2 h2", "COPY 2", CopyOptions{Format: CopyCSV}},
		{"binary", "COPY cpu (n) TO STDOUT (FORMAT binary)", "n", "1\n2", "COPY 2", CopyOptions{Format: CopyBinary}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, opts, err := s.CopyOut(ctx, tc.query)
			if err != nil {
				t.Fatal(err)
			}
			if opts != tc.opts {
				t.Errorf("options %+v, want %+v", opts, tc.opts)
			}
			var names []string
			for _, c := range res.Columns() {
				names = append(names, c.Name)
			}
			var rows []string
			for res.Next() {
				var vs []string
				for _, v := range res.Row() {
					vs = append(vs, renderValue(v))
				}
				rows = append(rows, strings.Join(vs, " "))
			}
			if got := strings.Join(names, " "); got != tc.cols {
				t.Errorf("columns %q, want %q", got, tc.cols)
			}
			if got := strings.Join(rows, "\n"); got != tc.rows {
				t.Errorf("rows:\n%s\nwant:\n%s", got, tc.rows)
			}
			if res.Tag() != tc.tag {
				t.Errorf("tag %q, want %q", res.Tag(), tc.tag)
			}
		})
	}
	for _, tc := range []struct{ query, code string }{
		{"COPY nope TO STDOUT", "42P01"},
		{"COPY cpu (nope) TO STDOUT", "42703"},
		{"COPY cpu TO STDOUT (FORMAT xml)", "22023"},
		{"COPY cpu TO STDOUT (DELIMITER ';;')", "22023"},
		{"COPY cpu TO STDOUT (FORMAT binary, HEADER)", "42601"},
		{"COPY cpu TO STDOUT (QUOTE '''')", "0A000"},
		{"COPY cpu TO STDOUT (FORCE_QUOTE *)", "0A000"},
		{"COPY cpu TO '/etc/passwd'", "0A000"},
		{"COPY (INSERT INTO cpu VALUES (now())) TO STDOUT", "0A000"},
		{"COPY cpu FROM STDIN", "0A000"},
	} {
		if _, _, err := s.CopyOut(ctx, tc.query); sqlCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.query, err, tc.code)
		}
	}
}

func TestCopyIn(t *testing.T) {
	ctx := context.Background()
	ts := func(s string) time.Time { x, _ := time.Parse(time.RFC3339, s); return x }
	t.Run("existing table", func(t *testing.T) {
		_, s := copyFixture(t)
		ci, err := s.CopyIn(ctx, "COPY cpu (host, time, usage, n) FROM STDIN WITH (FORMAT csv)")
		if err != nil {
			t.Fatal(err)
		}
		if got := ci.Columns(); len(got) != 4 || got[0].Type != TypeText || got[1].Type != TypeTimestamptz || got[3].Type != TypeInt8 {
			t.Fatalf("columns %v", got)
		}
		err = ci.WriteRows(ctx, [][]any{
			{"h3", ts("2016-01-01T00:00:02Z"), 3.5, int64(7)},
			{"h3", ts("2016-01-01T00:00:03Z"), nil, nil}, // no fields: not written
			{nil, ts("2016-01-01T00:00:04Z"), 4.5, nil},
		})
		if err != nil {
			t.Fatal(err)
		}
		if tag, err := ci.Done(ctx); err != nil || tag != "COPY 2" {
			t.Fatalf("done: %q %v", tag, err)
		}
		got := collect(t, s, "SELECT time, host, usage, n FROM cpu WHERE time >= '2016-01-01T00:00:02Z' ORDER BY time")
		want := "2016-01-01 00:00:02+00 h3 3.5 7\n2016-01-01 00:00:04+00 NULL 4.5 NULL"
		if got != want {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
	})
	t.Run("no time column", func(t *testing.T) {
		_, s := copyFixture(t)
		ci, err := s.CopyIn(ctx, "COPY cpu (host, n) FROM STDIN")
		if err != nil {
			t.Fatal(err)
		}
		if err := ci.WriteRows(ctx, [][]any{{"h9", int64(9)}}); err != nil {
			t.Fatal(err)
		}
		if _, err := ci.Done(ctx); err != nil {
			t.Fatal(err)
		}
		if got := collect(t, s, "SELECT time, n FROM cpu WHERE host = 'h9'"); got != "2016-01-02 00:00:00+00 9" {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("many rows", func(t *testing.T) {
		_, s := copyFixture(t)
		ci, err := s.CopyIn(ctx, "COPY cpu (time, host, n) FROM STDIN (FORMAT binary)")
		if err != nil {
			t.Fatal(err)
		}
		base := ts("2017-01-01T00:00:00Z")
		for b := 0; b < 25; b++ {
			var rows [][]any
			for i := 0; i < 1000; i++ {
				k := b*1000 + i
				rows = append(rows, []any{base.Add(time.Duration(k) * time.Second), "hb", int64(k)})
			}
			if err := ci.WriteRows(ctx, rows); err != nil {
				t.Fatal(err)
			}
		}
		if tag, err := ci.Done(ctx); err != nil || tag != "COPY 25000" {
			t.Fatalf("done: %q %v", tag, err)
		}
		if got := collect(t, s, "SELECT count(*), max(n) FROM cpu WHERE host = 'hb'"); got != "25000 24999" {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("creates table", func(t *testing.T) {
		_, s := copyFixture(t)
		ci, err := s.CopyIn(ctx, "COPY sensors (time, device, temp, ok, note) FROM STDIN (FORMAT csv, HEADER)")
		if err != nil {
			t.Fatal(err)
		}
		if got := ci.Columns(); got[0].Type != TypeTimestamptz || got[1].Type != TypeText || got[2].Type != TypeText {
			t.Fatalf("columns %v", got)
		}
		err = ci.WriteRows(ctx, [][]any{
			{ts("2016-01-01T00:00:00Z"), "d1", "21.5", "true", nil},
			{ts("2016-01-01T00:00:00Z"), "d2", "-3", "f", nil},
		})
		if err != nil {
			t.Fatal(err)
		}
		err = ci.WriteRows(ctx, [][]any{{ts("2016-01-01T00:00:01Z"), "d1", "22", "no", "moved"}})
		if err != nil {
			t.Fatal(err)
		}
		if tag, err := ci.Done(ctx); err != nil || tag != "COPY 3" {
			t.Fatalf("done: %q %v", tag, err)
		}
		got := collect(t, s, "SELECT time, device, temp, ok, note FROM sensors ORDER BY time, device")
		want := "2016-01-01 00:00:00+00 d1 21.5 true NULL\n2016-01-01 00:00:00+00 d2 -3 false NULL\n2016-01-01 00:00:01+00 d1 22 false moved"
		if got != want {
			t.Fatalf("got\n%s\nwant\n%s", got, want)
		}
		// A later value that does not read as the inferred type names its line.
		ci, err = s.CopyIn(ctx, "COPY sensors (time, device, temp) FROM STDIN (FORMAT csv, HEADER)")
		if err != nil {
			t.Fatal(err)
		}
		err = ci.WriteRows(ctx, [][]any{{ts("2016-01-01T00:00:02Z"), "d1", 1.0}, {ts("2016-01-01T00:00:03Z"), nil, nil}, {nil, "d1", 2.0}})
		if sqlCode(err) != "23502" || !strings.Contains(err.Error(), "line 4") {
			t.Fatalf("null time: %v", err)
		}
	})
	t.Run("created table bad value", func(t *testing.T) {
		_, s := copyFixture(t)
		ci, err := s.CopyIn(ctx, "COPY t2 (time, v) FROM STDIN")
		if err != nil {
			t.Fatal(err)
		}
		if err := ci.WriteRows(ctx, [][]any{{ts("2016-01-01T00:00:00Z"), "1"}}); err != nil {
			t.Fatal(err)
		}
		err = ci.WriteRows(ctx, [][]any{{ts("2016-01-01T00:00:01Z"), "2"}, {ts("2016-01-01T00:00:02Z"), "abc"}})
		if sqlCode(err) != "22P02" || !strings.Contains(err.Error(), "COPY t2, line 3: column v") {
			t.Fatalf("bad value: %v", err)
		}
		ci.Abort()
	})
	_, s := copyFixture(t)
	for _, tc := range []struct{ query, code string }{
		{"COPY nope FROM STDIN", "42P01"},
		{"COPY nope (time, v) FROM STDIN (FORMAT binary)", "42P01"},
		{"COPY cpu (nope) FROM STDIN", "42703"},
		{"COPY cpu (n, n) FROM STDIN", "42701"},
		{"COPY cpu FROM STDIN WHERE n > 1", "0A000"},
		{"COPY cpu FROM '/tmp/x'", "0A000"},
		{"COPY cpu TO STDOUT", "0A000"},
		{"COPY cpu FROM STDIN (FORMAT csv, FORMAT text)", "42601"},
		{"COPY cpu FROM STDIN (ENCODING 'latin1')", "0A000"},
	} {
		if _, err := s.CopyIn(ctx, tc.query); sqlCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.query, err, tc.code)
		}
	}
	if _, err := s.CopyIn(ctx, "COPY cpu FROM STDIN (ENCODING 'UTF8', FREEZE)"); err != nil {
		t.Errorf("encoding utf8: %v", err)
	}
}
