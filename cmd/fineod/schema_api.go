package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/fineod/fineod/engine"
	"github.com/fineod/fineod/schema"
	"github.com/fineod/fineod/sql"
)

// The HTTP schema API: read the logical schema of a database and change it
// (late binding, DESIGN.md section 1). Every change is one schema.Alter
// through the log, so it replicates, replays and is a row of
// fineo.schema_history; its operations apply atomically. The tenant is
// schema.DefaultTenant (there is no authentication yet); ?db= names the
// database (default schema.DefaultDatabase).
//
//	GET   /api/v1/schema                                  {"database", "catalog_version", "tables": [table...]}
//	GET   /api/v1/schema/history[?table=t]                {"database", "history": [entry...]}
//	GET   /api/v1/schema/tables/{table}                   table (by name or table alias)
//	PATCH /api/v1/schema/tables/{table}                   table operations -> the updated table
//	GET   /api/v1/schema/tables/{table}/columns/{column}  column (by name or alias; dropped ones too)
//	PATCH /api/v1/schema/tables/{table}/columns/{column}  column operations -> the updated column
//
// A table is
//
//	{"name", "database", "aliases": [..], "members": [physical table names],
//	 "strict", "ttl": "720h0m0s", "ttl_seconds", "schema_version",
//	 "tags": [..], "columns": [column...], "unmapped": [source...]}
//
// a column {"name", "type" (SQL name), "hidden" (dropped), "shadowed" (a
// tag or time has its name), "aliases", "sources": [source...]}, and a
// source {"table" (physical table), "field" (raw name), "field_id",
// "raw_type" (SQL name of the type as written), "sealed",
// "conversions": [{"expr", "ref"}]}.
//
// The body of PATCH .../tables/{table} is a JSON object whose keys are
// operations, applied in the order written:
//
//	"rename_to": "name"        rename_table (the old name stays a table alias)
//	"add_alias": "name"        add_table_alias (a table of that name merges in)
//	"remove_alias": "name"     remove_table_alias
//	"strict": true|false       set_strict
//	"ttl": "30d"|"720h"|0      set_ttl: a Go duration, also with d (days) and
//	                           w (weeks) units, or a number of seconds; 0 keeps
//	                           data forever
//	"ops": [op...]             the general form, one object per schema.AlterOp:
//	                           {"op", "column", "name", "type" (SQL type name),
//	                            "expr" (or "using"), "ref", "enabled", "ttl" or
//	                            "int" (set_ttl in ns)}, with op one of
//	                           rename_table, add_table_alias, remove_table_alias,
//	                           rename_column, add_column, drop_column,
//	                           restore_column, alter_column_type,
//	                           add_field_alias, remove_field_alias, set_strict,
//	                           set_ttl
//
// The body of PATCH .../columns/{column} is an object of
//
//	"name": "new"              rename_column (the old name stays an alias)
//	"add_alias": "raw"         add_field_alias: raw field name raw feeds the column
//	"remove_alias": "raw"      remove_field_alias
//	"hidden": true|false       drop_column / restore_column
//	"type": "double precision" alter_column_type, with optional
//	"using": "temp * 9 / 5 + 32" a conversion of the data written so far, and
//	"ref": "temp"              the one column it reads (default: the column
//	                           itself, else the column the expression compiles
//	                           against)
//
// A type change is checked as ALTER TABLE ... ALTER COLUMN ... TYPE does:
// without "using" the column's type must cast to the new one; "using" must
// compile as a conversion (sql.CompileConversion) of column ref.
//
// Errors are {"error": message, "code": SQLSTATE when known}: 400 for a bad
// body or a refused change, 404 for an unknown database, table or column,
// 409 for a name already taken, 413 for a body over 1 MiB. The Alter
// records User "http" and Statement "METHOD URI BODY".

// schemaBodyLimit is the largest PATCH body accepted.
const schemaBodyLimit = 1 << 20

// schemaUser is the user schema changes made over HTTP are recorded with.
const schemaUser = "http"

