package sql

import (
	"strconv"
	"strings"

	"github.com/fineod/fineod/schema"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// This file implements CREATE TABLE and DROP TABLE.
//
// CREATE TABLE declares a table and its columns through the Writer's
// SchemaWriter: one schema change in the log, the same change the first
// write of a table makes. Tags are named by a storage parameter, which
// keeps the statement PostgreSQL-parsable:
//
//	CREATE TABLE [IF NOT EXISTS] cpu (
//	    time   timestamptz,
//	    host   text,
//	    region text,
//	    usage  double precision,
//	    count  bigint
//	) WITH (tags = 'host,region')
//
//   - time is the table's time column (timestamptz or timestamp); every
//     table has one, so leaving it out declares it anyway. No other column
//     may be called time.
//   - tags: the columns named in WITH (tags = '...'), comma separated; they
//     must be text (text, varchar, char).
//   - fields: every other column; double precision, real and numeric are
//     stored as double precision, smallint, integer and bigint as bigint,
//     text and varchar as text, boolean as boolean. Other types are 0A000.
//   - NULL, NOT NULL and DEFAULT on a column are accepted and ignored (a
//     point stores only the fields it was written with); other constraints,
//     partitions, inheritance and TEMP tables are 0A000.
//
// An existing table is 42P07, or nothing with IF NOT EXISTS.
//
// DROP TABLE is not supported yet (0A000): fineod never deletes written
// rows, and hiding a table needs its own log entry. DROP TABLE IF EXISTS of
// tables that do not exist succeeds, as in PostgreSQL.

// ddlStmt is a planned CREATE TABLE or DROP TABLE. Existence is checked
// when it runs: the plan may be cached.
type ddlStmt struct {
	create   bool
	database string
	table    string // CREATE
	ifNot    bool   // CREATE ... IF NOT EXISTS
	tags     []string
	fields   []schema.FieldSpec

	drops    []*pg.RangeVar // DROP
	ifExists bool
}

// resolveSchema returns the database a schema name selects: the session's
// for "" and "public", another of the tenant's databases by its name.
func (s *Session) resolveSchema(name string, loc int32) (string, error) {
	switch name {
	case "", "public":
		return s.database, nil
	case "pg_catalog", "information_schema":
		return "", errAt("42501", loc, "permission denied for schema %s", name)
	}
	for _, d := range s.eng.cat.Databases(s.tenant) {
		if d == name {
			return d, nil
		}
	}
	return "", errAt("3F000", loc, "schema %q does not exist", name)
}

// defString returns the value of a DefElem as text (nil: "").
func defString(d *pg.DefElem) string {
	switch {
	case d.Arg == nil:
		return ""
	case d.Arg.GetString_() != nil:
		return d.Arg.GetString_().Sval
	case d.Arg.GetInteger() != nil:
		return strconv.Itoa(int(d.Arg.GetInteger().Ival))
	case d.Arg.GetBoolean() != nil:
		if d.Arg.GetBoolean().Boolval {
			return "true"
		}
		return "false"
	case d.Arg.GetFloat() != nil:
		return d.Arg.GetFloat().Fval
	case d.Arg.GetTypeName() != nil:
		names := nameList(d.Arg.GetTypeName().Names)
		return names[len(names)-1]
	}
	return ""
}

// fieldType is the physical type a field column of SQL type t is stored
// as.
func fieldType(t Type) (schema.Type, bool) {
	switch {
	case isFloatType(t) || t == TypeNumeric:
		return schema.TypeFloat, true
	case isIntType(t) && t != TypeOID:
		return schema.TypeInt, true
	case t == TypeText || t == TypeVarchar:
		return schema.TypeString, true
	case t == TypeBool:
		return schema.TypeBool, true
	}
	return 0, false
}

func (s *Session) buildCreateTable(c *pg.CreateStmt) (*prepared, error) {
	rv := c.Relation
	switch {
	case len(c.InhRelations) > 0, c.Partspec != nil, c.Partbound != nil:
		return nil, errorf(CodeFeatureNotSupported, "inheritance and partitions are not supported: fineod partitions every table by time itself")
	case c.OfTypename != nil:
		return nil, errorf(CodeFeatureNotSupported, "CREATE TABLE OF type is not supported")
	case len(c.Constraints) > 0:
		return nil, errorf(CodeFeatureNotSupported, "table constraints are not supported: a point is identified by its tags and time")
	case rv.Relpersistence == "t":
		return nil, errorf(CodeFeatureNotSupported, "temporary tables are not supported")
	}
	db, err := s.resolveSchema(rv.Schemaname, rv.Location)
	if err != nil {
		return nil, err
	}
	d := &ddlStmt{create: true, database: db, table: rv.Relname, ifNot: c.IfNotExists}
	var tagList []string
	for _, o := range c.Options {
		de := o.GetDefElem()
		if de == nil {
			continue
		}
		switch strings.ToLower(de.Defname) {
		case "tags":
			for _, t := range strings.Split(defString(de), ",") {
				if t = strings.TrimSpace(t); t != "" {
					tagList = append(tagList, t)
				}
			}
		default:
			return nil, errAt(CodeInvalidParameter, de.Location, "unrecognized parameter %q", de.Defname)
		}
	}
	isTag := map[string]bool{}
	for _, t := range tagList {
		isTag[t] = true
	}
	seen := map[string]bool{}
	for _, el := range c.TableElts {
		cd := el.GetColumnDef()
		if cd == nil {
			return nil, errorf(CodeFeatureNotSupported, "LIKE and table constraints are not supported in CREATE TABLE")
		}
		if seen[cd.Colname] {
			return nil, errAt("42701", cd.Location, "column %q specified more than once", cd.Colname)
		}
		seen[cd.Colname] = true
		for _, cn := range cd.Constraints {
			switch cn.GetConstraint().GetContype() {
			case pg.ConstrType_CONSTR_NULL, pg.ConstrType_CONSTR_NOTNULL, pg.ConstrType_CONSTR_DEFAULT:
			default:
				return nil, errAt(CodeFeatureNotSupported, cn.GetConstraint().GetLocation(), "column constraints other than NULL, NOT NULL and DEFAULT are not supported")
			}
		}
		typ, err := bindTypeName(cd.TypeName)
		if err != nil {
			return nil, err
		}
		switch {
		case cd.Colname == "time":
			if !isTimeType(typ) || isTag["time"] {
				return nil, errAt(CodeDatatypeMismatch, cd.Location, "column \"time\" is the table's time and must be of type timestamp with time zone")
			}
		case isTag[cd.Colname]:
			if typ != TypeText && typ != TypeVarchar {
				return nil, errAt(CodeDatatypeMismatch, cd.Location, "tag column %q must be of type text, not %s", cd.Colname, typeName(typ))
			}
		default:
			ft, ok := fieldType(typ)
			if !ok {
				return nil, errAt(CodeFeatureNotSupported, cd.Location, "column %q: type %s is not supported for a field (use double precision, bigint, text or boolean)", cd.Colname, typeName(typ))
			}
			d.fields = append(d.fields, schema.FieldSpec{Name: cd.Colname, Type: int(ft)})
		}
	}
	for _, t := range tagList {
		if !seen[t] {
			return nil, errorf(CodeUndefinedColumn, "tag column %q is not a column of table %q", t, rv.Relname)
		}
		d.tags = append(d.tags, t)
	}
	return &prepared{kind: kindDDL, ddl: d, tag: "CREATE TABLE"}, nil
}

func (s *Session) buildDrop(ds *pg.DropStmt) (*prepared, error) {
	if ds.RemoveType != pg.ObjectType_OBJECT_TABLE {
		return nil, errorf(CodeFeatureNotSupported, "DROP %s is not supported", strings.TrimPrefix(ds.RemoveType.String(), "OBJECT_"))
	}
	d := &ddlStmt{ifExists: ds.MissingOk}
	for _, o := range ds.Objects {
		names := nameList(o.GetList().GetItems())
		rv := &pg.RangeVar{Relname: names[len(names)-1], Location: -1}
		switch len(names) {
		case 1:
		case 2:
			rv.Schemaname = names[0]
		default:
			return nil, errorf(CodeFeatureNotSupported, "cross-database references are not implemented: %s", strings.Join(names, "."))
		}
		d.drops = append(d.drops, rv)
	}
	return &prepared{kind: kindDDL, ddl: d, tag: "DROP TABLE"}, nil
}

// run executes the statement.
func (d *ddlStmt) run(ec *execCtx) error {
	s := ec.sess
	if !d.create {
		// As PostgreSQL: every named table must exist (unless IF EXISTS)
		// before any is dropped.
		type target struct{ db, table string }
		var targets []target
		for _, rv := range d.drops {
			db, err := s.resolveSchema(rv.Schemaname, -1)
			if err == nil {
				if _, ok := s.eng.cat.Table(s.tenant, db, rv.Relname); ok {
					targets = append(targets, target{db, rv.Relname})
					continue
				}
			}
			if !d.ifExists {
				return errorf(CodeUndefinedTable, "table %q does not exist", rv.Relname)
			}
		}
		if len(targets) == 0 {
			return nil
		}
		td, ok := s.eng.w.(TableDropper)
		if !ok {
			return errorf(CodeFeatureNotSupported, "this database cannot drop tables: DROP TABLE is not available")
		}
		for _, t := range targets {
			if err := td.DropTable(ec.ctx, s.tenant, t.db, t.table); err != nil {
				return asError(err)
			}
		}
		return nil
	}
	if _, ok := s.eng.cat.Table(s.tenant, d.database, d.table); ok {
		if d.ifNot {
			return nil
		}
		return errorf("42P07", "relation %q already exists", d.table)
	}
	sw, ok := s.eng.w.(SchemaWriter)
	if !ok {
		return errorf(CodeFeatureNotSupported, "this database cannot declare tables: CREATE TABLE is not available")
	}
	if err := sw.EnsureTable(ec.ctx, s.tenant, d.database, d.table, d.tags, d.fields); err != nil {
		return asError(err)
	}
	return nil
}
