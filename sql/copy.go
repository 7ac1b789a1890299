package sql

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/fineod/fineod/schema"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// This file is the SQL side of COPY. The wire server owns the COPY
// sub-protocol and the data formats; it asks the Session for a source of
// rows (CopyOut) or a sink for them (CopyIn):
//
//	COPY (query) TO STDOUT [WITH (...)]      the query's rows
//	COPY t [(cols)] TO STDOUT [WITH (...)]   SELECT cols FROM t
//	COPY t [(cols)] FROM STDIN [WITH (...)]  a bulk write, see CopyIn
//
// Options: FORMAT text | csv | binary, DELIMITER, NULL, HEADER, QUOTE,
// ESCAPE (CSV only), ENCODING 'UTF8' and FREEZE (ignored); the old
// spellings (CSV, BINARY, CSV HEADER, DELIMITER AS) too. COPY to or from a
// file or program is 0A000: clients use psql's \copy, which goes through
// STDIN and STDOUT. COPY sent as an ordinary statement (outside the wire
// server's copy mode) is 0A000.

// CopyFormat is the data format of a COPY.
type CopyFormat uint8

// The COPY formats.
const (
	CopyText CopyFormat = iota
	CopyCSV
	CopyBinary
)

// CopyOptions are the options of a COPY statement that shape its data. A
// zero field means PostgreSQL's default for the format (tab or comma,
// `\N` or an unquoted empty field, '"').
type CopyOptions struct {
	Format        CopyFormat
	Delimiter     byte
	Null          string
	Header        bool
	Quote, Escape byte
}

// copyFlushRows is how many rows COPY FROM collects before it writes them
// as one batch through the Writer.
const copyFlushRows = 10000

func copyNotInProtocol(cs *pg.CopyStmt) error {
	if cs.Filename != "" || cs.IsProgram {
		return &Error{Code: CodeFeatureNotSupported, Message: "COPY to or from a file or program is not supported",
			Hint: `Use COPY ... FROM STDIN or TO STDOUT, or psql's \copy.`}
	}
	return errorf(CodeFeatureNotSupported, "COPY FROM STDIN and COPY TO STDOUT run only through the COPY protocol")
}