type tableJSON struct {
	Name          string       `json:"name"`
	Database      string       `json:"database"`
	Aliases       []string     `json:"aliases"`
	Members       []string     `json:"members"`
	Strict        bool         `json:"strict"`
	TTL           string       `json:"ttl"`
	TTLSeconds    int64        `json:"ttl_seconds"`
	SchemaVersion uint64       `json:"schema_version"`
	Tags          []string     `json:"tags"`
	Columns       []columnJSON `json:"columns"`
	Unmapped      []sourceJSON `json:"unmapped"`
}

type columnJSON struct {
	Name     string       `json:"name"`
	Type     string       `json:"type"`
	Hidden   bool         `json:"hidden"`
	Shadowed bool         `json:"shadowed,omitempty"`
	Aliases  []string     `json:"aliases"`
	Sources  []sourceJSON `json:"sources"`
}

type sourceJSON struct {
	Table       string              `json:"table"`
	Field       string              `json:"field"`
	FieldID     uint32              `json:"field_id"`
	RawType     string              `json:"raw_type"`
	Sealed      bool                `json:"sealed,omitempty"`
	Conversions []schema.Conversion `json:"conversions,omitempty"`
}

type schemaJSON struct {
	Database       string      `json:"database"`
	CatalogVersion uint64      `json:"catalog_version"`
	Tables         []tableJSON `json:"tables"`
}

type historyJSON struct {
	Version   uint64    `json:"version"`
	Time      time.Time `json:"time"`
	User      string    `json:"user"`
	Table     string    `json:"table"`
	Change    string    `json:"change"`
	Statement string    `json:"statement"`
}

type schemaHistoryJSON struct {
	Database string        `json:"database"`
	History  []historyJSON `json:"history"`
}

type errorJSON struct {
	Error string `json:"error"`
	Code  string `json:"code,omitempty"`
}

// schemaAPI serves the schema API of one engine.
type schemaAPI struct{ db *engine.DB }

// registerSchemaAPI mounts the schema API on mux.
func registerSchemaAPI(mux *http.ServeMux, db *engine.DB) {
	a := schemaAPI{db}
	mux.HandleFunc("GET /api/v1/schema", a.getSchema)
	mux.HandleFunc("GET /api/v1/schema/tables", a.getSchema)
	mux.HandleFunc("GET /api/v1/schema/history", a.getHistory)
	mux.HandleFunc("GET /api/v1/schema/tables/{table}", a.getTable)
	mux.HandleFunc("PATCH /api/v1/schema/tables/{table}", a.patchTable)
	mux.HandleFunc("GET /api/v1/schema/tables/{table}/columns/{column}", a.getColumn)
	mux.HandleFunc("PATCH /api/v1/schema/tables/{table}/columns/{column}", a.patchColumn)
}

// apiError is an error answer: an HTTP status and a message.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.msg }

func badRequest(format string, args ...any) *apiError {
	return &apiError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

func writeSchemaJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeAPIError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		ae = &apiError{status: http.StatusInternalServerError, msg: err.Error()}
	}
	writeSchemaJSON(w, ae.status, errorJSON{Error: ae.msg, Code: ae.code})
}

// alterStatus maps a refused change to an HTTP status by its SQLSTATE.
func alterStatus(code string) int {
	switch code {
	case "42703", "42P01", "42704":
		return http.StatusNotFound
	case "42701", "42P07":
		return http.StatusConflict
	}
	return http.StatusBadRequest
}

// database returns the tenant's id and the database a request names. A
// database nothing was written to yet is an error, except the default one,
// which merely has no tables (ok false).
func (a schemaAPI) database(r *http.Request) (ten uint32, db string, ok bool, err error) {
	db = r.URL.Query().Get("db")
	if db == "" {
		db = schema.DefaultDatabase
	}
	t, found := a.db.Catalog().Tenant(schema.DefaultTenant)
	if found && slices.Contains(t.Databases, db) {
		return t.ID, db, true, nil
	}
	if db == schema.DefaultDatabase {
		return 0, db, false, nil
	}
	return 0, db, false, &apiError{status: http.StatusNotFound, code: "3D000", msg: fmt.Sprintf("database %q does not exist", db)}
}

// table resolves the {table} of a request (a name or a table alias) to
// its logical table.
func (a schemaAPI) table(r *http.Request) (*schema.Table, error) {
	ten, db, ok, err := a.database(r)
	if err != nil {
		return nil, err
	}
	name := r.PathValue("table")
	if t, found := a.db.Catalog().ResolveTable(ten, db, name); ok && found {
		return t, nil
	}
	return nil, &apiError{status: http.StatusNotFound, code: "42P01", msg: fmt.Sprintf("table %q does not exist in database %q", name, db)}
}

