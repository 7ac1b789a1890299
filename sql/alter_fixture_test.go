package sql

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/fineod/fineod/schema"
)

// AlterTable makes the test fixture a SchemaAlterer. It records every
// Alter (the script directive "alters" shows them) and applies what SQL
// can see: renames, added, dropped and restored columns, and type changes
// (values converted with CompileConversion; a value that fails reads
// NULL). Aliases, strict mode and TTL are only recorded. Its errors
// exercise alterError: an unknown dropped column is an error with a
// SQLState method, an unknown alias a plain error.
func (m *memDB) AlterTable(ctx context.Context, a *schema.Alter) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	key := a.Database + "\x00" + a.Table
	t, ok := m.tables[key]
	if !ok {
		return fmt.Errorf("table %q does not exist", a.Table)
	}
	// apply to a copy: all operations or none
	info := t.info
	info.Columns = append([]ColumnInfo(nil), t.info.Columns...)
	rows := make([][]any, len(t.rows))
	for i, r := range t.rows {
		rows[i] = append([]any(nil), r...)
	}
	dropped := append([]droppedColumn(nil), m.dropped[key]...)
	idx := func(name string) int {
		for i, c := range info.Columns {
			if c.Name == name {
				return i
			}
		}
		return -1
	}
	removeCol := func(i int) {
		info.Columns = append(info.Columns[:i:i], info.Columns[i+1:]...)
		for r := range rows {
			rows[r] = append(rows[r][:i:i], rows[r][i+1:]...)
		}
	}
	newKey := key
	for _, op := range a.Ops {
		switch op.Op {
		case schema.OpRenameTable:
			info.Name = op.Name
			newKey = a.Database + "\x00" + op.Name
		case schema.OpRenameColumn:
			info.Columns[idx(op.Column)].Name = op.Name
		case schema.OpAddColumn:
			info.Columns = append(info.Columns, ColumnInfo{Name: op.Name, Type: columnType(schema.Type(op.Type)), Kind: KindField})
			for r := range rows {
				rows[r] = append(rows[r], nil)
			}
		case schema.OpDropColumn:
			i := idx(op.Column)
			d := droppedColumn{col: info.Columns[i]}
			for _, r := range rows {
				d.vals = append(d.vals, r[i])
			}
			dropped = append(dropped, d)
			removeCol(i)
		case schema.OpRestoreColumn:
			k := -1
			for j, d := range dropped {
				if d.col.Name == op.Column {
					k = j
				}
			}
			if k < 0 {
				return fixtureError{"42703", fmt.Sprintf("table %q has no dropped column %q", a.Table, op.Column)}
			}
			d := dropped[k]
			dropped = append(dropped[:k:k], dropped[k+1:]...)
			info.Columns = append(info.Columns, d.col)
			for r := range rows {
				var v any
				if r < len(d.vals) {
					v = d.vals[r]
				}
				rows[r] = append(rows[r], v)
			}
		case schema.OpAlterColumnType:
			i := idx(op.Column)
			to := columnType(schema.Type(op.Type))
			ref := op.Ref
			if op.Expr == "" {
				ref = op.Column
			}
			j := idx(ref)
			conv, err := CompileCast(info.Columns[j].Type, to)
			if op.Expr != "" {
				conv, err = CompileConversion(op.Expr, ref, info.Columns[j].Type, to)
			}
			if err != nil {
				return err
			}
			in := &Vector{Type: info.Columns[j].Type}
			for _, r := range rows {
				appendAnyValue(in, r[j])
			}
			out, err := conv.Eval(in)
			if err != nil {
				return err
			}
			for r := range rows {
				v := rowValue(to, out, r)
				if ref != op.Column && rows[r][i] != nil {
					continue // the column's own values come first
				}
				rows[r][i] = v
			}
			info.Columns[i].Type = to
		case schema.OpRemoveTableAlias, schema.OpRemoveFieldAlias:
			if strings.HasPrefix(op.Name, "nope") {
				return fmt.Errorf("alias %q does not exist", op.Name)
			}
		}
	}
	delete(m.tables, key)
	m.tables[newKey] = &memTable{info: info, rows: rows}
	if m.dropped == nil {
		m.dropped = map[string][]droppedColumn{}
	}
	delete(m.dropped, key)
	m.dropped[newKey] = dropped
	m.alters = append(m.alters, *a)
	m.version++
	return nil
}

// droppedColumn is a column hidden by DROP COLUMN, with its values.
type droppedColumn struct {
	col  ColumnInfo
	vals []any
}

type fixtureError struct{ code, msg string }

func (e fixtureError) Error() string    { return e.msg }
func (e fixtureError) SQLState() string { return e.code }

// appendAnyValue appends a fixture row value to v.
func appendAnyValue(v *Vector, x any) {
	if x == nil {
		appendNullRow(v)
		return
	}
	switch phys(v.Type) {
	case physF64:
		v.F64 = append(v.F64, x.(float64))
	case physStr:
		v.Str = append(v.Str, x.(string))
	case physBool:
		v.Bool = append(v.Bool, x.(bool))
	default:
		v.I64 = append(v.I64, x.(int64))
	}
	v.Null = append(v.Null, false)
}

// takeAlters renders the Alters recorded since the last call, as the
// script directive "alters" shows them.
func (m *memDB) takeAlters() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var sb strings.Builder
	for _, a := range m.alters {
		fmt.Fprintf(&sb, "%s %s.%s by %s: %s\n", a.Tenant, a.Database, a.Table, a.User, a.Statement)
		for _, op := range a.Ops {
			j, _ := json.Marshal(op)
			sb.WriteString("  " + string(j) + "\n")
		}
	}
	m.alters = nil
	if sb.Len() == 0 {
		return "(none)"
	}
	return strings.TrimSuffix(sb.String(), "\n")
}
