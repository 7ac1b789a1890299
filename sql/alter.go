package sql

import (
	"context"
	"errors"
	"strings"

	"github.com/fineod/fineod/schema"

	pg "github.com/pganalyze/pg_query_go/v6"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// This file implements ALTER TABLE and the fineo.* schema functions. Each
// statement or call becomes one schema.Alter, applied through the
// Writer's SchemaAlterer (one log entry; its operations apply atomically)
// with the statement's text and the session's user. Schemas bind late
// (DESIGN.md section 1): no statement here rewrites or deletes data.
//
//	ALTER TABLE [IF EXISTS] t RENAME TO u                 rename_table (t stays an alias)
//	ALTER TABLE [IF EXISTS] t RENAME [COLUMN] a TO b      rename_column (a stays an alias)
//	ALTER TABLE t ADD [COLUMN] [IF NOT EXISTS] c type     add_column (a field)
//	ALTER TABLE t DROP [COLUMN] [IF EXISTS] c             drop_column (hidden; fineo.restore_column)
//	ALTER TABLE t ALTER [COLUMN] c [SET DATA] TYPE type [USING expr]
//	                                                      alter_column_type
//	ALTER TABLE t SET (ttl = '30 days', strict = true)    set_ttl, set_strict
//	ALTER TABLE t RESET (ttl, strict)                     keep forever; not strict
//
// Several comma-separated actions make one Alter; each is checked against
// the table as the actions before it leave it. Everything that depends on
// the catalog is checked when the statement runs (the plan may be cached):
// an unknown table is 42P01 (nothing with IF EXISTS), an unknown column
// 42703, an existing one 42701 (ADD COLUMN IF NOT EXISTS and DROP COLUMN
// IF EXISTS skip the action instead).
//
//   - Types map as in CREATE TABLE: double precision, real and numeric are
//     double precision; smallint, integer and bigint are bigint; text and
//     varchar text; boolean. ADD COLUMN accepts NULL and NOT NULL (ignored,
//     as CREATE TABLE does) but not DEFAULT: existing rows are never
//     rewritten.
//   - The time column cannot be renamed, dropped or retyped; tag columns
//     cannot be dropped or retyped (they identify series). Columns added
//     by ALTER TABLE are fields.
//   - ALTER COLUMN TYPE without USING needs a cast from the column's type
//     to the new one (42804 otherwise). USING expr must read exactly one
//     field column of the table (the column itself or another one) and
//     compile as a conversion (conversion.go) with that column at its
//     current type. The Alter records Ref as the column's name in the
//     catalog and Expr as pg_query's deparsed text of the expression,
//     with every reference to the column written as that name (so
//     "USING t.Temp * 2" on column temp records Ref temp and Expr
//     "temp * 2"); Expr re-parses and compiles with CompileConversion.
//   - ttl is an interval in fixed units ('30 days', '12 hours', '1 week',
//     '90d', '1 day 12:00:00') or a number of seconds; 0 (or RESET) keeps
//     data forever. Months and years are refused (22023): they have no
//     fixed length; write days. strict is a boolean (SET (strict) alone is
//     true).
//   - Other actions (constraints, defaults, OWNER, SET SCHEMA, SET
//     TABLESPACE, ...) and ALTER of other objects are 0A000, naming the
//     clause.
//
// The fineo schema functions make the changes ALTER TABLE has no syntax
// for. Each is called alone, as the only item of a SELECT without FROM
// (SELECT fineo.add_alias('thermostat', 'temperature_c', 'temp_celsius')),
// makes one Alter when the statement runs (every execution), and returns
// one text row describing the change. Anywhere else they are 0A000. NULL
// arguments are 22004.
//
//	fineo.add_alias(table, column, raw_field)   add_field_alias: raw field name feeds column
//	fineo.remove_alias(table, column, raw_field) remove_field_alias
//	fineo.add_table_alias(table, alias)          add_table_alias
//	fineo.remove_table_alias(table, alias)       remove_table_alias
//	fineo.set_strict(table, boolean)             set_strict ('*': the tenant's setting)
//	fineo.restore_column(table, column)          restore_column (a dropped column)
//	fineo.set_ttl(table, ttl)                    set_ttl (ttl as in SET (ttl = ...))
//
// A table argument names a table of the session's database exactly, or
// as database.table, or (failing both) by its unique case-insensitive
// match. A column argument names a column of the table the same way
// (restore_column's and remove_alias's column is passed on as written
// when the table shows no such column: it may be hidden).
//
// Errors of the SchemaAlterer keep their text; their SQLSTATE comes from a
// SQLState() string method when they have one (see alterError).

// alterStmt is a planned ALTER TABLE or ALTER TABLE ... RENAME.
type alterStmt struct {
	query     string
	rel       *pg.RangeVar
	missingOK bool
	cmds      []alterCmd
}

// alterCmd is one action of an ALTER TABLE, as far as it can be checked
// without the catalog.
type alterCmd struct {
	op       string // a schema.Op... constant
	column   string // the column acted on, as written
	name     string // RENAME's new name, ADD COLUMN's column
	typ      Type   // ADD COLUMN, ALTER TYPE: the SQL type the column reads as
	ftype    schema.Type
	using    *pg.Node // ALTER TYPE ... USING
	ifExists bool     // ADD COLUMN IF NOT EXISTS, DROP COLUMN IF EXISTS
	ttl      int64
	enabled  bool
	loc      int32
}

// alterTag is the command tag of every ALTER TABLE.
const alterTag = "ALTER TABLE"

func objectName(t pg.ObjectType) string {
	switch t {
	case pg.ObjectType_OBJECT_MATVIEW:
		return "MATERIALIZED VIEW"
	case pg.ObjectType_OBJECT_FOREIGN_TABLE:
		return "FOREIGN TABLE"
	case pg.ObjectType_OBJECT_TABCONSTRAINT:
		return "CONSTRAINT"
	}
	return strings.ReplaceAll(strings.TrimPrefix(t.String(), "OBJECT_"), "_", " ")
}

// atClauses names the ALTER TABLE actions fineod refuses.
var atClauses = map[pg.AlterTableType]string{
	pg.AlterTableType_AT_AddConstraint:      "ADD CONSTRAINT",
	pg.AlterTableType_AT_DropConstraint:     "DROP CONSTRAINT",
	pg.AlterTableType_AT_ValidateConstraint: "VALIDATE CONSTRAINT",
	pg.AlterTableType_AT_AlterConstraint:    "ALTER CONSTRAINT",
	pg.AlterTableType_AT_ColumnDefault:      "ALTER COLUMN ... SET/DROP DEFAULT",
	pg.AlterTableType_AT_SetNotNull:         "ALTER COLUMN ... SET NOT NULL",
	pg.AlterTableType_AT_DropNotNull:        "ALTER COLUMN ... DROP NOT NULL",
	pg.AlterTableType_AT_SetStatistics:      "ALTER COLUMN ... SET STATISTICS",
	pg.AlterTableType_AT_SetStorage:         "ALTER COLUMN ... SET STORAGE",
	pg.AlterTableType_AT_SetCompression:     "ALTER COLUMN ... SET COMPRESSION",
	pg.AlterTableType_AT_SetOptions:         "ALTER COLUMN ... SET (...)",
	pg.AlterTableType_AT_ResetOptions:       "ALTER COLUMN ... RESET (...)",
	pg.AlterTableType_AT_AddIdentity:        "ALTER COLUMN ... ADD GENERATED",
	pg.AlterTableType_AT_DropIdentity:       "ALTER COLUMN ... DROP IDENTITY",
	pg.AlterTableType_AT_ChangeOwner:        "OWNER TO",
	pg.AlterTableType_AT_SetTableSpace:      "SET TABLESPACE",
	pg.AlterTableType_AT_SetLogged:          "SET LOGGED",
	pg.AlterTableType_AT_SetUnLogged:        "SET UNLOGGED",
	pg.AlterTableType_AT_DropOids:           "SET WITHOUT OIDS",
	pg.AlterTableType_AT_ClusterOn:          "CLUSTER ON",
	pg.AlterTableType_AT_DropCluster:        "SET WITHOUT CLUSTER",
	pg.AlterTableType_AT_AddInherit:         "INHERIT",
	pg.AlterTableType_AT_DropInherit:        "NO INHERIT",
	pg.AlterTableType_AT_AddOf:              "OF",
	pg.AlterTableType_AT_DropOf:             "NOT OF",
	pg.AlterTableType_AT_ReplicaIdentity:    "REPLICA IDENTITY",
	pg.AlterTableType_AT_EnableRowSecurity:  "ENABLE ROW LEVEL SECURITY",
	pg.AlterTableType_AT_DisableRowSecurity: "DISABLE ROW LEVEL SECURITY",
	pg.AlterTableType_AT_AttachPartition:    "ATTACH PARTITION",
	pg.AlterTableType_AT_DetachPartition:    "DETACH PARTITION",
	pg.AlterTableType_AT_SetAccessMethod:    "SET ACCESS METHOD",
}

func atClause(t pg.AlterTableType) string {
	if s, ok := atClauses[t]; ok {
		return s
	}
	s := strings.TrimPrefix(t.String(), "AT_")
	switch {
	case strings.Contains(s, "Trig"):
		return "ENABLE/DISABLE TRIGGER"
	case strings.Contains(s, "Rule"):
		return "ENABLE/DISABLE RULE"
	}
	return s
}

func (s *Session) buildAlterTable(a *pg.AlterTableStmt, query string) (*prepared, error) {
	if a.Objtype != pg.ObjectType_OBJECT_TABLE {
		return nil, errorf(CodeFeatureNotSupported, "ALTER %s is not supported", objectName(a.Objtype))
	}
	st := &alterStmt{query: query, rel: a.Relation, missingOK: a.MissingOk}
	for _, n := range a.Cmds {
		c := n.GetAlterTableCmd()
		if c == nil {
			return nil, errorf(CodeFeatureNotSupported, "ALTER TABLE action not supported: %s", nodeKind(n))
		}
		switch c.Subtype {
		case pg.AlterTableType_AT_AddColumn:
			cd := c.Def.GetColumnDef()
			for _, cn := range cd.Constraints {
				switch cn.GetConstraint().GetContype() {
				case pg.ConstrType_CONSTR_NULL, pg.ConstrType_CONSTR_NOTNULL:
				case pg.ConstrType_CONSTR_DEFAULT:
					return nil, errAt(CodeFeatureNotSupported, cn.GetConstraint().GetLocation(), "ADD COLUMN ... DEFAULT is not supported: existing rows are never rewritten, so a new column reads NULL where it was not written")
				default:
					return nil, errAt(CodeFeatureNotSupported, cn.GetConstraint().GetLocation(), "column constraints other than NULL and NOT NULL are not supported")
				}
			}
			typ, ft, err := fieldTypeName(cd.Colname, cd.TypeName, cd.Location)
			if err != nil {
				return nil, err
			}
			st.cmds = append(st.cmds, alterCmd{op: schema.OpAddColumn, name: cd.Colname, typ: typ, ftype: ft, ifExists: c.MissingOk, loc: cd.Location})
		case pg.AlterTableType_AT_DropColumn:
			st.cmds = append(st.cmds, alterCmd{op: schema.OpDropColumn, column: c.Name, ifExists: c.MissingOk, loc: -1})
		case pg.AlterTableType_AT_AlterColumnType:
			cd := c.Def.GetColumnDef()
			typ, ft, err := fieldTypeName(c.Name, cd.TypeName, cd.Location)
			if err != nil {
				return nil, err
			}
			st.cmds = append(st.cmds, alterCmd{op: schema.OpAlterColumnType, column: c.Name, typ: typ, ftype: ft, using: cd.RawDefault, loc: cd.Location})
		case pg.AlterTableType_AT_SetRelOptions, pg.AlterTableType_AT_ResetRelOptions:
			reset := c.Subtype == pg.AlterTableType_AT_ResetRelOptions
			for _, o := range c.Def.GetList().GetItems() {
				cmd, err := relOption(o.GetDefElem(), reset)
				if err != nil {
					return nil, err
				}
				st.cmds = append(st.cmds, cmd)
			}
		default:
			return nil, errorf(CodeFeatureNotSupported, "ALTER TABLE ... %s is not supported", atClause(c.Subtype))
		}
	}
	return &prepared{kind: kindAlter, alter: st, tag: alterTag}, nil
}

// fieldTypeName resolves the type of a field column as ALTER TABLE names
// it.
func fieldTypeName(col string, tn *pg.TypeName, loc int32) (Type, schema.Type, error) {
	typ, err := bindTypeName(tn)
	if err != nil {
		return 0, 0, err
	}
	ft, ok := fieldType(typ)
	if !ok {
		return 0, 0, errAt(CodeFeatureNotSupported, loc, "column %q: type %s is not supported for a field (use double precision, bigint, text or boolean)", col, typeName(typ))
	}
	return columnType(ft), ft, nil
}

// relOption is one item of ALTER TABLE SET (...) or RESET (...).
func relOption(d *pg.DefElem, reset bool) (alterCmd, error) {
	if d == nil {
		return alterCmd{}, errorf(CodeSyntaxError, "invalid table option")
	}
	switch strings.ToLower(d.Defname) {
	case "ttl":
		cmd := alterCmd{op: schema.OpSetTTL, loc: d.Location}
		if reset {
			return cmd, nil
		}
		ttl, err := parseTTL(defString(d))
		if err != nil {
			err.(*Error).Position = int(d.Location) + 1
			return cmd, err
		}
		cmd.ttl = ttl
		return cmd, nil
	case "strict":
		cmd := alterCmd{op: schema.OpSetStrict, loc: d.Location}
		if reset {
			return cmd, nil
		}
		if d.Arg == nil {
			cmd.enabled = true
			return cmd, nil
		}
		v, ok := parseBool(defString(d))
		if !ok {
			return cmd, errAt(CodeInvalidParameter, d.Location, "invalid value for boolean option \"strict\": %s", defString(d))
		}
		cmd.enabled = v
		return cmd, nil
	case "tags":
		return alterCmd{}, errAt(CodeFeatureNotSupported, d.Location, "the tags of a table cannot be changed")
	}
	return alterCmd{}, errAt(CodeInvalidParameter, d.Location, "unrecognized parameter %q", d.Defname)
}

// parseTTL reads a table's retention (see the file comment) as
// nanoseconds; 0 keeps data forever.
func parseTTL(s string) (int64, error) {
	bad := func(why string) (int64, error) {
		return 0, &Error{Code: CodeInvalidParameter, Message: "invalid value for parameter \"ttl\": \"" + s + "\"" + why,
			Hint: "Give an interval in days, hours, minutes or seconds ('30 days', '12 hours'), or 0 to keep data forever."}
	}
	iv, err := parseInterval(s)
	if err != nil {
		return bad("")
	}
	if iv.months != 0 {
		return bad(": months and years have no fixed length")
	}
	ns := iv.approxNs()
	if ns < 0 {
		return bad(": it must not be negative")
	}
	return ns, nil
}

func (s *Session) buildRename(r *pg.RenameStmt, query string) (*prepared, error) {
	st := &alterStmt{query: query, rel: r.Relation, missingOK: r.MissingOk}
	switch {
	case r.RenameType == pg.ObjectType_OBJECT_TABLE:
		st.cmds = []alterCmd{{op: schema.OpRenameTable, name: r.Newname, loc: -1}}
	case r.RenameType == pg.ObjectType_OBJECT_COLUMN && r.RelationType == pg.ObjectType_OBJECT_TABLE:
		st.cmds = []alterCmd{{op: schema.OpRenameColumn, column: r.Subname, name: r.Newname, loc: -1}}
	case r.RenameType == pg.ObjectType_OBJECT_COLUMN:
		return nil, errorf(CodeFeatureNotSupported, "ALTER %s ... RENAME is not supported", objectName(r.RelationType))
	case r.RenameType == pg.ObjectType_OBJECT_TABCONSTRAINT:
		return nil, errorf(CodeFeatureNotSupported, "ALTER TABLE ... RENAME CONSTRAINT is not supported")
	default:
		return nil, errorf(CodeFeatureNotSupported, "ALTER %s ... RENAME is not supported", objectName(r.RenameType))
	}
	if st.rel == nil {
		return nil, errorf(CodeFeatureNotSupported, "ALTER %s ... RENAME is not supported", objectName(r.RenameType))
	}
	return &prepared{kind: kindAlter, alter: st, tag: alterTag}, nil
}

// statementText is the text an Alter records: the statement as received,
// without surrounding blanks and a final semicolon.
func statementText(q string) string {
	return strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(q), ";"))
}