func (a schemaAPI) getSchema(w http.ResponseWriter, r *http.Request) {
	ten, db, ok, err := a.database(r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	cat := a.db.Catalog()
	out := schemaJSON{Database: db, CatalogVersion: cat.Version(), Tables: []tableJSON{}}
	if ok {
		for _, t := range cat.LogicalTables(ten, db) {
			out.Tables = append(out.Tables, a.tableObject(t))
		}
	}
	writeSchemaJSON(w, http.StatusOK, out)
}

func (a schemaAPI) getHistory(w http.ResponseWriter, r *http.Request) {
	ten, db, ok, err := a.database(r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	var names []string
	if name := r.URL.Query().Get("table"); name != "" {
		t, found := a.db.Catalog().ResolveTable(ten, db, name)
		if !ok || !found {
			writeAPIError(w, &apiError{status: http.StatusNotFound, code: "42P01", msg: fmt.Sprintf("table %q does not exist in database %q", name, db)})
			return
		}
		names = append([]string{t.Name}, t.Aliases...)
	}
	out := schemaHistoryJSON{Database: db, History: []historyJSON{}}
	for _, h := range a.db.Catalog().History(ten) {
		if !ok || h.Database != db || (names != nil && !slices.Contains(names, h.Table)) {
			continue
		}
		out.History = append(out.History, historyJSON{Version: h.Version, Time: time.Unix(0, h.Time).UTC(),
			User: h.User, Table: h.Table, Change: h.Change, Statement: h.Statement})
	}
	writeSchemaJSON(w, http.StatusOK, out)
}

func (a schemaAPI) getTable(w http.ResponseWriter, r *http.Request) {
	t, err := a.table(r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeSchemaJSON(w, http.StatusOK, a.tableObject(t))
}

func (a schemaAPI) getColumn(w http.ResponseWriter, r *http.Request) {
	t, err := a.table(r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	col, err := lookupColumn(t, r.PathValue("column"))
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeSchemaJSON(w, http.StatusOK, a.columnObject(t, col))
}

// findColumn finds a column of t, dropped ones too, by name or alias,
// else by its unique case-insensitive name.
func lookupColumn(t *schema.Table, name string) (*schema.LogicalColumn, error) {
	if c, ok := t.LookupColumn(name, true); ok {
		return c, nil
	}
	var match *schema.LogicalColumn
	for i := range t.Columns {
		if strings.EqualFold(t.Columns[i].Name, name) {
			if match != nil {
				return nil, badRequest("column %q of table %q is ambiguous: several columns differ only in case", name, t.Name)
			}
			match = &t.Columns[i]
		}
	}
	if match == nil {
		return nil, &apiError{status: http.StatusNotFound, code: "42703", msg: fmt.Sprintf("column %q of table %q does not exist", name, t.Name)}
	}
	return match, nil
}

func (a schemaAPI) tableObject(t *schema.Table) tableJSON {
	cat := a.db.Catalog()
	out := tableJSON{
		Name: t.Name, Database: t.Database, Aliases: nonNil(t.Aliases), Members: []string{},
		Strict: t.Strict, TTL: time.Duration(t.TTL).String(), TTLSeconds: t.TTL / int64(time.Second),
		SchemaVersion: t.SchemaVersion, Tags: nonNil(cat.TagKeys(t)), Columns: []columnJSON{}, Unmapped: []sourceJSON{},
	}
	for _, id := range t.Members {
		if m, ok := cat.TableByID(id); ok {
			out.Members = append(out.Members, m.Name)
		}
	}
	for i := range t.Columns {
		out.Columns = append(out.Columns, a.columnObject(t, &t.Columns[i]))
	}
	for _, s := range cat.Unmapped(t) {
		out.Unmapped = append(out.Unmapped, a.sourceObject(t, s))
	}
	return out
}

func (a schemaAPI) columnObject(t *schema.Table, c *schema.LogicalColumn) columnJSON {
	out := columnJSON{Name: c.Name, Type: c.Type.SQLName(), Hidden: c.Hidden, Aliases: nonNil(c.Aliases),
		Shadowed: c.Name == "time" || t.HasTag(c.Name), Sources: []sourceJSON{}}
	for _, s := range c.Sources {
		out.Sources = append(out.Sources, a.sourceObject(t, s))
	}
	return out
}

func (a schemaAPI) sourceObject(t *schema.Table, s schema.Source) sourceJSON {
	cat := a.db.Catalog()
	out := sourceJSON{Table: t.Name, FieldID: s.Field, Conversions: s.Conv}
	if s.Table != 0 && s.Table != t.ID {
		if m, ok := cat.TableByID(s.Table); ok {
			out.Table = m.Name
		}
	}
	if f, ok := cat.SourceField(t, s); ok {
		out.Field, out.RawType, out.Sealed = f.Name, f.Type.SQLName(), f.Sealed
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// opJSON is one operation of the general form: a schema.AlterOp with a
// type by its SQL name and a friendlier ttl.
type opJSON struct {
	Op      string          `json:"op"`
	Column  string          `json:"column"`
	Name    string          `json:"name"`
	Type    string          `json:"type"`
	Expr    string          `json:"expr"`
	Using   string          `json:"using"`
	Ref     string          `json:"ref"`
	Enabled *bool           `json:"enabled"`
	TTL     json.RawMessage `json:"ttl"`
	Int     *int64          `json:"int"`

	src string // where the request gave it, for error messages
}

// opArgs lists, per operation, the arguments it requires and those it
// takes; "ttl" stands for ttl or int, "expr" for expr or using.
var opArgs = map[string]struct{ required, optional []string }{
	schema.OpRenameTable:      {[]string{"name"}, nil},
	schema.OpAddTableAlias:    {[]string{"name"}, nil},
	schema.OpRemoveTableAlias: {[]string{"name"}, nil},
	schema.OpRenameColumn:     {[]string{"column", "name"}, nil},
	schema.OpAddColumn:        {[]string{"name", "type"}, nil},
	schema.OpDropColumn:       {[]string{"column"}, nil},
	schema.OpRestoreColumn:    {[]string{"column"}, nil},
	schema.OpAlterColumnType:  {[]string{"column", "type"}, []string{"expr", "ref"}},
	schema.OpAddFieldAlias:    {[]string{"column", "name"}, nil},
	schema.OpRemoveFieldAlias: {[]string{"column", "name"}, nil},
	schema.OpSetStrict:        {[]string{"enabled"}, nil},
	schema.OpSetTTL:           {[]string{"ttl"}, nil},
}

// given lists the arguments o carries.
func (o *opJSON) given() []string {
	var out []string
	add := func(name string, ok bool) {
		if ok {
			out = append(out, name)
		}
	}
	add("column", o.Column != "")
	add("name", o.Name != "")
	add("type", o.Type != "")
	add("expr", o.Expr != "" || o.Using != "")
	add("ref", o.Ref != "")
	add("enabled", o.Enabled != nil)
	add("ttl", len(o.TTL) > 0 || o.Int != nil)
	return out
}

// schemaModel follows the columns of a table through the operations of
// one request, so that a type change after a rename checks its conversion
// against the right column.
type schemaModel struct {
	table *schema.Table
	cols  []schema.LogicalColumn
}

func newSchemaModel(t *schema.Table) *schemaModel {
	m := &schemaModel{table: t}
	for _, c := range t.Columns {
		c.Aliases = slices.Clone(c.Aliases)
		c.Sources = nil
		m.cols = append(m.cols, c)
	}
	return m
}

// lookup finds a column by name, then by alias; visible ones first.
func (m *schemaModel) lookup(name string) *schema.LogicalColumn {
	for _, hidden := range []bool{false, true} {
		for _, byAlias := range []bool{false, true} {
			for i := range m.cols {
				c := &m.cols[i]
				if c.Hidden == hidden && ((!byAlias && c.Name == name) || (byAlias && slices.Contains(c.Aliases, name))) {
					return c
				}
			}
		}
	}
	return nil
}

// step makes op's schema.AlterOp, checking what the catalog cannot (type
// names, conversions), and applies it to the model.
func (m *schemaModel) step(o *opJSON) (schema.AlterOp, error) {
	where := o.src
	args, ok := opArgs[o.Op]
	if !ok {
		known := make([]string, 0, len(opArgs))
		for k := range opArgs {
			known = append(known, k)
		}
		slices.Sort(known)
		return schema.AlterOp{}, badRequest("%s: unknown op %q (want one of %s)", where, o.Op, strings.Join(known, ", "))
	}
	given := o.given()
	for _, g := range given {
		if !slices.Contains(args.required, g) && !slices.Contains(args.optional, g) {
			return schema.AlterOp{}, badRequest("%s: %s takes no %q", where, o.Op, g)
		}
	}
	for _, r := range args.required {
		if !slices.Contains(given, r) {
			return schema.AlterOp{}, badRequest("%s: %s needs %q", where, o.Op, r)
		}
	}
	if o.Expr != "" && o.Using != "" {
		return schema.AlterOp{}, badRequest("%s: give expr or using, not both", where)
	}
	op := schema.AlterOp{Op: o.Op, Column: o.Column, Name: o.Name, Ref: o.Ref}
	switch o.Op {
	case schema.OpSetStrict:
		op.Enabled = *o.Enabled
	case schema.OpSetTTL:
		if o.Int != nil {
			if len(o.TTL) > 0 {
				return schema.AlterOp{}, badRequest("%s: give ttl or int, not both", where)
			}
			op.Int = *o.Int
		} else {
			ttl, err := ttlValue(o.TTL)
			if err != nil {
				return schema.AlterOp{}, badRequest("%s: %v", where, err)
			}
			op.Int = ttl
		}
	case schema.OpAddColumn:
		ft, _, err := fieldTypeNamed(o.Type)
		if err != nil {
			return schema.AlterOp{}, badRequest("%s: %v", where, err)
		}
		op.Type = int(ft)
		m.cols = append(m.cols, schema.LogicalColumn{Name: o.Name, Type: ft})
	case schema.OpRenameColumn:
		if c := m.lookup(o.Column); c != nil && !c.Hidden {
			c.Aliases = slices.DeleteFunc(c.Aliases, func(a string) bool { return a == o.Name })
			if !slices.Contains(c.Aliases, c.Name) {
				c.Aliases = append(c.Aliases, c.Name)
			}
			c.Name = o.Name
		}
	case schema.OpDropColumn, schema.OpRestoreColumn:
		if c := m.lookup(o.Column); c != nil {
			c.Hidden = o.Op == schema.OpDropColumn
		}
	case schema.OpAddFieldAlias:
		if c := m.lookup(o.Column); c != nil && !c.Hidden {
			c.Aliases = append(c.Aliases, o.Name)
		}
	case schema.OpAlterColumnType:
		op.Expr = strings.TrimSpace(o.Expr + o.Using)
		if err := m.alterType(&op, o.Type); err != nil {
			return schema.AlterOp{}, err
		}
	}
	return op, nil
}

// alterType checks a type change as ALTER TABLE ... ALTER COLUMN ... TYPE
// does and fills in the conversion's ref.
func (m *schemaModel) alterType(op *schema.AlterOp, typ string) error {
	ft, out, err := fieldTypeNamed(typ)
	if err != nil {
		return badRequest("column %q: %v", op.Column, err)
	}
	op.Type = int(ft)
	col := m.lookup(op.Column)
	if col != nil && col.Hidden {
		return badRequest("column %q of table %q is dropped: restore it first", op.Column, m.table.Name)
	}
	if col == nil {
		return &apiError{status: http.StatusNotFound, code: "42703", msg: fmt.Sprintf("column %q of table %q does not exist", op.Column, m.table.Name)}
	}
	if op.Expr == "" {
		if op.Ref != "" {
			return badRequest("column %q: ref %q without a using expression", op.Column, op.Ref)
		}
		in, err := columnSQLType(col.Type)
		if err == nil {
			_, err = sql.CompileCast(in, out)
		}
		if err != nil {
			return badRequest("column %q cannot be cast automatically to type %s: give a using expression (for example %q)",
				col.Name, ft.SQLName(), col.Name+"::"+ft.SQLName())
		}
		col.Type = ft
		return nil
	}
	// The names the expression may read the column as: the given ref, or
	// else the column itself and then every other visible column, by name
	// and then by alias. The first that compiles is the ref: an
	// expression reading two columns compiles with none.
	var cands []string
	if op.Ref != "" {
		if c := m.lookup(op.Ref); c == nil || c.Hidden {
			return &apiError{status: http.StatusNotFound, code: "42703", msg: fmt.Sprintf("column %q: the using expression reads column %q, which does not exist in table %q", op.Column, op.Ref, m.table.Name)}
		}
		cands = []string{op.Ref}
	} else {
		cands = append([]string{col.Name}, col.Aliases...)
		for i := range m.cols {
			if c := &m.cols[i]; c != col && !c.Hidden {
				cands = append(cands, c.Name)
			}
		}
		for i := range m.cols {
			if c := &m.cols[i]; c != col && !c.Hidden {
				cands = append(cands, c.Aliases...)
			}
		}
	}
	var first error
	for _, ref := range cands {
		in, err := columnSQLType(m.lookup(ref).Type)
		if err == nil {
			_, err = sql.CompileConversion(op.Expr, ref, in, out)
		}
		if err == nil {
			op.Ref = ref
			col.Type = ft
			return nil
		}
		if first == nil {
			first = err
		}
	}
	msg := first.Error()
	if op.Ref == "" && len(cands) > 1 {
		var se *sql.Error
		if errors.As(first, &se) && se.Code == sql.CodeUndefinedColumn {
			msg = "it must read exactly one column of table " + strconv.Quote(m.table.Name)
		}
	}
	return badRequest("column %q: using expression %s: %s", op.Column, op.Expr, msg)
}

// fieldType resolves an SQL type name to the type a field column is
// declared as, and the SQL type such a column reads as.
func fieldTypeNamed(name string) (schema.Type, sql.Type, error) {
	st, err := sql.ParseType(name)
	if err != nil {
		return 0, 0, err
	}
	ft, err := sql.SchemaType(st)
	if err != nil {
		return 0, 0, err
	}
	out, err := columnSQLType(ft)
	return ft, out, err
}

// sqlType is the SQL type a column of type t reads as.
func columnSQLType(t schema.Type) (sql.Type, error) { return sql.ParseType(t.SQLName()) }

// ttlValue reads a ttl: a JSON number of seconds or a string parseTTL
// reads.
func ttlValue(raw json.RawMessage) (int64, error) {
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		f, err := n.Float64()
		if err != nil || f < 0 || f*1e9 > math.MaxInt64 {
			return 0, fmt.Errorf("invalid ttl %s: want a number of seconds, at least 0", raw)
		}
		return int64(math.Round(f * 1e9)), nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return 0, fmt.Errorf("invalid ttl %s: want a duration such as \"30d\" or \"720h\", or a number of seconds", raw)
	}
	return parseTTLArg(s)
}

// parseTTL reads a retention: a Go duration that may also use the units
// d (24h) and w (7d), such as "30d" or "1d12h"; a plain number of seconds;
// or "0" / "forever" for no retention.
func parseTTLArg(s string) (int64, error) {
	bad := fmt.Errorf("invalid ttl %q: want a duration such as \"30d\", \"12h\" or \"1w\", a number of seconds, or 0 to keep data forever", s)
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "":
		return 0, bad
	case "forever", "none", "off", "0":
		return 0, nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || f*1e9 > math.MaxInt64 {
			return 0, bad
		}
		return int64(math.Round(f * 1e9)), nil
	}
	var total float64
	for rest := s; rest != ""; {
		i := 0
		for i < len(rest) && (rest[i] == '.' || rest[i] >= '0' && rest[i] <= '9') {
			i++
		}
		j := i
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') && rest[j] != '.' {
			j++
		}
		if i == 0 || j == i {
			return 0, bad
		}
		var d float64
		switch rest[i:j] {
		case "d", "w":
			f, err := strconv.ParseFloat(rest[:i], 64)
			if err != nil {
				return 0, bad
			}
			d = f * float64(24*time.Hour)
			if rest[i:j] == "w" {
				d *= 7
			}
		default:
			gd, err := time.ParseDuration(rest[:j])
			if err != nil {
				return 0, bad
			}
			d = float64(gd)
		}
		total += d
		rest = rest[j:]
	}
	if total < 0 || total > math.MaxInt64 {
		return 0, bad
	}
	return int64(total), nil
}

// jsonMember is one key of a JSON object and its value.
type jsonMember struct {
	key string
	val json.RawMessage
}

// objectMembers decodes body as one JSON object and returns its members
// in the order written. A key given twice is an error.
func objectMembers(body []byte) ([]jsonMember, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, badRequest("invalid JSON body: %v", jsonErr(err))
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, badRequest("invalid JSON body: want an object of operations")
	}
	var out []jsonMember
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, badRequest("invalid JSON body: %v", jsonErr(err))
		}
		key := tok.(string)
		var val json.RawMessage
		if err := dec.Decode(&val); err != nil {
			return nil, badRequest("invalid JSON body: %q: %v", key, jsonErr(err))
		}
		if seen[key] {
			return nil, badRequest("invalid JSON body: key %q given twice", key)
		}
		seen[key] = true
		out = append(out, jsonMember{key, val})
	}
	if _, err := dec.Token(); err != nil {
		return nil, badRequest("invalid JSON body: %v", jsonErr(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, badRequest("invalid JSON body: data after the object")
	}
	if len(out) == 0 {
		return nil, badRequest("no operations: the body is an empty object")
	}
	return out, nil
}

func jsonErr(err error) error {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		return errors.New("unexpected end of input")
	}
	return err
}

// decodeValue decodes one jsonMember's value into v (a pointer), naming the
// key and what it wants on error.
func decodeValue(m jsonMember, v any, want string) error {
	if string(m.val) == "null" {
		return badRequest("%q: want %s, not null", m.key, want)
	}
	if err := json.Unmarshal(m.val, v); err != nil {
		return badRequest("%q: want %s", m.key, want)
	}
	return nil
}

// readBody reads a PATCH body of at most schemaBodyLimit bytes.
func readSchemaBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, schemaBodyLimit))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, &apiError{status: http.StatusRequestEntityTooLarge, msg: fmt.Sprintf("request body larger than %d bytes", schemaBodyLimit)}
		}
		return nil, badRequest("reading the body: %v", err)
	}
	return b, nil
}