// parseCopy parses a COPY statement for the given direction and its
// options.
func parseCopy(query string, from bool) (*pg.CopyStmt, CopyOptions, error) {
	var opts CopyOptions
	tree, err := pg.Parse(query)
	if err != nil {
		return nil, opts, parseError(err)
	}
	if len(tree.Stmts) != 1 || tree.Stmts[0].Stmt.GetCopyStmt() == nil {
		return nil, opts, errorf(CodeSyntaxError, "not a single COPY statement")
	}
	cs := tree.Stmts[0].Stmt.GetCopyStmt()
	if cs.Filename != "" || cs.IsProgram || cs.IsFrom != from {
		return nil, opts, copyNotInProtocol(cs)
	}
	if cs.WhereClause != nil {
		return nil, opts, errorf(CodeFeatureNotSupported, "COPY FROM ... WHERE is not supported")
	}
	oneByte := func(d *pg.DefElem, what string) (byte, error) {
		v := defString(d)
		if len(v) != 1 {
			return 0, errAt(CodeInvalidParameter, d.Location, "COPY %s must be a single one-byte character", what)
		}
		return v[0], nil
	}
	seen := map[string]bool{}
	for _, o := range cs.Options {
		d := o.GetDefElem()
		if d == nil {
			continue
		}
		name := strings.ToLower(d.Defname)
		if seen[name] {
			return nil, opts, errAt(CodeSyntaxError, d.Location, "conflicting or redundant options")
		}
		seen[name] = true
		switch name {
		case "format":
			switch strings.ToLower(defString(d)) {
			case "text":
				opts.Format = CopyText
			case "csv":
				opts.Format = CopyCSV
			case "binary":
				opts.Format = CopyBinary
			default:
				return nil, opts, errAt(CodeInvalidParameter, d.Location, "COPY format %q not recognized", defString(d))
			}
		case "delimiter":
			if opts.Delimiter, err = oneByte(d, "delimiter"); err != nil {
				return nil, opts, err
			}
		case "quote":
			if opts.Quote, err = oneByte(d, "quote"); err != nil {
				return nil, opts, err
			}
		case "escape":
			if opts.Escape, err = oneByte(d, "escape"); err != nil {
				return nil, opts, err
			}
		case "null":
			opts.Null = defString(d)
		case "header":
			v := strings.ToLower(defString(d))
			switch v {
			case "", "true", "on", "1", "match":
				opts.Header = true
			case "false", "off", "0":
			default:
				return nil, opts, errAt(CodeInvalidParameter, d.Location, "header requires a Boolean value or \"match\"")
			}
		case "encoding":
			if e := strings.ToLower(strings.ReplaceAll(defString(d), "-", "")); e != "utf8" && e != "unicode" {
				return nil, opts, errAt(CodeFeatureNotSupported, d.Location, "COPY encoding %q is not supported: fineod speaks UTF8", defString(d))
			}
		case "freeze":
		default:
			return nil, opts, errAt(CodeFeatureNotSupported, d.Location, "COPY option %q is not supported", d.Defname)
		}
	}
	switch opts.Format {
	case CopyBinary:
		for _, o := range []string{"delimiter", "null", "header", "quote", "escape"} {
			if seen[o] {
				return nil, opts, errorf(CodeSyntaxError, "cannot specify %s in BINARY mode", strings.ToUpper(o))
			}
		}
	case CopyText:
		if seen["quote"] || seen["escape"] {
			return nil, opts, errorf(CodeFeatureNotSupported, "COPY quote and escape are available only in CSV mode")
		}
		if opts.Delimiter == '\\' || opts.Delimiter == '\r' || opts.Delimiter == '\n' {
			return nil, opts, errorf(CodeInvalidParameter, "COPY delimiter cannot be %q", opts.Delimiter)
		}
	}
	return cs, opts, nil
}

func copyQuoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// copyColumns resolves the column list of COPY t (cols) against t.
func copyColumns(t TableInfo, attlist []*pg.Node) ([]ColumnInfo, error) {
	if len(attlist) == 0 {
		return t.Columns, nil
	}
	var out []ColumnInfo
	seen := map[string]bool{}
	for _, a := range attlist {
		name := strVal(a)
		var col *ColumnInfo
		for i := range t.Columns {
			if t.Columns[i].Name == name {
				col = &t.Columns[i]
			}
		}
		if col == nil {
			for i := range t.Columns {
				if equalFold(t.Columns[i].Name, name) {
					col = &t.Columns[i]
				}
			}
		}
		if col == nil {
			return nil, errorf(CodeUndefinedColumn, "column %q of relation %q does not exist", name, t.Name)
		}
		if seen[col.Name] {
			return nil, errorf("42701", "column %q specified more than once", col.Name)
		}
		seen[col.Name] = true
		out = append(out, *col)
	}
	return out, nil
}

// CopyOut runs COPY ... TO STDOUT: it returns the rows (a Result whose Tag
// is "COPY n") and the options of their format.
func (s *Session) CopyOut(ctx context.Context, query string) (*Result, CopyOptions, error) {
	res, opts, err := s.copyOut(ctx, query)
	return res, opts, asError(err)
}

