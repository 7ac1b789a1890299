package sql

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata/*.test")

// Script tests: testdata/*.test files hold blocks separated by blank
// lines.
//
//	table <name>                     define a table and its rows:
//	time host:tag v:float8 ...       column list (time first)
//	2016-01-01T00:00:00Z h1 1.5 ...  rows; NULL for null, "quoted" text
//
//	batch <n>                        scanner batch size from here on
//
//	alters                           the schema changes the fixture
//	----                             received since the last "alters"
//	expected changes                 (AlterTable, alter_fixture_test.go)
//
//	query                            run one statement (lines up to ----)
//	SELECT ...
//	----
//	expected output                  columns, rows, tag or ERROR
//
// Run with -rewrite to regenerate the expected output.
func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.test")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".test"), func(t *testing.T) { runScript(t, f) })
	}
}

var fixedNow = time.Date(2016, 1, 2, 0, 0, 0, 0, time.UTC)

func runScript(t *testing.T, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	db := newMemDB()
	eng := NewEngine(db, db, db, &Options{Now: func() time.Time { return fixedNow }})
	sess := eng.NewSession("default", "fineo", "tester")
	var out strings.Builder
	lines := strings.Split(string(data), "\n")
	changed := false
	for i := 0; i < len(lines); {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "table "):
			j := i + 1
			for j < len(lines) && strings.TrimSpace(lines[j]) != "" {
				j++
			}
			if err := loadTable(db, strings.TrimSpace(line[6:]), lines[i+1:j]); err != nil {
				t.Fatalf("%s:%d: %v", path, i+1, err)
			}
			for _, l := range lines[i:j] {
				out.WriteString(l + "\n")
			}
			i = j
		case strings.HasPrefix(line, "batch "):
			n, _ := strconv.Atoi(strings.TrimSpace(line[6:]))
			db.batchRows = n
			out.WriteString(line + "\n")
			i++
		case line == "alters":
			// the Alters the fixture received since the last "alters"
			k := i + 2
			for k < len(lines) && lines[k] != "" {
				k++
			}
			if i+1 >= len(lines) || lines[i+1] != "----" {
				t.Fatalf("%s:%d: alters without ----", path, i+1)
			}
			want := strings.Join(lines[i+2:k], "\n")
			got := db.takeAlters()
			if got != want {
				if *rewrite {
					changed = true
				} else {
					t.Errorf("%s:%d: alters\n--- got:\n%s\n--- want:\n%s", path, i+1, got, want)
				}
			}
			out.WriteString("alters\n----\n" + got + "\n")
			i = k
		case line == "query":
			j := i + 1
			for j < len(lines) && lines[j] != "----" {
				j++
			}
			if j == len(lines) {
				t.Fatalf("%s:%d: query without ----", path, i+1)
			}
			q := strings.Join(lines[i+1:j], "\n")
			k := j + 1
			for k < len(lines) && lines[k] != "" {
				k++
			}
			want := strings.Join(lines[j+1:k], "\n")
			got := runQuery(sess, q)
			if got != want {
				if *rewrite {
					changed = true
				} else {
					t.Errorf("%s:%d:\n%s\n--- got:\n%s\n--- want:\n%s", path, i+1, q, got, want)
				}
			}
			out.WriteString("query\n" + q + "\n----\n" + got + "\n")
			i = k
		default:
			out.WriteString(line + "\n")
			i++
		}
	}
	if *rewrite && changed {
		s := strings.TrimRight(out.String(), "\n") + "\n"
		if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func loadTable(db *memDB, name string, lines []string) error {
	if len(lines) == 0 {
		return fmt.Errorf("table %s: no columns", name)
	}
	info := TableInfo{Name: name}
	for _, c := range strings.Fields(lines[0]) {
		n, typ, _ := strings.Cut(c, ":")
		ci := ColumnInfo{Name: n, Kind: KindField}
		switch {
		case n == "time":
			ci.Type, ci.Kind = TypeTimestamptz, KindTime
		case typ == "tag":
			ci.Type, ci.Kind = TypeText, KindTag
		default:
			t, ok := typeByName(typ)
			if !ok {
				return fmt.Errorf("bad type %q", typ)
			}
			ci.Type = t
		}
		info.Columns = append(info.Columns, ci)
	}
	tb := db.addTable("fineo", info)
	for _, l := range lines[1:] {
		fields := splitFields(l)
		if len(fields) != len(info.Columns) {
			return fmt.Errorf("row %q: %d values for %d columns", l, len(fields), len(info.Columns))
		}
		row := make([]any, len(fields))
		for i, f := range fields {
			if f == "NULL" {
				continue
			}
			v := newVec(info.Columns[i].Type, 1)
			if err := parseInto(nil, f, v, 0); err != nil {
				if phys(v.Type) == physStr {
					v.Str[0] = f
				} else {
					return err
				}
			}
			switch phys(v.Type) {
			case physF64:
				row[i] = v.F64[0]
			case physStr:
				row[i] = f
			case physBool:
				row[i] = v.Bool[0]
			default:
				row[i] = v.I64[0]
			}
		}
		tb.rows = append(tb.rows, row)
	}
	return nil
}

// splitFields splits on spaces; "double quoted" fields may hold spaces.
func splitFields(l string) []string {
	var out []string
	sc := bufio.NewScanner(strings.NewReader(l))
	sc.Split(bufio.ScanRunes)
	var cur strings.Builder
	inQ, has := false, false
	for sc.Scan() {
		r := sc.Text()
		switch {
		case r == "\"":
			inQ, has = !inQ, true
		case r == " " && !inQ:
			if has {
				out = append(out, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteString(r)
			has = true
		}
	}
	if has {
		out = append(out, cur.String())
	}
	return out
}

// runQuery runs one statement and renders its output as the scripts show
// it.
func runQuery(sess *Session, q string) string {
	ctx := context.Background()
	st, err := sess.Prepare(ctx, q, nil)
	if err != nil {
		return renderErr(err)
	}
	res, err := st.Execute(ctx, make([]any, len(st.ParamTypes())))
	if err != nil {
		return renderErr(err)
	}
	var sb strings.Builder
	if cols := st.Columns(); cols != nil {
		var hs []string
		for _, c := range cols {
			hs = append(hs, c.Name+":"+shortTypeName(c.Type))
		}
		sb.WriteString(strings.Join(hs, " | ") + "\n")
		for res.Next() {
			var vs []string
			for i, v := range res.Row() {
				vs = append(vs, renderTyped(sess, cols[i].Type, v))
			}
			sb.WriteString(strings.Join(vs, " | ") + "\n")
		}
	}
	sb.WriteString(res.Tag())
	return sb.String()
}

func renderErr(err error) string {
	var e *Error
	if !errors.As(err, &e) {
		return "ERROR (no SQLSTATE): " + err.Error()
	}
	return "ERROR " + e.Code + ": " + e.Message
}

// renderTyped renders timestamptz values in the session's time zone (as
// the wire protocol shows them) and timestamp values without an offset.
func renderTyped(sess *Session, t Type, v any) string {
	if x, ok := v.(time.Time); ok {
		switch t {
		case TypeTimestamptz:
			return formatTimestampIn(x.UnixNano(), newZconv(sess.location()))
		case TypeTimestamp:
			return formatTimestamp(x.UnixNano(), false)
		}
	}
	return renderValue(v)
}

func renderValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "NULL"
	case time.Time:
		return formatTimestamp(x.UnixNano(), true)
	case Interval:
		return formatInterval(int64(x.Days)*nsPerDay + x.Micros*1000)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case string:
		if x == "" {
			return `""`
		}
		return x
	}
	return fmt.Sprint(v)
}