// newAlter starts the Alter of one table.
func (s *Session) newAlter(ec *execCtx, db, table, query string) *schema.Alter {
	return &schema.Alter{Tenant: s.tenant, Database: db, Table: table, User: s.user, Statement: statementText(query), Time: ec.now}
}

// alterTable applies an Alter through the Writer.
func (s *Session) alterTable(ctx context.Context, a *schema.Alter) error {
	sa, ok := s.eng.w.(SchemaAlterer)
	if !ok {
		return errorf(CodeFeatureNotSupported, "this database cannot change table schemas: ALTER TABLE and the fineo schema functions are not available")
	}
	return alterError(sa.AlterTable(ctx, a))
}

// alterError gives an error of the SchemaAlterer its SQLSTATE: an *Error
// keeps its own, an error with a SQLState() string method gives that one,
// cancellation is 57014. Otherwise the text decides: "... does not exist"
// or "not found" is 42703 for a column, 42P01 for a table, 42704 for
// anything else (aliases, fields); "already exists" is 42701 for a column
// and 42P07 otherwise; "invalid" is 22023; anything else XX000.
func alterError(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	var st interface{ SQLState() string }
	if errors.As(err, &st) && st.SQLState() != "" {
		return &Error{Code: st.SQLState(), Message: err.Error()}
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return asError(err)
	}
	msg := err.Error()
	low := strings.ToLower(msg)
	code := CodeInternal
	switch {
	case strings.Contains(low, "does not exist") || strings.Contains(low, "not found"):
		switch {
		case strings.Contains(low, "alias") || strings.Contains(low, "field"):
			code = CodeUndefinedObject
		case strings.Contains(low, "column"):
			code = CodeUndefinedColumn
		case strings.Contains(low, "table") || strings.Contains(low, "relation"):
			code = CodeUndefinedTable
		default:
			code = CodeUndefinedObject
		}
	case strings.Contains(low, "already exists"):
		code = "42P07"
		if strings.Contains(low, "column") {
			code = CodeDuplicateColumn
		}
	case strings.Contains(low, "invalid"):
		code = CodeInvalidParameter
	}
	return &Error{Code: code, Message: msg}
}