func (s *Session) copyOut(ctx context.Context, query string) (*Result, CopyOptions, error) {
	cs, opts, err := parseCopy(query, false)
	if err != nil {
		return nil, opts, err
	}
	var st *Stmt
	if cs.Query != nil {
		if cs.Query.GetSelectStmt() == nil {
			return nil, opts, errorf(CodeFeatureNotSupported, "COPY (query) TO supports only SELECT and VALUES")
		}
		p, err := s.build(cs.Query, query, nil)
		if err != nil {
			return nil, opts, err
		}
		st = &Stmt{sess: s, prep: p}
	} else {
		t, err := s.newBinder(query, nil).lookupTable(cs.Relation)
		if err != nil {
			return nil, opts, err
		}
		cols, err := copyColumns(t, cs.Attlist)
		if err != nil {
			return nil, opts, err
		}
		names := make([]string, len(cols))
		for i, c := range cols {
			names[i] = copyQuoteIdent(c.Name)
		}
		from := copyQuoteIdent(t.Name)
		if t.Database != "" && t.Database != s.database {
			from = copyQuoteIdent(t.Database) + "." + from
		}
		if st, err = s.Prepare(ctx, "SELECT "+strings.Join(names, ", ")+" FROM "+from, nil); err != nil {
			return nil, opts, err
		}
	}
	res, err := st.Execute(ctx, nil)
	if err != nil {
		return nil, opts, err
	}
	res.tag = "COPY " + strconv.Itoa(res.rows)
	return res, opts, nil
}

// CopyIn is a running COPY t [(cols)] FROM STDIN: a bulk write through the
// Writer, the same path as INSERT and HTTP ingest. The wire server decodes
// the data by Columns and Options and calls WriteRows with batches of
// rows, then Done (or Abort). Rows are written in batches of 10,000 as they
// arrive, so a failed COPY keeps the batches written before the failure
// (fineod has no rollback).
//
// The table's columns decide what each value is: the time column is the
// point's time (a row without one gets the time the COPY started; a NULL
// time is 23502), tags become tags, fields fields; NULL tags and fields are
// left out, and a row whose fields are all NULL is not written. The tag
// "COPY n" counts the rows written.
//
// A table that does not exist is created by its first COPY when the
// statement names its columns and the data is text or CSV: time is
// timestamptz; every other column whose values in the first batch all read
// as numbers is a double precision field, as booleans a boolean field, and
// any other column is a tag (text dimensions identify series, as in line
// protocol); a column of only NULLs is a text field. Otherwise (binary
// data, no column list) it is 42P01: declare it first with CREATE TABLE.
//
// A CopyIn is not safe for concurrent use.
type CopyIn struct {
	sess    *Session
	table   TableInfo
	targets []ColumnInfo
	names   [][]byte
	timeCol int
	opts    CopyOptions
	now     int64
	bld     *schema.Builder
	line    int // data lines (rows) consumed, for error messages
	written int
	create  bool    // the table is created from the first batch
	scratch *Vector // parsing text values of a created table
}

// CopyIn starts COPY ... FROM STDIN.
func (s *Session) CopyIn(ctx context.Context, query string) (*CopyIn, error) {
	ci, err := s.copyIn(ctx, query)
	return ci, asError(err)
}

func (s *Session) copyIn(ctx context.Context, query string) (*CopyIn, error) {
	cs, opts, err := parseCopy(query, true)
	if err != nil {
		return nil, err
	}
	if s.eng.w == nil {
		return nil, errorf(CodeFeatureNotSupported, "this database is read-only: COPY FROM is not available")
	}
	ci := &CopyIn{sess: s, opts: opts, now: s.eng.now().UnixNano(), timeCol: -1}
	if opts.Header {
		ci.line = 1
	}
	t, err := s.newBinder(query, nil).lookupTable(cs.Relation)
	if err != nil {
		var e *Error
		_, canCreate := s.eng.w.(SchemaWriter)
		if len(cs.Attlist) == 0 || opts.Format == CopyBinary || !canCreate || !asSQLError(err, &e) || e.Code != CodeUndefinedTable {
			if asSQLError(err, &e) && e.Code == CodeUndefinedTable {
				e.Hint = "COPY creates a table only from text or CSV data with a column list; declare it with CREATE TABLE ... WITH (tags = '...')."
			}
			return nil, err
		}
		db, err := s.resolveSchema(cs.Relation.Schemaname, cs.Relation.Location)
		if err != nil {
			return nil, err
		}
		ci.create = true
		ci.table = TableInfo{Database: db, Name: cs.Relation.Relname}
		seen := map[string]bool{}
		for _, a := range cs.Attlist {
			name := strVal(a)
			if seen[name] {
				return nil, errorf("42701", "column %q specified more than once", name)
			}
			seen[name] = true
			c := ColumnInfo{Name: name, Type: TypeText, Kind: KindTag}
			if name == "time" {
				c.Type, c.Kind = TypeTimestamptz, KindTime
			}
			ci.targets = append(ci.targets, c)
		}
	} else {
		ci.table = t
		if ci.targets, err = copyColumns(t, cs.Attlist); err != nil {
			return nil, err
		}
	}
	ci.setTargets(ci.targets)
	ci.bld = schema.NewBuilder(ci.table.Database)
	return ci, nil
}

