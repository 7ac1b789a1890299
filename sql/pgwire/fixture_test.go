package pgwire

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// This file is a test fixture: a tiny canned backend that knows a handful
// of tables and statement shapes, enough to drive every protocol path. The
// real SQL engine is wired to the server by cmd/fineod.

type fixtureError struct {
	code, msg string
	pos       int
}

func (e *fixtureError) Error() string      { return e.msg }
func (e *fixtureError) SQLState() string   { return e.code }
func (e *fixtureError) ErrorPosition() int { return e.pos }

type fixtureTable struct {
	cols []Column
	rows [][]any
}

// fixtureBackend is safe for concurrent use; its tables are shared by its
// sessions.
type fixtureBackend struct {
	mu       sync.Mutex
	tables   map[string]*fixtureTable
	sessions int
	closed   int
}

var fixtureT0 = time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)

func newFixtureBackend() *fixtureBackend {
	b := &fixtureBackend{tables: map[string]*fixtureTable{}}
	b.tables["metrics"] = &fixtureTable{
		cols: []Column{{"time", OIDTimestamptz}, {"host", OIDText}, {"value", OIDFloat8}, {"n", OIDInt8}},
		rows: [][]any{
			{fixtureT0, "a", 1.5, int64(1)},
			{fixtureT0.Add(time.Second), "b", 2.25, nil},
			{fixtureT0.Add(2 * time.Second), "tab\there", -3e20, int64(-7)},
		},
	}
	b.tables["types"] = &fixtureTable{
		cols: []Column{
			{"b", OIDBool}, {"i2", OIDInt2}, {"i4", OIDInt4}, {"i8", OIDInt8}, {"f4", OIDFloat4},
			{"f8", OIDFloat8}, {"num", OIDNumeric}, {"t", OIDText}, {"vc", OIDVarchar}, {"nm", OIDName},
			{"ts", OIDTimestamp}, {"tstz", OIDTimestamptz}, {"iv", OIDInterval}, {"js", OIDJSON},
			{"o", OIDOid}, {"by", OIDBytea}, {"d", OIDDate},
		},
		rows: [][]any{{
			true, int64(-2), int64(40000), int64(1) << 40, float64(float32(1.25)), 0.1,
			"12345.678900", "héllo", "vc", "nm",
			time.Date(2024, 3, 1, 12, 0, 0, 123456000, time.UTC), fixtureT0,
			Interval{Months: 14, Days: 3, Micros: 4*3600e6 + 5*60e6 + 6e6 + 500000},
			`{"a": 1}`, int64(26), []byte{0xde, 0xad}, time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC),
		}},
	}
	b.tables["target"] = &fixtureTable{
		cols: []Column{{"a", OIDInt8}, {"b", OIDText}, {"c", OIDFloat8}, {"ts", OIDTimestamptz}},
	}
	return b
}

func (b *fixtureBackend) table(name string) *fixtureTable {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.tables[strings.Trim(name, `"`)]
}

func (b *fixtureBackend) NewSession(ctx context.Context, info StartupInfo) (Session, error) {
	if info.Database == "nodb" {
		return nil, &fixtureError{code: "3D000", msg: `database "nodb" does not exist`}
	}
	b.mu.Lock()
	b.sessions++
	b.mu.Unlock()
	s := &fixtureSession{b: b, settings: map[string]string{"TimeZone": "UTC"}}
	if tz, ok := info.Params["TimeZone"]; ok {
		s.settings["TimeZone"] = tz
	}
	if app, ok := info.Params["application_name"]; ok {
		s.settings["application_name"] = app
	}
	return s, nil
}

type fixtureSession struct {
	b        *fixtureBackend
	settings map[string]string
}

func (s *fixtureSession) Close() {
	s.b.mu.Lock()
	s.b.closed++
	s.b.mu.Unlock()
}

func (s *fixtureSession) Settings() map[string]string { return s.settings }

// Split splits on semicolons outside single quotes.
func (s *fixtureSession) Split(q string) ([]string, error) {
	var out []string
	inQ := false
	start := 0
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case '\'':
			inQ = !inQ
		case ';':
			if !inQ {
				if t := strings.TrimSpace(q[start:i]); t != "" {
					out = append(out, t)
				}
				start = i + 1
			}
		}
	}
	if inQ {
		return nil, &fixtureError{code: "42601", msg: "unterminated quoted string", pos: len(q)}
	}
	if t := strings.TrimSpace(q[start:]); t != "" {
		out = append(out, t)
	}
	return out, nil
}