// CodeDuplicateColumn is SQLSTATE duplicate_column.
const CodeDuplicateColumn = "42701"

// alterTarget resolves the table of an ALTER TABLE.
func (s *Session) alterTarget(rv *pg.RangeVar, query string) (TableInfo, string, error) {
	db, err := s.resolveSchema(rv.Schemaname, rv.Location)
	if err != nil {
		return TableInfo{}, "", err
	}
	t, err := s.newBinder(query, nil).lookupTable(rv)
	if err != nil {
		return TableInfo{}, "", err
	}
	return t, db, nil
}

// findColumn finds a column as SQL resolves names: exactly, else by its
// unique case-insensitive match.
func findColumn(cols []ColumnInfo, name, table string, loc int32) (ColumnInfo, error) {
	for _, c := range cols {
		if c.Name == name {
			return c, nil
		}
	}
	var match []ColumnInfo
	for _, c := range cols {
		if strings.EqualFold(c.Name, name) {
			match = append(match, c)
		}
	}
	switch len(match) {
	case 1:
		return match[0], nil
	case 0:
		return ColumnInfo{}, errAt(CodeUndefinedColumn, loc, "column %q of relation %q does not exist", name, table)
	}
	return ColumnInfo{}, errAt(CodeAmbiguousColumn, loc, "column reference %q is ambiguous: several columns of %q differ only in case; quote the name", name, table)
}

