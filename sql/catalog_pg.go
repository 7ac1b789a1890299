package sql

import (
	"hash/fnv"
	"sort"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// This file holds the virtual system tables: pg_catalog here,
// information_schema in catalog_info.go, fineo.* in catalog_fineo.go.
// Their rows are computed from the tenant's Catalog each time a query
// runs them (so cached plans stay valid as tables come and go), and they
// are ordinary plan inputs: joins, filters, ORDER BY and aggregates work
// on them as on any table.
//
// Names: a schema-qualified name (pg_catalog.pg_class,
// information_schema.tables, fineo.errors) always means the system table.
// An unqualified name is a user table of the session's database when one
// has exactly that name, else a pg_catalog table of that name.
//
// OIDs: schemas and system tables have fixed OIDs below 16384 (those
// PostgreSQL gives them where clients rely on it, such as pg_class =
// 1259); user tables and databases get an OID derived from a hash of
// their name, stable across sessions and restarts.
//
// Many catalogs have no rows here (pg_index, pg_attrdef, pg_policy, ...):
// they exist so that client queries bind and return nothing. A query
// block whose FROM inner-joins such an always-empty catalog returns no
// rows whatever its expressions; when binding such a block fails (array
// operators, correlated references, functions fineod lacks), it is
// planned as an empty relation with text columns instead of failing. psql
// relies on this for its \d sub-queries.

// Fixed OIDs.
const (
	oidNspCatalog = 11
	oidNspPublic  = 2200
	oidNspInfo    = 13000
	oidNspFineo   = 13100
	oidOwner      = 10    // the one role: the session user
	oidHeapAM     = 2     // pg_am "heap"
	oidDefaultTS  = 1663  // pg_tablespace "pg_default"
	oidFirstUser  = 16384 // first OID of user objects
	oidDefaultCol = 100   // pg_collation "default"
	encodingUTF8  = 6
)

// sysTable is one virtual system table.
type sysTable struct {
	schema string
	name   string
	oid    int64
	kind   string // pg_class.relkind: "r" or "v"
	cols   []colDesc
	// rows computes the rows at run time; nil means always empty. Each row
	// holds one value per column: nil, bool, int64, float64 or string
	// (timestamps as int64 ns).
	rows func(cc *catCtx) ([][]any, error)
}

func (t *sysTable) empty() bool { return t.rows == nil }

// sysTables lists every system table, by schema then name.
var (
	sysTables   []*sysTable
	sysByName         = map[string]*sysTable{} // schema + "." + name
	sysByOID          = map[int64]*sysTable{}
	sysNextOID  int64 = 12000
	sysKnownOID       = map[string]int64{
		"pg_type": 1247, "pg_attribute": 1249, "pg_proc": 1255, "pg_class": 1259,
		"pg_database": 1262, "pg_am": 2601, "pg_attrdef": 2604, "pg_constraint": 2606,
		"pg_description": 2609, "pg_index": 2610, "pg_inherits": 2611, "pg_namespace": 2615,
		"pg_rewrite": 2618, "pg_trigger": 2620, "pg_tablespace": 1213, "pg_policy": 3256,
		"pg_statistic_ext": 3381, "pg_collation": 3456, "pg_publication": 6104,
	}
)

// sysTypes maps the type names of column specs to types ("char" is the
// one-byte "char" type, not character).
var sysTypes = map[string]Type{
	"oid": TypeOID, "name": TypeName, "char": TypeChar, "text": TypeText, "bool": TypeBool,
	"int2": TypeInt2, "int4": TypeInt4, "int8": TypeInt8, "float4": TypeFloat4,
	"float8": TypeFloat8, "timestamptz": TypeTimestamptz,
}

// defSys registers a system table. spec lists its columns as
// "name:type ..."; kind is its relkind.
func defSys(schema, name, kind, spec string, rows func(cc *catCtx) ([][]any, error)) {
	t := &sysTable{schema: schema, name: name, kind: kind, rows: rows}
	for _, f := range strings.Fields(spec) {
		n, ty, _ := strings.Cut(f, ":")
		typ, ok := sysTypes[ty]
		if !ok {
			panic("sql: bad system column type " + f)
		}
		t.cols = append(t.cols, colDesc{name: n, typ: typ})
	}
	if oid, ok := sysKnownOID[name]; ok && schema == "pg_catalog" {
		t.oid = oid
	} else {
		t.oid = sysNextOID
		sysNextOID++
	}
	sysTables = append(sysTables, t)
	sysByName[schema+"."+name] = t
	sysByOID[t.oid] = t
}

// pgNamespaces are the schemas every tenant sees.
var pgNamespaces = []struct {
	oid  int64
	name string
}{
	{oidNspCatalog, "pg_catalog"}, {oidNspPublic, "public"}, {oidNspInfo, "information_schema"}, {oidNspFineo, "fineo"},
}

func nspOID(schema string) int64 {
	for _, n := range pgNamespaces {
		if n.name == schema {
			return n.oid
		}
	}
	return 0
}

func nspName(oid int64) (string, bool) {
	for _, n := range pgNamespaces {
		if n.oid == oid {
			return n.name, true
		}
	}
	return "", false
}

// hashOID is the OID of a user object: a hash of its name, at or above
// oidFirstUser and below 2^31 (so it also fits an integer).
func hashOID(parts ...string) int64 {
	h := fnv.New32a()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return oidFirstUser + int64(h.Sum32()%(1<<31-oidFirstUser))
}

// tableOID is the OID of a user table of a database.
func tableOID(database, name string) int64 { return hashOID("table", database, name) }

// databaseOID is the OID of a database.
func databaseOID(name string) int64 { return hashOID("database", name) }

// pgType describes a type for pg_type, pg_attribute and format_type.
type pgType struct {
	oid      Type
	name     string // typname
	len      int64
	byval    bool
	category string
	array    int64 // OID of the array type
	input    string
}

var pgTypeList = []pgType{
	{TypeBool, "bool", 1, true, "B", 1000, "boolin"},
	{TypeChar, "char", 1, true, "Z", 1002, "charin"},
	{TypeName, "name", 64, false, "S", 1003, "namein"},
	{TypeInt8, "int8", 8, true, "N", 1016, "int8in"},
	{TypeInt2, "int2", 2, true, "N", 1005, "int2in"},
	{TypeInt4, "int4", 4, true, "N", 1007, "int4in"},
	{TypeText, "text", -1, false, "S", 1009, "textin"},
	{TypeOID, "oid", 4, true, "N", 1028, "oidin"},
	{TypeJSON, "json", -1, false, "U", 199, "json_in"},
	{TypeFloat4, "float4", 4, true, "N", 1021, "float4in"},
	{TypeFloat8, "float8", 8, true, "N", 1022, "float8in"},
	{TypeVarchar, "varchar", -1, false, "S", 1015, "varcharin"},
	{TypeTimestamp, "timestamp", 8, true, "D", 1115, "timestamp_in"},
	{TypeTimestamptz, "timestamptz", 8, true, "D", 1185, "timestamptz_in"},
	{TypeInterval, "interval", 16, false, "T", 1187, "interval_in"},
	{TypeNumeric, "numeric", -1, false, "N", 1231, "numeric_in"},
}

func pgTypeOf(t Type) (pgType, bool) {
	for _, p := range pgTypeList {
		if p.oid == t {
			return p, true
		}
	}
	return pgType{}, false
}

// typeCollation is pg_type.typcollation: "default" for text types.
func typeCollation(t Type) int64 {
	if isTextType(t) && t != TypeChar && t != TypeUnknown && t != TypeJSON {
		return oidDefaultCol
	}
	return 0
}

// formatType is format_type(oid, -1).
func formatType(t Type) string {
	switch t {
	case TypeChar:
		return `"char"`
	case TypeUnknown:
		return "unknown"
	}
	if _, ok := pgTypeOf(t); !ok {
		return "???"
	}
	return typeName(t)
}

// catCtx is what the row functions of system tables read: the session and
// its tables, computed once per table scan.
type catCtx struct {
	ec       *execCtx
	tenant   string
	database string
	user     string
	tables   []TableInfo // the session database's tables, by name
}

func newCatCtx(ec *execCtx) *catCtx {
	s := ec.sess
	cc := &catCtx{ec: ec, tenant: s.tenant, database: s.database, user: s.user}
	cc.tables = append(cc.tables, ec.eng.cat.Tables(s.tenant, s.database)...)
	sort.Slice(cc.tables, func(i, j int) bool { return cc.tables[i].Name < cc.tables[j].Name })
	return cc
}

// relation is one pg_class row: a user table or a system table.
type relation struct {
	oid    int64
	name   string
	schema string
	kind   string
	cols   []ColumnInfo
}

// relations lists the user tables of the session database (schema
// public), then the system tables.
func (cc *catCtx) relations() []relation {
	var out []relation
	for _, t := range cc.tables {
		out = append(out, relation{oid: tableOID(t.Database, t.Name), name: t.Name, schema: "public", kind: "r", cols: t.Columns})
	}
	for _, t := range sysTables {
		r := relation{oid: t.oid, name: t.name, schema: t.schema, kind: t.kind}
		for _, c := range t.cols {
			r.cols = append(r.cols, ColumnInfo{Name: c.name, Type: c.typ, Kind: KindField})
		}
		out = append(out, r)
	}
	return out
}

// relByOID finds a relation by OID.
func (cc *catCtx) relByOID(oid int64) (relation, bool) {
	if t, ok := sysByOID[oid]; ok {
		r := relation{oid: t.oid, name: t.name, schema: t.schema, kind: t.kind}
		return r, true
	}
	for _, t := range cc.tables {
		if tableOID(t.Database, t.Name) == oid {
			return relation{oid: oid, name: t.Name, schema: "public", kind: "r", cols: t.Columns}, true
		}
	}
	return relation{}, false
}

// relOIDByName resolves a possibly schema-qualified relation name as
// ::regclass does: 0 if there is none.
func (cc *catCtx) relOIDByName(name string) int64 {
	schema, rel, ok := strings.Cut(name, ".")
	if !ok {
		schema, rel = "", name
	}
	schema, rel = unquoteIdent(schema), unquoteIdent(rel)
	if schema == "" || schema == "public" {
		for _, t := range cc.tables {
			if t.Name == rel {
				return tableOID(t.Database, t.Name)
			}
		}
		if schema == "public" {
			return 0
		}
		schema = "pg_catalog"
	}
	if t, ok := sysByName[schema+"."+rel]; ok {
		return t.oid
	}
	return 0
}

// unquoteIdent folds an identifier as the parser does: "Quoted" keeps its
// case, anything else is lower-cased.
func unquoteIdent(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return strings.ToLower(s)
}

// sysScanPlan reads a system table.
type sysScanPlan struct {
	t     *sysTable
	alias string
}

func (p *sysScanPlan) columns() []colDesc { return p.t.cols }

func (p *sysScanPlan) run(ec *execCtx, emit func(*Batch) error) error {
	if p.t.rows == nil {
		return nil
	}
	rows, err := p.t.rows(newCatCtx(ec))
	if err != nil {
		return asError(err)
	}
	if len(rows) == 0 {
		return nil
	}
	for _, r := range rows {
		if len(r) != len(p.t.cols) {
			return errorf(CodeInternal, "system table %s.%s: row of %d values for %d columns", p.t.schema, p.t.name, len(r), len(p.t.cols))
		}
	}
	b := &Batch{Len: len(rows), Cols: make([]Vector, len(p.t.cols))}
	for c, cd := range p.t.cols {
		v := &b.Cols[c]
		v.Type = cd.typ
		for _, r := range rows {
			appendAny(v, r[c])
		}
	}
	return emit(b)
}

// appendAny appends a Go value (nil, bool, int, int64, float64, string) to
// a vector of the matching physical kind.
func appendAny(v *Vector, x any) {
	if x == nil {
		appendNullRow(v)
		return
	}
	switch phys(v.Type) {
	case physF64:
		switch f := x.(type) {
		case float64:
			v.F64 = append(v.F64, f)
		case int64:
			v.F64 = append(v.F64, float64(f))
		case int:
			v.F64 = append(v.F64, float64(f))
		}
	case physStr:
		v.Str = append(v.Str, x.(string))
	case physBool:
		v.Bool = append(v.Bool, x.(bool))
	default:
		switch i := x.(type) {
		case int64:
			v.I64 = append(v.I64, i)
		case int:
			v.I64 = append(v.I64, int64(i))
		case Type:
			v.I64 = append(v.I64, int64(i))
		}
	}
	v.Null = append(v.Null, false)
}

func (p *sysScanPlan) explain(x *explainer, depth int) {
	name := p.t.schema + "." + p.t.name
	if p.alias != "" && p.alias != p.t.name {
		name += " AS " + p.alias
	}
	x.line(depth, "System table %s", name)
}

// lookupSys resolves a FROM name to a system table, following the naming
// rules at the top of this file. It returns nil for user tables.
func (b *binder) lookupSys(rv *pg.RangeVar) (*sysTable, error) {
	switch rv.Schemaname {
	case "pg_catalog", "information_schema":
		if t, ok := sysByName[rv.Schemaname+"."+rv.Relname]; ok {
			return t, nil
		}
		return nil, errAt(CodeUndefinedTable, rv.Location, "relation \"%s.%s\" does not exist", rv.Schemaname, rv.Relname)
	case "fineo":
		return sysByName["fineo."+rv.Relname], nil
	case "":
		t, ok := sysByName["pg_catalog."+rv.Relname]
		if !ok {
			return nil, nil
		}
		if _, user := b.eng.cat.Table(b.tenant, b.database, rv.Relname); user {
			return nil, nil
		}
		return t, nil
	}
	return nil, nil
}

// planSysTable plans a FROM reference to a system table; ok is false for
// user tables.
func (b *binder) planSysTable(rv *pg.RangeVar) (p plan, sc *scope, ok bool, err error) {
	t, err := b.lookupSys(rv)
	if err != nil || t == nil {
		return nil, nil, false, err
	}
	alias := rv.Relname
	var colnames []string
	if rv.Alias != nil {
		alias = rv.Alias.Aliasname
		colnames = nameList(rv.Alias.Colnames)
	}
	sc = &scope{}
	for i, c := range t.cols {
		name := c.name
		if i < len(colnames) {
			name = colnames[i]
		}
		sc.cols = append(sc.cols, scopeCol{table: alias, name: name, typ: c.typ, tref: -1})
	}
	return &sysScanPlan{t: t, alias: alias}, sc, true, nil
}

// emptyBlock plans a SELECT block that cannot return rows because its
// FROM inner-joins an always-empty system table, as an empty relation
// with text columns. ok is false when the block may return rows (an
// aggregate without GROUP BY returns one) or its columns are not known.
func (b *binder) emptyBlock(s *pg.SelectStmt) (plan, bool) {
	if s.Op != pg.SetOperation_SETOP_NONE || len(s.ValuesLists) > 0 || !b.fromIsEmpty(s.FromClause) {
		return nil, false
	}
	var cols []colDesc
	for _, n := range s.TargetList {
		rt := n.GetResTarget()
		if rt == nil {
			return nil, false
		}
		if cr := rt.Val.GetColumnRef(); cr != nil && cr.Fields[len(cr.Fields)-1].GetAStar() != nil {
			return nil, false
		}
		if len(s.GroupClause) == 0 && hasAggCall(rt.Val) {
			return nil, false
		}
		name := rt.Name
		if name == "" {
			name = b.derivedName(rt.Val, nil)
		}
		cols = append(cols, colDesc{name: name, typ: TypeText})
	}
	return &valuesPlan{cols: cols}, true
}

// fromIsEmpty reports whether a FROM list inner-joins an always-empty
// system table.
func (b *binder) fromIsEmpty(items []*pg.Node) bool {
	for _, it := range items {
		if b.itemIsEmpty(it) {
			return true
		}
	}
	return false
}

func (b *binder) itemIsEmpty(n *pg.Node) bool {
	switch {
	case n.GetRangeVar() != nil:
		t, err := b.lookupSys(n.GetRangeVar())
		return err == nil && t != nil && t.empty()
	case n.GetJoinExpr() != nil:
		j := n.GetJoinExpr()
		switch j.Jointype {
		case pg.JoinType_JOIN_INNER:
			return b.itemIsEmpty(j.Larg) || b.itemIsEmpty(j.Rarg)
		case pg.JoinType_JOIN_LEFT:
			return b.itemIsEmpty(j.Larg)
		case pg.JoinType_JOIN_RIGHT:
			return b.itemIsEmpty(j.Rarg)
		}
	}
	return false
}

// hasAggCall reports whether an expression calls an aggregate (outside
// subqueries).
func hasAggCall(n *pg.Node) bool {
	found := false
	var walk func(m any)
	walk = func(m any) {
		if found || m == nil {
			return
		}
		switch x := m.(type) {
		case *pg.Node:
			if x == nil {
				return
			}
			if f := x.GetFuncCall(); f != nil {
				names := nameList(f.Funcname)
				if aggNames[strings.ToLower(names[len(names)-1])] && f.Over == nil {
					found = true
					return
				}
				for _, a := range f.Args {
					walk(a)
				}
				return
			}
			if x.GetSubLink() != nil {
				return
			}
			if e := x.GetAExpr(); e != nil {
				walk(e.Lexpr)
				walk(e.Rexpr)
			}
			if e := x.GetTypeCast(); e != nil {
				walk(e.Arg)
			}
			if e := x.GetCaseExpr(); e != nil {
				for _, w := range e.Args {
					if cw := w.GetCaseWhen(); cw != nil {
						walk(cw.Expr)
						walk(cw.Result)
					}
				}
				walk(e.Defresult)
			}
			if e := x.GetCoalesceExpr(); e != nil {
				for _, a := range e.Args {
					walk(a)
				}
			}
		}
	}
	walk(n)
	return found
}

func init() {
	registerPgCatalog()
	registerInfoSchema()
	registerFineo()
}