var (
	reSelectInt  = regexp.MustCompile(`(?i)^select (-?\d+)$`)
	reSelectFrom = regexp.MustCompile(`(?i)^select (.+) from ("?\w+"?)$`)
	reEcho       = regexp.MustCompile(`(?i)^select (\$\d+(::\w+)?(\s*,\s*\$\d+(::\w+)?)*)$`)
	reSeries     = regexp.MustCompile(`(?i)^select generate_series\(1,\s*(\d+)\)$`)
	reFailAfter  = regexp.MustCompile(`(?i)^select fail_after\((\d+)\)$`)
	reSleep      = regexp.MustCompile(`(?i)^select pg_sleep\(([\d.]+)\)$`)
	reSet        = regexp.MustCompile(`(?i)^set (?:session )?(\w+)\s*(?:=|to)\s*'?([^']*)'?$`)
	reShow       = regexp.MustCompile(`(?i)^show (\w+)$`)
	reCopyTable  = regexp.MustCompile(`(?i)^copy\s+("?\w+"?)\s*(?:\(([^)]*)\))?\s+(from stdin|to stdout)(.*)$`)
)

var fixtureTypes = map[string]OID{
	"bool": OIDBool, "int2": OIDInt2, "int4": OIDInt4, "int8": OIDInt8, "float4": OIDFloat4,
	"float8": OIDFloat8, "numeric": OIDNumeric, "text": OIDText, "varchar": OIDVarchar,
	"timestamp": OIDTimestamp, "timestamptz": OIDTimestamptz, "interval": OIDInterval,
	"json": OIDJSON, "jsonb": OIDJSONB, "oid": OIDOid, "bytea": OIDBytea, "date": OIDDate,
}

// fixtureStmt is a canned statement: its columns and how to run it.
type fixtureStmt struct {
	params []OID
	cols   []Column
	run    func(ctx context.Context, params []any) (*fixtureResult, error)
}

func (st *fixtureStmt) ParamTypes() []OID { return st.params }
func (st *fixtureStmt) Columns() []Column { return st.cols }
func (st *fixtureStmt) Execute(ctx context.Context, params []any) (Result, error) {
	return st.run(ctx, params)
}

func rowsResult(rows [][]any, tag string) func(context.Context, []any) (*fixtureResult, error) {
	return func(context.Context, []any) (*fixtureResult, error) {
		return &fixtureResult{rows: rows, tag: tag}, nil
	}
}

func tagResult(tag string) func(context.Context, []any) (*fixtureResult, error) {
	return rowsResult(nil, tag)
}