func hasColumn(cols []ColumnInfo, name string) bool {
	for _, c := range cols {
		if c.Name == name {
			return true
		}
	}
	return false
}

func errCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// run checks the statement against the catalog and applies it.
func (a *alterStmt) run(ec *execCtx) error {
	s := ec.sess
	t, db, err := s.alterTarget(a.rel, a.query)
	if err != nil {
		if a.missingOK && errCode(err) == CodeUndefinedTable {
			return nil
		}
		return err
	}
	al := s.newAlter(ec, db, t.Name, a.query)
	cols := append([]ColumnInfo(nil), t.Columns...)
	for i := range a.cmds {
		op, ok, err := a.cmds[i].resolve(s, db, t.Name, &cols)
		if err != nil {
			return err
		}
		if ok {
			al.Ops = append(al.Ops, op)
		}
	}
	if len(al.Ops) == 0 {
		return nil
	}
	return s.alterTable(ec.ctx, al)
}

// resolve turns one action into an operation against the table's columns
// as the earlier actions left them (cols is updated). ok is false for an
// action IF [NOT] EXISTS skips.
func (c *alterCmd) resolve(s *Session, db, table string, cols *[]ColumnInfo) (op schema.AlterOp, ok bool, err error) {
	op.Op = c.op
	switch c.op {
	case schema.OpRenameTable:
		if _, exists := s.eng.cat.Table(s.tenant, db, c.name); exists {
			return op, false, errorf("42P07", "relation %q already exists", c.name)
		}
		op.Name = c.name
	case schema.OpRenameColumn:
		col, err := findColumn(*cols, c.column, table, c.loc)
		if err != nil {
			return op, false, err
		}
		if col.Kind == KindTime {
			return op, false, errorf(CodeFeatureNotSupported, "the time column of table %q cannot be renamed", table)
		}
		if hasColumn(*cols, c.name) {
			return op, false, errorf(CodeDuplicateColumn, "column %q of relation %q already exists", c.name, table)
		}
		for i := range *cols {
			if (*cols)[i].Name == col.Name {
				(*cols)[i].Name = c.name
			}
		}
		op.Column, op.Name = col.Name, c.name
	case schema.OpAddColumn:
		if hasColumn(*cols, c.name) {
			if c.ifExists {
				return op, false, nil
			}
			return op, false, errAt(CodeDuplicateColumn, c.loc, "column %q of relation %q already exists", c.name, table)
		}
		*cols = append(*cols, ColumnInfo{Name: c.name, Type: c.typ, Kind: KindField})
		op.Name, op.Type = c.name, int(c.ftype)
	case schema.OpDropColumn:
		col, err := findColumn(*cols, c.column, table, c.loc)
		if err != nil {
			if c.ifExists && errCode(err) == CodeUndefinedColumn {
				return op, false, nil
			}
			return op, false, err
		}
		switch col.Kind {
		case KindTime:
			return op, false, errorf(CodeFeatureNotSupported, "cannot drop column %q: it is the time of table %q", col.Name, table)
		case KindTag:
			return op, false, errorf(CodeFeatureNotSupported, "cannot drop column %q: it is a tag of table %q, and tags identify its series", col.Name, table)
		}
		kept := (*cols)[:0:0]
		for _, x := range *cols {
			if x.Name != col.Name {
				kept = append(kept, x)
			}
		}
		*cols = kept
		op.Column = col.Name
	case schema.OpAlterColumnType:
		col, err := findColumn(*cols, c.column, table, c.loc)
		if err != nil {
			return op, false, err
		}
		switch col.Kind {
		case KindTime:
			return op, false, errorf(CodeFeatureNotSupported, "the type of column %q cannot be changed: it is the time of table %q", col.Name, table)
		case KindTag:
			return op, false, errorf(CodeFeatureNotSupported, "the type of column %q cannot be changed: it is a tag of table %q, and tags are text", col.Name, table)
		}
		op.Column, op.Type = col.Name, int(c.ftype)
		if c.using == nil {
			if _, err := CompileCast(col.Type, c.typ); err != nil {
				return op, false, &Error{Code: CodeDatatypeMismatch,
					Message: "column \"" + col.Name + "\" cannot be cast automatically to type " + typeName(c.typ),
					Hint:    "You might need to specify \"USING " + quoteIdent(col.Name) + "::" + typeName(c.typ) + "\"."}
			}
		} else {
			text, ref, err := conversionText(c.using, table, *cols)
			if err != nil {
				return op, false, err
			}
			if _, err := compileConversion(text, ref.Name, ref.Type, c.typ); err != nil {
				if e, ok := err.(*Error); ok {
					e.Position = 0
					e.Message = "USING expression " + text + ": " + e.Message
				}
				return op, false, err
			}
			op.Expr, op.Ref = text, ref.Name
		}
		for i := range *cols {
			if (*cols)[i].Name == col.Name {
				(*cols)[i].Type = c.typ
			}
		}
	case schema.OpSetTTL:
		op.Int = c.ttl
	case schema.OpSetStrict:
		op.Enabled = c.enabled
	}
	return op, true, nil
}