// tableOps turns the body of PATCH .../tables/{table} into operations.
func tableOps(members []jsonMember) ([]opJSON, error) {
	var ops []opJSON
	for _, m := range members {
		switch m.key {
		case "rename_to", "add_alias", "remove_alias":
			var s string
			if err := decodeValue(m, &s, "a table name"); err != nil {
				return nil, err
			}
			op := map[string]string{"rename_to": schema.OpRenameTable, "add_alias": schema.OpAddTableAlias,
				"remove_alias": schema.OpRemoveTableAlias}[m.key]
			ops = append(ops, opJSON{Op: op, Name: s, src: m.key})
		case "strict":
			var b bool
			if err := decodeValue(m, &b, "true or false"); err != nil {
				return nil, err
			}
			ops = append(ops, opJSON{Op: schema.OpSetStrict, Enabled: &b, src: m.key})
		case "ttl":
			ops = append(ops, opJSON{Op: schema.OpSetTTL, TTL: m.val, src: m.key})
		case "ops":
			var list []json.RawMessage
			if err := decodeValue(m, &list, "an array of operations"); err != nil {
				return nil, err
			}
			for i, raw := range list {
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.DisallowUnknownFields()
				var o opJSON
				if err := dec.Decode(&o); err != nil {
					return nil, badRequest("ops[%d]: %v", i, jsonErr(err))
				}
				o.src = fmt.Sprintf("ops[%d]", i)
				ops = append(ops, o)
			}
		default:
			return nil, badRequest("unknown key %q (want rename_to, add_alias, remove_alias, strict, ttl or ops)", m.key)
		}
	}
	return ops, nil
}