func (ci *CopyIn) setTargets(cols []ColumnInfo) {
	ci.targets = cols
	ci.names = make([][]byte, len(cols))
	ci.timeCol = -1
	for i, c := range cols {
		ci.names[i] = []byte(c.Name)
		if c.Kind == KindTime {
			ci.timeCol = i
		}
	}
}

// Columns returns the columns of the data, in order.
func (ci *CopyIn) Columns() []ResultColumn {
	out := make([]ResultColumn, len(ci.targets))
	for i, c := range ci.targets {
		out[i] = ResultColumn{Name: c.Name, Type: c.Type}
	}
	return out
}

// Options returns the format of the data.
func (ci *CopyIn) Options() CopyOptions { return ci.opts }

// WriteRows adds decoded rows, one value per column (the Go types of
// Stmt.Execute parameters), writing a batch every 10,000 rows. The rows
// are not kept.
func (ci *CopyIn) WriteRows(ctx context.Context, rows [][]any) error {
	if ci.create {
		if err := ci.createTable(ctx, rows); err != nil {
			return asError(err)
		}
	}
	tname := []byte(ci.table.Name)
	for _, row := range rows {
		ci.line++
		if len(row) != len(ci.targets) {
			return ci.errorf(CodeBadCopyFormat, "expected %d columns, got %d", len(ci.targets), len(row))
		}
		t := ci.now
		if ci.timeCol >= 0 {
			switch v := row[ci.timeCol].(type) {
			case nil:
				return ci.errorf("23502", "null value in column \"time\" of relation %q violates not-null constraint", ci.table.Name)
			case time.Time:
				t = v.UnixNano()
			default:
				return ci.errorf(CodeInvalidTextRepr, "invalid input syntax for type timestamp with time zone: \"%v\"", v)
			}
		}
		ci.bld.StartRow(tname, t)
		for i, v := range row {
			if i == ci.timeCol || v == nil {
				continue
			}
			if err := ci.add(i, v); err != nil {
				return err
			}
		}
		ci.bld.EndRow()
		if ci.bld.Rows() >= copyFlushRows {
			if err := ci.flush(ctx); err != nil {
				return err
			}
		}
	}
	return nil
}

// CodeBadCopyFormat is bad_copy_file_format.
const CodeBadCopyFormat = "22P04"

func (ci *CopyIn) errorf(code, format string, args ...any) error {
	return errorf(code, "COPY %s, line %d: %s", ci.table.Name, ci.line, fmt.Sprintf(format, args...))
}

