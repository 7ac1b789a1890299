package engine

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"

	"github.com/fineod/fineod/schema"
	"github.com/fineod/fineod/sql"
	"github.com/fineod/fineod/storage"
)

// This file implements the interfaces package sql declares: the catalog of
// logical tables (sql.Catalog) and the column-batch scan (sql.Scanner).
//
// Until late binding lands in full, a table's logical columns are: time,
// then the tag keys in the order first seen, then one column per distinct
// physical field name, typed by the first physical field of that name.
// Values of other physical types of the same name are cast on read; a
// value that does not cast reads as NULL.

// sqlCatalog adapts the DB to sql.Catalog.
type sqlCatalog DB

// SQLCatalog returns the database's catalog as SQL sees it.
func (db *DB) SQLCatalog() sql.Catalog { return (*sqlCatalog)(db) }

// SQLScanner returns the database's scanner for SQL.
func (db *DB) SQLScanner() sql.Scanner { return (*sqlScanner)(db) }

func sqlType(t schema.Type) sql.Type {
	switch t {
	case schema.TypeFloat:
		return sql.TypeFloat8
	case schema.TypeUint:
		return sql.TypeNumeric
	case schema.TypeInt:
		return sql.TypeInt8
	case schema.TypeString:
		return sql.TypeText
	case schema.TypeBool:
		return sql.TypeBool
	}
	return sql.TypeText
}

func (c *sqlCatalog) tableInfo(t *schema.Table) (sql.TableInfo, bool) {
	bt, err := (*DB)(c).bind(t)
	if err != nil {
		c.log.Error("cannot bind table", "table", t.Name, "err", err)
		return sql.TableInfo{}, false
	}
	return bt.info(), true
}

func (c *sqlCatalog) Tables(tenant, database string) []sql.TableInfo {
	ten, ok := c.cat.Tenant(tenant)
	if !ok {
		return nil
	}
	var out []sql.TableInfo
	for _, t := range c.cat.LogicalTables(ten.ID, database) {
		if info, ok := c.tableInfo(t); ok {
			out = append(out, info)
		}
	}
	return out
}

// Table finds a table by its name, one of its aliases, or the name of a
// table merged into it.
func (c *sqlCatalog) Table(tenant, database, name string) (sql.TableInfo, bool) {
	ten, ok := c.cat.Tenant(tenant)
	if !ok {
		return sql.TableInfo{}, false
	}
	t, ok := c.cat.ResolveTable(ten.ID, database, name)
	if !ok {
		return sql.TableInfo{}, false
	}
	return c.tableInfo(t)
}

func (c *sqlCatalog) Databases(tenant string) []string { return (*DB)(c).Databases(tenant) }

// Version changes whenever the catalog does; SQL uses it to invalidate
// cached plans.
func (c *sqlCatalog) Version() uint64 { return c.cat.Version() }

// sqlScanner adapts the DB to sql.Scanner.
type sqlScanner DB

// scanBatchRows is the number of rows in one batch handed to SQL.
const scanBatchRows = 4096