// columnOps turns the body of PATCH .../columns/{column} into operations
// on column col.
func columnOps(col string, members []jsonMember) ([]opJSON, error) {
	var ops []opJSON
	typeAt := -1
	var using, ref *jsonMember
	for i := range members {
		m := &members[i]
		switch m.key {
		case "name", "add_alias", "remove_alias":
			var s string
			if err := decodeValue(*m, &s, "a name"); err != nil {
				return nil, err
			}
			op := map[string]string{"name": schema.OpRenameColumn, "add_alias": schema.OpAddFieldAlias,
				"remove_alias": schema.OpRemoveFieldAlias}[m.key]
			ops = append(ops, opJSON{Op: op, Column: col, Name: s, src: m.key})
			if m.key == "name" {
				col = s
			}
		case "hidden":
			var b bool
			if err := decodeValue(*m, &b, "true or false"); err != nil {
				return nil, err
			}
			op := schema.OpRestoreColumn
			if b {
				op = schema.OpDropColumn
			}
			ops = append(ops, opJSON{Op: op, Column: col, src: m.key})
		case "type":
			var s string
			if err := decodeValue(*m, &s, "an SQL type name such as \"double precision\""); err != nil {
				return nil, err
			}
			typeAt = len(ops)
			ops = append(ops, opJSON{Op: schema.OpAlterColumnType, Column: col, Type: s, src: m.key})
		case "using":
			using = m
		case "ref":
			ref = m
		default:
			return nil, badRequest("unknown key %q (want name, add_alias, remove_alias, hidden, type, using or ref)", m.key)
		}
	}
	for _, m := range []*jsonMember{using, ref} {
		if m == nil {
			continue
		}
		if typeAt < 0 {
			return nil, badRequest("%q needs \"type\"", m.key)
		}
		var s string
		if err := decodeValue(*m, &s, "a string"); err != nil {
			return nil, err
		}
		if m.key == "using" {
			ops[typeAt].Using = s
		} else {
			ops[typeAt].Ref = s
		}
	}
	return ops, nil
}