// conversionText checks that a USING expression reads exactly one field
// column of the table and returns its canonical text (every reference to
// the column written as the column's name) and that column.
func conversionText(using *pg.Node, table string, cols []ColumnInfo) (string, ColumnInfo, error) {
	node := proto.Clone(using).(*pg.Node) // the parse tree may be cached and shared
	var ref *ColumnInfo
	var err error
	walkParseTree(node.ProtoReflect(), func(m protoreflect.Message) bool {
		if err != nil {
			return false
		}
		switch x := m.Interface().(type) {
		case *pg.SubLink:
			err = errAt(CodeFeatureNotSupported, x.Location, "subqueries are not allowed in a USING expression")
			return false
		case *pg.ColumnRef:
			var parts []string
			for _, f := range x.Fields {
				if f.GetAStar() != nil {
					err = errAt(CodeSyntaxError, x.Location, "* is not allowed in a USING expression")
					return false
				}
				parts = append(parts, strVal(f))
			}
			name := parts[len(parts)-1]
			if len(parts) > 1 && !strings.EqualFold(parts[len(parts)-2], table) {
				err = errAt(CodeUndefinedTable, x.Location, "missing FROM-clause entry for table %q", parts[len(parts)-2])
				return false
			}
			col, e := findColumn(cols, name, table, x.Location)
			if e != nil {
				err = e
				return false
			}
			if ref != nil && ref.Name != col.Name {
				err = errAt(CodeFeatureNotSupported, x.Location, "a USING expression may read one column; this one reads %q and %q", ref.Name, col.Name)
				return false
			}
			if col.Kind != KindField {
				what := "the time"
				if col.Kind == KindTag {
					what = "a tag"
				}
				err = errAt(CodeFeatureNotSupported, x.Location, "a USING expression may read a field column only; %q is %s of table %q", col.Name, what, table)
				return false
			}
			ref = &col
			x.Fields = []*pg.Node{pg.MakeStrNode(col.Name)}
			return false
		}
		return true
	})
	if err != nil {
		return "", ColumnInfo{}, err
	}
	if ref == nil {
		return "", ColumnInfo{}, errorf(CodeFeatureNotSupported, "a USING expression must read a column of table %q", table)
	}
	text, err := deparseExpr(node)
	if err != nil {
		return "", ColumnInfo{}, err
	}
	return text, *ref, nil
}