func (s *sqlScanner) Scan(ctx context.Context, spec sql.ScanSpec, fn func(*sql.Batch) error) error {
	db := (*DB)(s)
	if err := db.check(ctx); err != nil {
		return err
	}
	ten, ok := db.cat.Tenant(spec.Tenant)
	if !ok {
		return fmt.Errorf("engine: tenant %q does not exist", spec.Tenant)
	}
	lt, ok := db.cat.ResolveTable(ten.ID, spec.Database, spec.Table)
	if !ok {
		return fmt.Errorf("engine: table %q does not exist in database %q", spec.Table, spec.Database)
	}
	bt, err := db.bind(lt)
	if err != nil {
		return err
	}
	l, err := newScanLayout(bt, spec)
	if err != nil {
		return err
	}
	if len(spec.Types) == len(spec.Columns) {
		for k, name := range spec.Columns {
			if c := bt.cols[bt.colIdx[name]]; c.Type != spec.Types[k] {
				return &stalePlanError{column: name}
			}
		}
	}
	l.report = func(errs []readError) { db.recordReadErrors(ten.ID, errs) }
	var tasks []scanTask
	for _, p := range bt.phys {
		pm := l.physLayout(p)
		series, err := db.matchSeries(ten.ID, p.ID, spec.TagFilters)
		if err != nil {
			return err
		}
		if len(series) == 0 {
			continue
		}
		pm.tagsOf = make(map[uint64][]string, len(series))
		for _, si := range series {
			pm.tagsOf[si.ID] = si.Tags
		}
		x, err := db.openTiers(ten.ID, p.ID, spec.MinTime, spec.MaxTime)
		if err != nil {
			return err
		}
		defer x.close()
		if spec.LastPerSeries {
			if err := x.scanLast(ctx, pm, series, fn); err != nil {
				return err
			}
			continue
		}
		for _, t := range x.tasks(pm, series, spec.MinTime, spec.MaxTime) {
			tasks = append(tasks, func(w pointSink) error {
				if sw, ok := w.(*scanWorker); ok {
					sw.use(pm)
				}
				return t(w)
			})
		}
	}
	return l.runTasks(ctx, tasks, fn)
}

// stalePlanError is a scan whose plan expects a column type the table no
// longer has (it changed between planning and scanning).
type stalePlanError struct{ column string }

func (e *stalePlanError) Error() string {
	return fmt.Sprintf("cached plan must not change result type (column %q changed type)", e.column)
}

// SQLState is PostgreSQL's code for this error.
func (e *stalePlanError) SQLState() string { return "0A000" }

// newScanLayout lays out the batches of one scan: time, then the
// requested columns in order (a column requested twice, by its name and
// an alias, fills two slots).
func newScanLayout(bt *boundTable, spec sql.ScanSpec) (*scanLayout, error) {
	l := &scanLayout{spec: spec, bt: bt, cols: bt.cols, colIdx: bt.colIdx, unmapped: -1}
	l.out = []int{0}
	l.slot = make([]int, len(bt.cols))
	for i := range l.slot {
		l.slot[i] = -1
	}
	l.slot[0] = 0
	for _, name := range spec.Columns {
		i, ok := bt.colIdx[name]
		if !ok {
			return nil, fmt.Errorf("engine: table %q has no column %q", spec.Table, name)
		}
		if i == 0 {
			continue
		}
		j := len(l.out)
		l.out = append(l.out, i)
		if l.slot[i] >= 0 {
			l.dups = append(l.dups, [2]int{j, l.slot[i]})
			continue
		}
		l.slot[i] = j
		if bt.cols[i].Kind == sql.KindTag {
			l.tagCols = append(l.tagCols, j)
		} else {
			l.fieldCols = append(l.fieldCols, j)
			if i == bt.unmapped {
				l.unmapped = j
			}
		}
	}
	// Field filters on columns the scan can check before building a row:
	// plain field columns (a converted column must be converted first).
	for _, ff := range spec.FieldFilters {
		ci, ok := bt.colIdx[ff.Column]
		if !ok || bt.cols[ci].Kind != sql.KindField || ci == bt.unmapped || bt.converted[ci] || bt.multi[ci] {
			continue
		}
		l.filters = append(l.filters, fieldFilter{FieldFilter: ff, scratch: sql.Vector{Type: bt.cols[ci].Type}})
	}
	for _, chain := range bt.convs {
		l.convTypes = append(l.convTypes, chain[0].In())
	}
	return l, nil
}