// alter applies ops to table t as one Alter and returns the table after
// the change.
func (a schemaAPI) alter(ctx context.Context, r *http.Request, t *schema.Table, body []byte, ops []opJSON) (*schema.Table, error) {
	m := newSchemaModel(t)
	al := &schema.Alter{Tenant: schema.DefaultTenant, Database: t.Database, Table: t.Name, User: schemaUser,
		Statement: strings.TrimSpace(r.Method + " " + r.URL.RequestURI() + " " + compactJSON(body))}
	for i := range ops {
		op, err := m.step(&ops[i])
		if err != nil {
			return nil, err
		}
		al.Ops = append(al.Ops, op)
	}
	if len(al.Ops) == 0 {
		return nil, badRequest("no operations")
	}
	if err := a.db.AlterTable(ctx, al); err != nil {
		var ae *engine.AlterError
		if errors.As(err, &ae) {
			code := ae.SQLState()
			return nil, &apiError{status: alterStatus(code), code: code, msg: ae.Error()}
		}
		if ctx.Err() != nil {
			return nil, &apiError{status: http.StatusServiceUnavailable, msg: err.Error()}
		}
		return nil, err
	}
	nt, ok := a.db.Catalog().TableByID(t.ID)
	if !ok {
		return nil, fmt.Errorf("table %q vanished after the change", t.Name)
	}
	return nt, nil
}