// walkParseTree calls fn on m and, while fn returns true, on every message
// below it.
func walkParseTree(m protoreflect.Message, fn func(protoreflect.Message) bool) {
	if !fn(m) {
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap() || fd.Message() == nil:
		case fd.IsList():
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				walkParseTree(l.Get(i).Message(), fn)
			}
		default:
			walkParseTree(v.Message(), fn)
		}
		return true
	})
}

// deparseExpr is pg_query's SQL text of an expression.
func deparseExpr(n *pg.Node) (string, error) {
	// a parsed statement carries the parse tree version Deparse checks
	tree, err := pg.Parse("SELECT NULL")
	if err != nil {
		return "", errorf(CodeInternal, "cannot deparse expression: %v", err)
	}
	tree.Stmts[0].Stmt.GetSelectStmt().TargetList[0].GetResTarget().Val = n
	out, err := pg.Deparse(tree)
	if err != nil {
		return "", errorf(CodeInternal, "cannot deparse expression: %v", err)
	}
	return strings.TrimPrefix(out, "SELECT "), nil
}

// schemaFunc is a fineo.* schema function.
type schemaFunc struct {
	args []Type // TypeText or TypeBool
	// op makes the operation and the text the call returns; a holds the
	// arguments after the table.
	op func(t TableInfo, a []*constExpr) (schema.AlterOp, string, error)
}

