package sql

import (
	"github.com/fineod/fineod/schema"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// insertPlan writes the rows of src into a table through the Writer: the
// same path as HTTP ingest. Columns that are tags of the table become
// tags; a row without a time gets now(); NULL tags and fields are left
// out. A row whose fields are all NULL is not written (the write path
// drops rows without fields) and is not counted.
type insertPlan struct {
	table   TableInfo
	targets []ColumnInfo // the column of each src column
	src     plan
}

func (b *binder) planInsert(ins *pg.InsertStmt) (*insertPlan, error) {
	if ins.WithClause != nil {
		return nil, errorf(CodeFeatureNotSupported, "WITH in INSERT is not supported")
	}
	if ins.OnConflictClause != nil || len(ins.ReturningList) > 0 {
		return nil, errorf(CodeFeatureNotSupported, "ON CONFLICT and RETURNING are not supported")
	}
	t, err := b.lookupTable(ins.Relation)
	if err != nil {
		return nil, err
	}
	ip := &insertPlan{table: t}
	if len(ins.Cols) == 0 {
		ip.targets = t.Columns
	} else {
		seen := map[string]bool{}
		for _, c := range ins.Cols {
			rt := c.GetResTarget()
			var col *ColumnInfo
			for i := range t.Columns {
				if t.Columns[i].Name == rt.Name {
					col = &t.Columns[i]
				}
			}
			if col == nil {
				for i := range t.Columns {
					if equalFold(t.Columns[i].Name, rt.Name) {
						col = &t.Columns[i]
					}
				}
			}
			if col == nil {
				return nil, errAt(CodeUndefinedColumn, rt.Location, "column %q of relation %q does not exist", rt.Name, t.Name)
			}
			if seen[col.Name] {
				return nil, errAt("42701", rt.Location, "column %q specified more than once", col.Name)
			}
			seen[col.Name] = true
			ip.targets = append(ip.targets, *col)
		}
	}
	sel := ins.SelectStmt.GetSelectStmt()
	if sel == nil { // DEFAULT VALUES
		return nil, errorf(CodeFeatureNotSupported, "INSERT ... DEFAULT VALUES is not supported")
	}
	if len(sel.ValuesLists) > 0 && sel.Op == pg.SetOperation_SETOP_NONE && len(sel.SortClause) == 0 && sel.LimitCount == nil {
		vp := &valuesPlan{}
		for _, c := range ip.targets {
			vp.cols = append(vp.cols, colDesc{name: c.Name, typ: c.Type})
		}
		for _, l := range sel.ValuesLists {
			items := l.GetList().GetItems()
			if len(items) > len(ip.targets) {
				return nil, errorf(CodeSyntaxError, "INSERT has more expressions than target columns")
			}
			if len(items) < len(ip.targets) {
				return nil, errorf(CodeSyntaxError, "INSERT has more target columns than expressions")
			}
			row := make([]expr, len(items))
			for i, it := range items {
				e, err := b.bindExpr(it, &scope{}, nil)
				if err != nil {
					return nil, err
				}
				if row[i], err = b.coerce(e, ip.targets[i].Type); err != nil {
					return nil, err
				}
			}
			vp.rows = append(vp.rows, row)
		}
		ip.src = vp
		return ip, nil
	}
	p, err := b.planSelect(sel)
	if err != nil {
		return nil, err
	}
	cols := p.columns()
	if len(cols) != len(ip.targets) {
		return nil, errorf(CodeSyntaxError, "INSERT has %d target columns but the query returns %d", len(ip.targets), len(cols))
	}
	pp := &projectPlan{in: p}
	for i, c := range cols {
		var e expr = &colRef{idx: i, typ: c.typ, name: c.name}
		if c.typ != ip.targets[i].Type {
			if !castable(c.typ, ip.targets[i].Type) {
				return nil, errorf(CodeDatatypeMismatch, "column %q is of type %s but expression is of type %s", ip.targets[i].Name, typeName(ip.targets[i].Type), typeName(c.typ))
			}
			e = &castExpr{arg: e, to: ip.targets[i].Type}
		}
		pp.exprs = append(pp.exprs, e)
		pp.cols = append(pp.cols, colDesc{name: ip.targets[i].Name, typ: ip.targets[i].Type})
	}
	ip.src = pp
	return ip, nil
}

// castable reports whether INSERT ... SELECT converts from into to
// (assignment casts).
func castable(from, to Type) bool {
	switch {
	case isNumType(from) && isNumType(to), isTextType(to), isTextType(from),
		isTimeType(from) && isTimeType(to), from == to:
		return true
	}
	return false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// run writes the rows and returns how many were written.
func (ip *insertPlan) run(ec *execCtx) (int, error) {
	if ec.eng.w == nil {
		return 0, errorf(CodeFeatureNotSupported, "this database is read-only: INSERT is not available")
	}
	bld := schema.NewBuilder(ip.table.Database)
	tname := []byte(ip.table.Name)
	timeCol := -1
	for i, c := range ip.targets {
		if c.Kind == KindTime {
			timeCol = i
		}
	}
	names := make([][]byte, len(ip.targets))
	for i, c := range ip.targets {
		names[i] = []byte(c.Name)
	}
	err := ip.src.run(ec, func(b *Batch) error {
		for r := 0; r < b.Len; r++ {
			t := ec.now
			if timeCol >= 0 {
				v := &b.Cols[timeCol]
				if v.isNull(r) {
					return errorf("23502", "null value in column %q of relation %q violates not-null constraint", "time", ip.table.Name)
				}
				t = v.I64[r]
			}
			bld.StartRow(tname, t)
			for i, c := range ip.targets {
				v := &b.Cols[i]
				if i == timeCol || v.isNull(r) {
					continue
				}
				switch {
				case c.Kind == KindTag:
					bld.AddTag(names[i], []byte(formatValue(ec, v.Type, v, r)))
				case phys(v.Type) == physF64:
					bld.AddFloat(names[i], v.F64[r])
				case phys(v.Type) == physStr:
					bld.AddString(names[i], []byte(v.Str[r]))
				case phys(v.Type) == physBool:
					bld.AddBool(names[i], v.Bool[r])
				default:
					bld.AddInt(names[i], v.I64[r])
				}
			}
			bld.EndRow()
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	if bld.Rows() == 0 {
		return 0, nil
	}
	if err := ec.eng.w.WriteBatch(ec.ctx, ec.sess.tenant, bld); err != nil {
		return 0, asError(err)
	}
	return bld.Rows(), nil
}