// compactJSON is body without insignificant white space (as is, if it is
// not JSON).
func compactJSON(body []byte) string {
	var b bytes.Buffer
	if err := json.Compact(&b, body); err != nil {
		return string(body)
	}
	return b.String()
}

func (a schemaAPI) patchTable(w http.ResponseWriter, r *http.Request) {
	t, err := a.table(r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	body, err := readSchemaBody(w, r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	members, err := objectMembers(body)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	ops, err := tableOps(members)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	nt, err := a.alter(r.Context(), r, t, body, ops)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeSchemaJSON(w, http.StatusOK, a.tableObject(nt))
}

func (a schemaAPI) patchColumn(w http.ResponseWriter, r *http.Request) {
	t, err := a.table(r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	col, err := lookupColumn(t, r.PathValue("column"))
	if err != nil {
		writeAPIError(w, err)
		return
	}
	body, err := readSchemaBody(w, r)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	members, err := objectMembers(body)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	ops, err := columnOps(col.Name, members)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	nt, err := a.alter(r.Context(), r, t, body, ops)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	name := col.Name
	for _, o := range ops {
		if o.Op == schema.OpRenameColumn {
			name = o.Name
		}
	}
	nc, err := lookupColumn(nt, name)
	if err != nil {
		writeAPIError(w, err)
		return
	}
	writeSchemaJSON(w, http.StatusOK, a.columnObject(nt, nc))
}