var schemaFuncs map[string]schemaFunc

func init() {
	text2 := []Type{TypeText, TypeText}
	text3 := []Type{TypeText, TypeText, TypeText}
	schemaFuncs = map[string]schemaFunc{
		"add_alias": {text3, func(t TableInfo, a []*constExpr) (schema.AlterOp, string, error) {
			col, err := findColumn(t.Columns, a[0].s, t.Name, -1)
			if err != nil {
				return schema.AlterOp{}, "", err
			}
			if col.Kind != KindField {
				return schema.AlterOp{}, "", errorf(CodeFeatureNotSupported, "column %q of table %q is not a field: only fields read raw fields", col.Name, t.Name)
			}
			if a[1].s == "" {
				return schema.AlterOp{}, "", errorf(CodeInvalidParameter, "a raw field name must not be empty")
			}
			return schema.AlterOp{Op: schema.OpAddFieldAlias, Column: col.Name, Name: a[1].s},
				"column " + quoteName(col.Name) + " of table " + quoteName(t.Name) + " now also reads field " + quoteName(a[1].s), nil
		}},
		"remove_alias": {text3, func(t TableInfo, a []*constExpr) (schema.AlterOp, string, error) {
			col := hiddenColumn(t, a[0].s)
			return schema.AlterOp{Op: schema.OpRemoveFieldAlias, Column: col, Name: a[1].s},
				"column " + quoteName(col) + " of table " + quoteName(t.Name) + " no longer reads field " + quoteName(a[1].s), nil
		}},
		"add_table_alias": {text2, func(t TableInfo, a []*constExpr) (schema.AlterOp, string, error) {
			if a[0].s == "" {
				return schema.AlterOp{}, "", errorf(CodeInvalidParameter, "a table alias must not be empty")
			}
			return schema.AlterOp{Op: schema.OpAddTableAlias, Name: a[0].s},
				quoteName(a[0].s) + " is now another name of table " + quoteName(t.Name), nil
		}},
		"remove_table_alias": {text2, func(t TableInfo, a []*constExpr) (schema.AlterOp, string, error) {
			return schema.AlterOp{Op: schema.OpRemoveTableAlias, Name: a[0].s},
				quoteName(a[0].s) + " is no longer a name of table " + quoteName(t.Name), nil
		}},
		"set_strict": {[]Type{TypeText, TypeBool}, func(t TableInfo, a []*constExpr) (schema.AlterOp, string, error) {
			msg := "table " + quoteName(t.Name) + " is strict: new raw fields read in _unmapped until mapped"
			if !a[0].b {
				msg = "table " + quoteName(t.Name) + " is not strict: new raw fields become columns"
			}
			return schema.AlterOp{Op: schema.OpSetStrict, Enabled: a[0].b}, msg, nil
		}},
		"restore_column": {text2, func(t TableInfo, a []*constExpr) (schema.AlterOp, string, error) {
			col := hiddenColumn(t, a[0].s)
			return schema.AlterOp{Op: schema.OpRestoreColumn, Column: col},
				"column " + quoteName(col) + " of table " + quoteName(t.Name) + " restored", nil
		}},
		"set_ttl": {text2, func(t TableInfo, a []*constExpr) (schema.AlterOp, string, error) {
			ttl, err := parseTTL(a[0].s)
			if err != nil {
				return schema.AlterOp{}, "", err
			}
			msg := "table " + quoteName(t.Name) + " keeps data forever"
			if ttl > 0 {
				msg = "table " + quoteName(t.Name) + " keeps data for " + formatInterval(ttl)
			}
			return schema.AlterOp{Op: schema.OpSetTTL, Int: ttl}, msg, nil
		}},
	}
}

func quoteName(s string) string { return "\"" + strings.ReplaceAll(s, "\"", "\"\"") + "\"" }

// hiddenColumn is the name of a column the table may not show (dropped):
// the visible column it names, else the name as written.
func hiddenColumn(t TableInfo, name string) string {
	if c, err := findColumn(t.Columns, name, t.Name, -1); err == nil {
		return c.Name
	}
	return name
}

// schemaCall is a planned SELECT fineo.f(...).
type schemaCall struct {
	name  string
	fn    schemaFunc
	args  []expr
	query string
}