func (s *fixtureSession) Prepare(ctx context.Context, q string, hints []OID) (Stmt, error) {
	q = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(q), ";"))
	lower := strings.ToLower(q)
	switch lower {
	case "begin", "start transaction":
		return &fixtureStmt{run: tagResult("BEGIN")}, nil
	case "commit", "end":
		return &fixtureStmt{run: tagResult("COMMIT")}, nil
	case "rollback", "abort":
		return &fixtureStmt{run: tagResult("ROLLBACK")}, nil
	case "select 1/0":
		return &fixtureStmt{cols: []Column{{"?column?", OIDInt4}}, run: func(context.Context, []any) (*fixtureResult, error) {
			return nil, &fixtureError{code: "22012", msg: "division by zero"}
		}}, nil
	case "select now_text()":
		return &fixtureStmt{cols: []Column{{"now", OIDTimestamptz}}, run: rowsResult([][]any{{fixtureT0}}, "SELECT 1")}, nil
	}
	if strings.HasPrefix(lower, "insert ") {
		return &fixtureStmt{run: tagResult("INSERT 0 1")}, nil
	}
	if strings.HasPrefix(lower, "create table") {
		return &fixtureStmt{run: tagResult("CREATE TABLE")}, nil
	}
	if m := reSelectInt.FindStringSubmatch(q); m != nil {
		v, _ := strconv.ParseInt(m[1], 10, 64)
		return &fixtureStmt{cols: []Column{{"?column?", OIDInt4}}, run: rowsResult([][]any{{v}}, "SELECT 1")}, nil
	}
	if m := reSeries.FindStringSubmatch(q); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &fixtureStmt{cols: []Column{{"generate_series", OIDInt8}}, run: func(context.Context, []any) (*fixtureResult, error) {
			return &fixtureResult{gen: n, tag: fmt.Sprintf("SELECT %d", n)}, nil
		}}, nil
	}
	if m := reFailAfter.FindStringSubmatch(q); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &fixtureStmt{cols: []Column{{"fail_after", OIDInt8}}, run: func(context.Context, []any) (*fixtureResult, error) {
			return &fixtureResult{gen: n, failAtEnd: true}, nil
		}}, nil
	}
	if m := reSleep.FindStringSubmatch(q); m != nil {
		secs, _ := strconv.ParseFloat(m[1], 64)
		return &fixtureStmt{cols: []Column{{"pg_sleep", OIDText}}, run: func(ctx context.Context, _ []any) (*fixtureResult, error) {
			select {
			case <-time.After(time.Duration(secs * float64(time.Second))):
				return &fixtureResult{rows: [][]any{{""}}, tag: "SELECT 1"}, nil
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}}, nil
	}
	if m := reEcho.FindStringSubmatch(q); m != nil {
		st := &fixtureStmt{}
		for i, p := range strings.Split(m[1], ",") {
			p = strings.TrimSpace(p)
			typ := OIDText
			if i < len(hints) && hints[i] != 0 {
				typ = hints[i]
			}
			name := "?column?"
			if _, cast, ok := strings.Cut(p, "::"); ok {
				typ = fixtureTypes[strings.ToLower(cast)]
				name = strings.ToLower(cast)
			}
			st.params = append(st.params, typ)
			st.cols = append(st.cols, Column{name, typ})
		}
		st.run = func(_ context.Context, params []any) (*fixtureResult, error) {
			return &fixtureResult{rows: [][]any{append([]any(nil), params...)}, tag: "SELECT 1"}, nil
		}
		return st, nil
	}
	if m := reSelectFrom.FindStringSubmatch(q); m != nil {
		t := s.b.table(m[2])
		if t == nil {
			return nil, &fixtureError{code: "42P01", msg: fmt.Sprintf("relation %q does not exist", strings.Trim(m[2], `"`)), pos: strings.Index(q, m[2]) + 1}
		}
		idx, cols, err := t.project(m[1])
		if err != nil {
			return nil, err
		}
		return &fixtureStmt{cols: cols, run: func(context.Context, []any) (*fixtureResult, error) {
			s.b.mu.Lock()
			defer s.b.mu.Unlock()
			var rows [][]any
			for _, r := range t.rows {
				out := make([]any, len(idx))
				for i, j := range idx {
					out[i] = r[j]
				}
				rows = append(rows, out)
			}
			return &fixtureResult{rows: rows, tag: fmt.Sprintf("SELECT %d", len(rows))}, nil
		}}, nil
	}
	if m := reSet.FindStringSubmatch(q); m != nil {
		name := m[1]
		if strings.EqualFold(name, "timezone") {
			name = "TimeZone"
		}
		val := m[2]
		return &fixtureStmt{run: func(context.Context, []any) (*fixtureResult, error) {
			s.settings[name] = val
			return &fixtureResult{tag: "SET"}, nil
		}}, nil
	}
	if m := reShow.FindStringSubmatch(q); m != nil {
		v, ok := s.settings[m[1]]
		if !ok {
			return nil, &fixtureError{code: "42704", msg: fmt.Sprintf("unrecognized configuration parameter %q", m[1])}
		}
		return &fixtureStmt{cols: []Column{{m[1], OIDText}}, run: rowsResult([][]any{{v}}, "SHOW")}, nil
	}
	return nil, &fixtureError{code: "42601", msg: fmt.Sprintf("syntax error at or near %q", strings.Fields(q + " x")[0]), pos: 1}
}

// project resolves a select list ("*" or quoted/bare names).
func (t *fixtureTable) project(list string) ([]int, []Column, error) {
	var idx []int
	var cols []Column
	if strings.TrimSpace(list) == "*" {
		for i, c := range t.cols {
			idx, cols = append(idx, i), append(cols, c)
		}
		return idx, cols, nil
	}
	for _, name := range strings.Split(list, ",") {
		name = strings.Trim(strings.TrimSpace(name), `"`)
		found := false
		for i, c := range t.cols {
			if c.Name == name {
				idx, cols, found = append(idx, i), append(cols, c), true
			}
		}
		if !found {
			return nil, nil, &fixtureError{code: "42703", msg: fmt.Sprintf("column %q does not exist", name)}
		}
	}
	return idx, cols, nil
}