// physLayout returns how points of physical table p fill the layout's
// batches: the feeds of requested columns, and the field filters by the
// fields that feed their column.
func (l *scanLayout) physLayout(p *schema.Table) *physLayout {
	pm := &physLayout{l: l, table: p, rawNames: l.bt.rawNames[p.ID]}
	all := l.bt.feeds[p.ID]
	pm.feeds = make([][]feed, len(all))
	for id, fs := range all {
		for _, fd := range fs {
			if l.slot[fd.col] >= 0 {
				pm.feeds[id] = append(pm.feeds[id], fd)
			}
		}
	}
	for k, ff := range l.filters {
		ci := l.bt.colIdx[ff.Column]
		for id, fs := range all {
			for _, fd := range fs {
				if fd.col != ci {
					continue
				}
				for id >= len(pm.filterOf) {
					pm.filterOf = append(pm.filterOf, nil)
				}
				pm.filterOf[id] = append(pm.filterOf[id], k)
			}
		}
	}
	for id, ks := range pm.filterOf {
		if ks != nil {
			pm.filterIDs = append(pm.filterIDs, uint32(id))
		}
	}
	return pm
}

// matchSeries returns the series of a table that pass the tag filters,
// using the tag index for equality and IN filters.
func (db *DB) matchSeries(tenant, table uint32, filters []sql.TagFilter) ([]storage.SeriesInfo, error) {
	all, err := db.rows.Series(tenant, table)
	if err != nil {
		return nil, err
	}
	var keep map[uint64]bool
	for _, f := range filters {
		if f.Op != sql.TagEq && f.Op != sql.TagIn {
			continue
		}
		ids := map[uint64]bool{}
		for _, v := range f.Values {
			got, err := db.rows.SeriesWithTag(tenant, table, f.Key, v)
			if err != nil {
				return nil, err
			}
			for _, id := range got {
				if keep == nil || keep[id] {
					ids[id] = true
				}
			}
		}
		keep = ids
	}
	var out []storage.SeriesInfo
	for _, s := range all {
		if keep != nil && !keep[s.ID] {
			continue
		}
		if passesTagFilters(s.Tags, filters) {
			out = append(out, s)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

func passesTagFilters(tags []string, filters []sql.TagFilter) bool {
	for _, f := range filters {
		v, has := "", false
		for k := 0; k+1 < len(tags); k += 2 {
			if tags[k] == f.Key {
				v, has = tags[k+1], true
				break
			}
		}
		in := false
		for _, want := range f.Values {
			if has && v == want {
				in = true
				break
			}
		}
		switch f.Op {
		case sql.TagEq, sql.TagIn:
			if !in {
				return false
			}
		case sql.TagNe, sql.TagNotIn:
			// SQL: NULL <> 'x' is not true, so a series without the tag fails.
			if !has || in {
				return false
			}
		}
	}
	return true
}

func appendNull(v *sql.Vector) {
	switch v.Type {
	case sql.TypeFloat8, sql.TypeFloat4, sql.TypeNumeric:
		v.F64 = append(v.F64, 0)
	case sql.TypeBool:
		v.Bool = append(v.Bool, false)
	case sql.TypeText, sql.TypeVarchar:
		v.Str = append(v.Str, "")
	default:
		v.I64 = append(v.I64, 0)
	}
	v.Null = append(v.Null, true)
}

// appendCast appends f to v converted to v's type; it reports false (and
// appends nothing) if the value does not convert.
func appendCast(v *sql.Vector, f storage.FieldValue) bool {
	switch v.Type {
	case sql.TypeFloat8, sql.TypeNumeric:
		var x float64
		switch f.Type {
		case schema.TypeFloat:
			x = f.F
		case schema.TypeInt:
			x = float64(f.I)
		case schema.TypeUint:
			x = float64(uint64(f.I))
		case schema.TypeString:
			p, err := strconv.ParseFloat(string(f.S), 64)
			if err != nil {
				return false
			}
			x = p
		default:
			return false
		}
		v.F64 = append(v.F64, x)
	case sql.TypeInt8:
		var x int64
		switch f.Type {
		case schema.TypeInt:
			x = f.I
		case schema.TypeUint:
			if uint64(f.I) > math.MaxInt64 {
				return false
			}
			x = f.I
		case schema.TypeFloat:
			if math.IsNaN(f.F) || f.F > math.MaxInt64 || f.F < math.MinInt64 {
				return false
			}
			x = int64(math.RoundToEven(f.F))
		case schema.TypeString:
			p, err := strconv.ParseInt(string(f.S), 10, 64)
			if err != nil {
				return false
			}
			x = p
		default:
			return false
		}
		v.I64 = append(v.I64, x)
	case sql.TypeText:
		var s string
		switch f.Type {
		case schema.TypeString:
			s = string(f.S)
		case schema.TypeFloat:
			s = strconv.FormatFloat(f.F, 'g', -1, 64)
		case schema.TypeInt:
			s = strconv.FormatInt(f.I, 10)
		case schema.TypeUint:
			s = strconv.FormatUint(uint64(f.I), 10)
		case schema.TypeBool:
			s = strconv.FormatBool(f.B)
		}
		v.Str = append(v.Str, s)
	case sql.TypeBool:
		var x bool
		switch f.Type {
		case schema.TypeBool:
			x = f.B
		case schema.TypeInt, schema.TypeUint:
			x = f.I != 0
		case schema.TypeString:
			p, err := strconv.ParseBool(string(f.S))
			if err != nil {
				return false
			}
			x = p
		default:
			return false
		}
		v.Bool = append(v.Bool, x)
	default:
		return false
	}
	v.Null = append(v.Null, false)
	return true
}

// fieldFilter is a sql.FieldFilter with a one-value vector of its
// column's type, so that a field is converted exactly as the column reads
// it (appendCast) before it is compared.
type fieldFilter struct {
	sql.FieldFilter
	scratch sql.Vector
}

// passFieldFilters reports whether a point value satisfies every field
// filter. passed is scratch, one flag per filter.
func passFieldFilters(val []byte, filters []fieldFilter, filterOf [][]int, passed []bool) bool {
	clear(passed)
	seen := 0
	for rest := val; len(rest) > 0; {
		id, typ, payload, r, err := storage.NextField(rest)
		if err != nil {
			return true // let the row through; the scan reports the corruption
		}
		rest = r
		if int(id) >= len(filterOf) || filterOf[id] == nil {
			continue
		}
		if !checkFieldFilters(storage.FieldFromPayload(id, typ, payload), filters, filterOf[id], passed, &seen) {
			return false
		}
	}
	return seen == len(filters)
}

// passFieldFilterValues is passFieldFilters for decoded fields.
func passFieldFilterValues(fields []storage.FieldValue, filters []fieldFilter, filterOf [][]int, passed []bool) bool {
	clear(passed)
	seen := 0
	for _, f := range fields {
		if int(f.ID) >= len(filterOf) || filterOf[f.ID] == nil {
			continue
		}
		if !checkFieldFilters(f, filters, filterOf[f.ID], passed, &seen) {
			return false
		}
	}
	return seen == len(filters)
}

// checkFieldFilters compares one field with the filters ks of its column,
// converted as the column reads it; it reports false if one fails. A
// filter the field passes is marked in passed and counted in seen; a field
// that does not convert leaves its filters to another physical field.
func checkFieldFilters(f storage.FieldValue, filters []fieldFilter, ks []int, passed []bool, seen *int) bool {
	for _, k := range ks {
		if passed[k] {
			continue
		}
		ff := &filters[k]
		v := &ff.scratch
		v.F64, v.I64, v.Str, v.Bool, v.Null = v.F64[:0], v.I64[:0], v.Str[:0], v.Bool[:0], v.Null[:0]
		if !appendCast(v, f) {
			continue
		}
		var x float64
		switch {
		case len(v.F64) > 0:
			x = v.F64[0]
		case len(v.I64) > 0:
			x = float64(v.I64[0])
		default:
			continue
		}
		if !compareFloat(x, ff.Op, ff.Value) {
			return false
		}
		passed[k] = true
		*seen++
	}
	return true
}

func compareFloat(x float64, op string, v float64) bool {
	switch op {
	case "<":
		return x < v
	case "<=":
		return x <= v
	case ">":
		return x > v
	case ">=":
		return x >= v
	case "=":
		return x == v
	}
	return true
}