// buildSchemaCall plans a SELECT whose only item is a fineo.* schema
// function; ok is false for any other statement.
func (s *Session) buildSchemaCall(sel *pg.SelectStmt, query string, paramTypes []Type) (p *prepared, ok bool, err error) {
	if len(sel.TargetList) != 1 || len(sel.FromClause) > 0 || sel.WhereClause != nil || len(sel.GroupClause) > 0 ||
		sel.HavingClause != nil || len(sel.SortClause) > 0 || sel.LimitCount != nil || sel.LimitOffset != nil ||
		len(sel.DistinctClause) > 0 || sel.WithClause != nil || len(sel.ValuesLists) > 0 || sel.IntoClause != nil ||
		len(sel.WindowClause) > 0 || len(sel.LockingClause) > 0 || sel.Op != pg.SetOperation_SETOP_NONE {
		return nil, false, nil
	}
	rt := sel.TargetList[0].GetResTarget()
	f := rt.GetVal().GetFuncCall()
	if f == nil {
		return nil, false, nil
	}
	names := nameList(f.Funcname)
	if len(names) != 2 || names[0] != "fineo" {
		return nil, false, nil
	}
	name := strings.ToLower(names[1])
	fn, ok := schemaFuncs[name]
	if !ok {
		return nil, false, nil
	}
	if f.Over != nil || f.AggStar || f.AggDistinct || f.AggFilter != nil || len(f.AggOrder) > 0 || f.FuncVariadic {
		return nil, true, errAt(CodeWrongObjectType, f.Location, "fineo.%s is not an aggregate or window function", name)
	}
	b := s.newBinder(query, paramTypes)
	args := make([]expr, len(f.Args))
	for i, a := range f.Args {
		if args[i], err = b.bindExpr(a, &scope{}, nil); err != nil {
			return nil, true, err
		}
	}
	if len(args) != len(fn.args) {
		return nil, true, noFunc("fineo."+name, args, f.Location)
	}
	for i := range args {
		if args[i], err = b.coerce(args[i], fn.args[i]); err != nil {
			return nil, true, err
		}
	}
	col := rt.Name
	if col == "" {
		col = name
	}
	return &prepared{kind: kindSchemaCall, call: &schemaCall{name: name, fn: fn, args: args, query: query},
		cols: []ResultColumn{{Name: col, Type: TypeText}}, params: b.paramTypes()}, true, nil
}

// run makes the call's change and returns its one row.
func (c *schemaCall) run(ec *execCtx, res *Result) error {
	s := ec.sess
	vals := make([]*constExpr, len(c.args))
	for i, a := range c.args {
		v, err := evalScalar(ec, a)
		if err != nil {
			return err
		}
		if v.isNull(0) {
			return errorf("22004", "argument %d of fineo.%s must not be null", i+1, c.name)
		}
		vals[i] = constFromVec(v, 0)
	}
	if c.name == "set_strict" && vals[0].s == "*" {
		// The tenant's setting: writes create no tables, new tables start
		// strict.
		al := s.newAlter(ec, s.database, "", c.query)
		al.Ops = []schema.AlterOp{{Op: schema.OpSetStrict, Enabled: vals[1].b}}
		if err := s.alterTable(ec.ctx, al); err != nil {
			return err
		}
		msg := "tenant " + quoteName(s.tenant) + " is strict: writes do not create tables, and new tables start strict"
		if !vals[1].b {
			msg = "tenant " + quoteName(s.tenant) + " is not strict"
		}
		res.batches = []*Batch{{Len: 1, Cols: []Vector{{Type: TypeText, Str: []string{msg}}}}}
		res.rows = 1
		res.tag = "SELECT 1"
		return nil
	}
	t, db, err := s.tableByName(vals[0].s)
	if err != nil {
		return err
	}
	op, msg, err := c.fn.op(t, vals[1:])
	if err != nil {
		return err
	}
	al := s.newAlter(ec, db, t.Name, c.query)
	al.Ops = []schema.AlterOp{op}
	if err := s.alterTable(ec.ctx, al); err != nil {
		return err
	}
	res.batches = []*Batch{{Len: 1, Cols: []Vector{{Type: TypeText, Str: []string{msg}}}}}
	res.rows = 1
	res.tag = "SELECT 1"
	return nil
}

// tableByName finds the table a fineo.* function's argument names: in
// the session's database exactly, as database.table, or by its unique
// case-insensitive match in the session's database.
func (s *Session) tableByName(name string) (TableInfo, string, error) {
	cat := s.eng.cat
	if t, ok := cat.Table(s.tenant, s.database, name); ok {
		return t, s.database, nil
	}
	if db, rest, ok := strings.Cut(name, "."); ok {
		for _, d := range cat.Databases(s.tenant) {
			if d == db {
				if t, ok := cat.Table(s.tenant, d, rest); ok {
					return t, d, nil
				}
			}
		}
	}
	var match []TableInfo
	for _, t := range cat.Tables(s.tenant, s.database) {
		if strings.EqualFold(t.Name, name) {
			match = append(match, t)
		}
	}
	if len(match) == 1 {
		return match[0], s.database, nil
	}
	return TableInfo{}, "", errorf(CodeUndefinedTable, "relation %q does not exist", name)
}