type fixtureResult struct {
	rows      [][]any
	gen       int // generate 1..gen when > 0
	failAtEnd bool
	i         int
	cur       []any
	err       error
	tag       string
	closed    bool
}

func (r *fixtureResult) Next() bool {
	if r.gen > 0 {
		if r.i >= r.gen {
			if r.failAtEnd {
				r.err = &fixtureError{code: "22000", msg: "failed after rows"}
			}
			return false
		}
		r.i++
		r.cur = []any{int64(r.i)}
		return true
	}
	if r.i >= len(r.rows) {
		return false
	}
	r.cur = r.rows[r.i]
	r.i++
	return true
}

func (r *fixtureResult) Row() []any  { return r.cur }
func (r *fixtureResult) Err() error  { return r.err }
func (r *fixtureResult) Tag() string { return r.tag }
func (r *fixtureResult) Close()      { r.closed = true }

// COPY.

func parseFixtureCopy(rest string) CopyOptions {
	rest = strings.ToLower(rest)
	var o CopyOptions
	switch {
	case strings.Contains(rest, "binary"):
		o.Format = CopyBinary
	case strings.Contains(rest, "csv"):
		o.Format = CopyCSV
	}
	o.Header = strings.Contains(rest, "header")
	if i := strings.Index(rest, "delimiter '"); i >= 0 && i+11 < len(rest) {
		o.Delimiter = rest[i+11]
	}
	return o
}

func (s *fixtureSession) copyTarget(q string) (*fixtureTable, []int, []Column, CopyOptions, error) {
	m := reCopyTable.FindStringSubmatch(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(q), ";")))
	if m == nil {
		return nil, nil, nil, CopyOptions{}, &fixtureError{code: "0A000", msg: "fixture: unsupported COPY"}
	}
	t := s.b.table(m[1])
	if t == nil {
		return nil, nil, nil, CopyOptions{}, &fixtureError{code: "42P01", msg: fmt.Sprintf("relation %s does not exist", m[1])}
	}
	list := "*"
	if m[2] != "" {
		list = m[2]
	}
	idx, cols, err := t.project(list)
	return t, idx, cols, parseFixtureCopy(m[4]), err
}

func (s *fixtureSession) CopyIn(ctx context.Context, q string) (CopyInSink, error) {
	t, idx, cols, opts, err := s.copyTarget(q)
	if err != nil {
		return nil, err
	}
	return &fixtureSink{s: s, t: t, idx: idx, cols: cols, opts: opts}, nil
}

func (s *fixtureSession) CopyOut(ctx context.Context, q string) (CopyOutSource, error) {
	t, idx, cols, opts, err := s.copyTarget(q)
	if err != nil {
		return nil, err
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	var rows [][]any
	for _, r := range t.rows {
		out := make([]any, len(idx))
		for i, j := range idx {
			out[i] = r[j]
		}
		rows = append(rows, out)
	}
	return &fixtureSource{fixtureResult: fixtureResult{rows: rows, tag: fmt.Sprintf("COPY %d", len(rows))}, cols: cols, opts: opts}, nil
}

type fixtureSource struct {
	fixtureResult
	cols []Column
	opts CopyOptions
}

func (f *fixtureSource) Columns() []Column    { return f.cols }
func (f *fixtureSource) Options() CopyOptions { return f.opts }

type fixtureSink struct {
	s       *fixtureSession
	t       *fixtureTable
	idx     []int
	cols    []Column
	opts    CopyOptions
	pending [][]any
	aborted string
}

func (k *fixtureSink) Columns() []Column    { return k.cols }
func (k *fixtureSink) Options() CopyOptions { return k.opts }

func (k *fixtureSink) WriteRows(ctx context.Context, rows [][]any) error {
	for _, r := range rows {
		full := make([]any, len(k.t.cols))
		for i, j := range k.idx {
			full[j] = r[i]
		}
		if s, ok := full[1].(string); ok && s == "reject" {
			return &fixtureError{code: "23514", msg: "fixture: row rejected"}
		}
		k.pending = append(k.pending, full)
	}
	return nil
}

func (k *fixtureSink) Done(ctx context.Context) (string, error) {
	k.s.b.mu.Lock()
	defer k.s.b.mu.Unlock()
	k.t.rows = append(k.t.rows, k.pending...)
	return fmt.Sprintf("COPY %d", len(k.pending)), nil
}

func (k *fixtureSink) Abort(reason string) { k.aborted = reason }