// add adds value v of target column i to the current row.
func (ci *CopyIn) add(i int, v any) error {
	c, name := &ci.targets[i], ci.names[i]
	if c.Kind == KindTag {
		s, ok := v.(string)
		if !ok {
			s = fmt.Sprint(v)
		}
		ci.bld.AddTag(name, []byte(s))
		return nil
	}
	if s, ok := v.(string); ok && phys(c.Type) != physStr {
		// numeric arrives as text; so do the values of a created table.
		if ci.scratch == nil || ci.scratch.Type != c.Type {
			ci.scratch = newVec(c.Type, 1)
		}
		if err := parseInto(&execCtx{loc: ci.sess.location()}, s, ci.scratch, 0); err != nil {
			var e *Error
			if asSQLError(err, &e) {
				return ci.errorf(e.Code, "column %s: %s", c.Name, e.Message)
			}
			return err
		}
		v = rowValue(c.Type, ci.scratch, 0)
		if c.Type == TypeNumeric {
			if s, ok := v.(string); ok {
				f, _ := strconv.ParseFloat(s, 64)
				v = f
			}
		}
	}
	switch x := v.(type) {
	case float64:
		if isIntType(c.Type) {
			ci.bld.AddInt(name, int64(x))
		} else {
			ci.bld.AddFloat(name, x)
		}
	case int64:
		if phys(c.Type) == physF64 {
			ci.bld.AddFloat(name, float64(x))
		} else {
			ci.bld.AddInt(name, x)
		}
	case bool:
		ci.bld.AddBool(name, x)
	case string:
		ci.bld.AddString(name, []byte(x))
	case []byte:
		ci.bld.AddString(name, x)
	case time.Time:
		ci.bld.AddInt(name, x.UnixNano())
	default:
		return ci.errorf(CodeDatatypeMismatch, "column %s: unsupported value %T", c.Name, v)
	}
	return nil
}

// createTable declares the table of a COPY into a new table from the
// values of its first batch, and makes the target columns those of the
// new table.
func (ci *CopyIn) createTable(ctx context.Context, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	ci.create = false
	var tags []string
	var fields []schema.FieldSpec
	cols := append([]ColumnInfo(nil), ci.targets...)
	for i := range cols {
		c := &cols[i]
		if c.Kind == KindTime {
			continue
		}
		num, boolean, seen := true, true, false
		for _, r := range rows {
			s, ok := r[i].(string)
			if !ok {
				continue
			}
			seen = true
			if _, err := strconv.ParseFloat(strings.TrimSpace(s), 64); err != nil {
				num = false
			}
			if _, ok := parseBool(s); !ok {
				boolean = false
			}
		}
		switch {
		case !seen:
			c.Kind, c.Type = KindField, TypeText
			fields = append(fields, schema.FieldSpec{Name: c.Name, Type: int(schema.TypeString)})
		case num:
			c.Kind, c.Type = KindField, TypeFloat8
			fields = append(fields, schema.FieldSpec{Name: c.Name, Type: int(schema.TypeFloat)})
		case boolean:
			c.Kind, c.Type = KindField, TypeBool
			fields = append(fields, schema.FieldSpec{Name: c.Name, Type: int(schema.TypeBool)})
		default:
			tags = append(tags, c.Name)
		}
	}
	s := ci.sess
	if err := s.eng.w.(SchemaWriter).EnsureTable(ctx, s.tenant, ci.table.Database, ci.table.Name, tags, fields); err != nil {
		return err
	}
	// Values keep arriving as text (the data's columns were announced
	// before the types were known); add parses them by these types.
	ci.setTargets(cols)
	return nil
}

func (ci *CopyIn) flush(ctx context.Context) error {
	if ci.bld.Rows() == 0 {
		return nil
	}
	n := ci.bld.Rows()
	if err := ci.sess.eng.w.WriteBatch(ctx, ci.sess.tenant, ci.bld); err != nil {
		return asError(err)
	}
	ci.written += n
	ci.bld.Reset(ci.table.Database)
	return nil
}

// Done writes the remaining rows and returns the command tag "COPY n".
func (ci *CopyIn) Done(ctx context.Context) (string, error) {
	if err := ci.flush(ctx); err != nil {
		return "", err
	}
	return "COPY " + strconv.Itoa(ci.written), nil
}

// Abort drops the rows not yet written.
func (ci *CopyIn) Abort() { ci.bld.Reset(ci.table.Database) }

func asSQLError(err error, e **Error) bool {
	x, ok := err.(*Error)
	if ok {
		*e = x
	}
	return ok
}
