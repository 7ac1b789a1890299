package engine

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/fineod/fineod/schema"
	"github.com/fineod/fineod/sql"
	"github.com/fineod/fineod/storage"
)

// Late binding: what SQL sees of a table is decided at read time from the
// catalog's logical model (schema.LogicalColumn). A boundTable is a
// logical table bound for reading at one catalog version: its SQL columns
// (time, the tags of it and its member tables, its visible field columns,
// and _unmapped when some field has no column), and for every physical
// table it reads (itself and its members) which columns each physical
// field feeds, in which source order, through which conversion. Bound
// tables are cached per catalog version, so conversions are compiled once.

// unmappedColumn is the JSON column of fields no column reads.
const unmappedColumn = "_unmapped"

// feed is one way a physical field reaches a column.
type feed struct {
	col  int // logical column
	rank int // the source's place in the column's sources (0 = first)
	conv int // index into boundTable.convs; -1 = a cast only
}

type boundTable struct {
	version  uint64
	logical  *schema.Table
	cols     []sql.ColumnInfo
	colIdx   map[string]int // names and aliases
	phys     []*schema.Table
	feeds    map[uint32][][]feed          // physical table id -> field id -> feeds
	convs    [][]*sql.Conversion          // each a chain of steps, applied in order
	unmapped int                          // index of _unmapped; -1 if the table has none
	rawNames map[uint32]map[uint32]string // physical table -> field id -> raw name
	// converted marks columns with a converted source: scan-side field
	// filters skip them (the filter must see converted values). multi
	// marks columns with several sources: a filter on one source's value
	// cannot know which source wins, so they are skipped too.
	converted []bool
	multi     []bool
}

// bindCache holds the bound tables of the current catalog version.
type bindCache struct {
	mu      sync.Mutex
	version uint64
	tables  map[uint32]*boundTable
}

// bind returns the bound logical table t as the catalog has it now (t may
// be an older snapshot of it: it is looked up again by id, so that a
// change applied meanwhile is never cached under the new version).
func (db *DB) bind(t *schema.Table) (*boundTable, error) {
	for {
		v := db.cat.Version()
		db.binds.mu.Lock()
		if db.binds.version != v || db.binds.tables == nil {
			db.binds.version, db.binds.tables = v, map[uint32]*boundTable{}
		}
		bt, ok := db.binds.tables[t.ID]
		db.binds.mu.Unlock()
		if ok {
			return bt, nil
		}
		cur, ok := db.cat.TableByID(t.ID)
		if !ok {
			return nil, fmt.Errorf("engine: table %q was dropped", t.Name)
		}
		bt, err := db.newBoundTable(cur, v)
		if err != nil {
			return nil, err
		}
		if db.cat.Version() != v {
			continue // changed while binding: bind again
		}
		db.binds.mu.Lock()
		if db.binds.version == v {
			db.binds.tables[t.ID] = bt
		}
		db.binds.mu.Unlock()
		return bt, nil
	}
}

func (db *DB) newBoundTable(t *schema.Table, version uint64) (*boundTable, error) {
	bt := &boundTable{version: version, logical: t, colIdx: map[string]int{}, feeds: map[uint32][][]feed{},
		unmapped: -1, rawNames: map[uint32]map[uint32]string{}}
	bt.phys = []*schema.Table{t}
	for _, id := range t.Members {
		if m, ok := db.cat.TableByID(id); ok {
			bt.phys = append(bt.phys, m)
		}
	}
	for _, p := range bt.phys {
		names := map[uint32]string{}
		for _, f := range p.Fields {
			names[f.ID] = f.Name
		}
		bt.rawNames[p.ID] = names
	}
	add := func(c sql.ColumnInfo) int {
		i := len(bt.cols)
		bt.cols = append(bt.cols, c)
		if _, dup := bt.colIdx[c.Name]; !dup {
			bt.colIdx[c.Name] = i
		}
		return i
	}
	add(sql.ColumnInfo{Name: "time", Type: sql.TypeTimestamptz, Kind: sql.KindTime})
	for _, k := range db.cat.TagKeys(t) {
		if _, dup := bt.colIdx[k]; !dup {
			add(sql.ColumnInfo{Name: k, Type: sql.TypeText, Kind: sql.KindTag})
		}
	}
	addFeed := func(table, field uint32, f feed) {
		if table == 0 {
			table = t.ID
		}
		byField := bt.feeds[table]
		for int(field) >= len(byField) {
			byField = append(byField, nil)
		}
		byField[field] = append(byField[field], f)
		bt.feeds[table] = byField
	}
	for _, c := range t.VisibleColumns() {
		if _, dup := bt.colIdx[c.Name]; dup {
			continue // a tag of a member table shadows it
		}
		typ := sqlType(c.Type)
		i := add(sql.ColumnInfo{Name: c.Name, Type: typ, Kind: sql.KindField, Aliases: c.Aliases})
		for _, a := range c.Aliases {
			if _, dup := bt.colIdx[a]; !dup {
				bt.colIdx[a] = i
			}
		}
		for rank, s := range c.Sources {
			f := feed{col: i, rank: rank, conv: -1}
			if len(s.Conv) > 0 {
				pf, ok := db.cat.SourceField(t, s)
				if !ok {
					continue
				}
				in := sqlType(pf.Type)
				var chain []*sql.Conversion
				for k, step := range s.Conv {
					if k > 0 {
						in = typ // a later step reads the column's type
					}
					cv, err := sql.CompileConversion(step.Expr, step.Ref, in, typ)
					if err != nil {
						// SQL checked it when the change was made; a
						// source that no longer compiles reads nothing.
						db.log.Warn("conversion does not compile; its source is skipped", "table", t.Name,
							"column", c.Name, "expr", step.Expr, "err", err)
						chain = nil
						break
					}
					chain = append(chain, cv)
				}
				if chain == nil {
					continue
				}
				f.conv = len(bt.convs)
				bt.convs = append(bt.convs, chain)
			}
			addFeed(s.Table, s.Field, f)
		}
	}
	bt.converted = make([]bool, len(bt.cols)+1)
	bt.multi = make([]bool, len(bt.cols)+1)
	sources := make([]int, len(bt.cols)+1)
	for _, byField := range bt.feeds {
		for _, fs := range byField {
			for _, f := range fs {
				if f.conv >= 0 {
					bt.converted[f.col] = true
				}
				sources[f.col]++
			}
		}
	}
	for i, n := range sources {
		bt.multi[i] = n > 1
	}
	if un := db.cat.Unmapped(t); len(un) > 0 || t.Strict {
		if _, dup := bt.colIdx[unmappedColumn]; !dup {
			bt.unmapped = add(sql.ColumnInfo{Name: unmappedColumn, Type: sql.TypeText, Kind: sql.KindField})
			for _, s := range un {
				addFeed(s.Table, s.Field, feed{col: bt.unmapped, rank: 0, conv: -1})
			}
		}
	}
	return bt, nil
}

func (bt *boundTable) info() sql.TableInfo {
	return sql.TableInfo{Database: bt.logical.Database, Name: bt.logical.Name, Columns: bt.cols}
}

// physLayout is how one physical table's points fill a scan's batches.
type physLayout struct {
	l        *scanLayout
	table    *schema.Table
	feeds    [][]feed // field id -> feeds of requested columns
	filterOf [][]int  // field id -> indexes into the scan's filters
	// filterIDs are the field ids with filters.
	filterIDs []uint32
	tagsOf    map[uint64][]string
	rawNames  map[uint32]string
}

// readError is a value that did not convert to its column's type.
type readError struct {
	table   *schema.Table
	series  uint64
	time    int64
	field   uint32
	column  string
	raw     string
	message string
}

// maxReadErrors bounds the cast failures one scan worker keeps to report.
const maxReadErrors = 256

// recordReadErrors writes each failed value once to the errors table: a
// marker key per (table, field, series, time) remembers it was reported.
func (db *DB) recordReadErrors(tenant uint32, errs []readError) {
	if len(errs) == 0 {
		return
	}
	sort.Slice(errs, func(i, j int) bool { return errs[i].time < errs[j].time })
	now := time.Now().UnixNano()
	var rows []schema.ErrorRow
	var keys []storage.ReadErrorKey
	for _, e := range errs {
		keys = append(keys, storage.ReadErrorKey{Table: e.table.ID, Field: e.field, Series: e.series, Time: e.time})
		raw, _ := json.Marshal(map[string]any{"series": e.series, "time": e.time, "field": e.column, "value": e.raw})
		rows = append(rows, schema.ErrorRow{Time: now, Stage: schema.StageRead, Kind: schema.KindBadInput,
			Database: e.table.Database, Table: e.table.Name, Message: e.message, Raw: raw})
	}
	n, err := db.rows.PutReadErrors(tenant, keys, rows)
	if err != nil {
		db.log.Warn("cannot record read errors", "err", err)
		return
	}
	db.m.readErrors.Add(uint64(n))
}

func rawString(f storage.FieldValue) string {
	switch f.Type {
	case schema.TypeString:
		return string(f.S)
	case schema.TypeFloat:
		return strconv.FormatFloat(f.F, 'g', -1, 64)
	case schema.TypeInt:
		return strconv.FormatInt(f.I, 10)
	case schema.TypeUint:
		return strconv.FormatUint(uint64(f.I), 10)
	case schema.TypeBool:
		return strconv.FormatBool(f.B)
	}
	return ""
}

// Vector helpers: a vector keeps its values in the slice of its type's
// physical kind (as appendNull shows), with Null alongside.

type vecKind int

const (
	kindI64 vecKind = iota
	kindF64
	kindStr
	kindBool
)

func kindOf(t sql.Type) vecKind {
	switch t {
	case sql.TypeFloat8, sql.TypeFloat4, sql.TypeNumeric:
		return kindF64
	case sql.TypeBool:
		return kindBool
	case sql.TypeText, sql.TypeVarchar:
		return kindStr
	}
	return kindI64
}

func vecLen(v *sql.Vector) int {
	switch kindOf(v.Type) {
	case kindF64:
		return len(v.F64)
	case kindBool:
		return len(v.Bool)
	case kindStr:
		return len(v.Str)
	}
	return len(v.I64)
}

// dropPrevious removes the second-to-last value (the last takes its place).
func dropPrevious(v *sql.Vector) {
	n := len(v.Null)
	v.Null[n-2] = v.Null[n-1]
	v.Null = v.Null[:n-1]
	switch kindOf(v.Type) {
	case kindF64:
		v.F64[n-2] = v.F64[n-1]
		v.F64 = v.F64[:n-1]
	case kindBool:
		v.Bool[n-2] = v.Bool[n-1]
		v.Bool = v.Bool[:n-1]
	case kindStr:
		v.Str[n-2] = v.Str[n-1]
		v.Str = v.Str[:n-1]
	default:
		v.I64[n-2] = v.I64[n-1]
		v.I64 = v.I64[:n-1]
	}
}

// setFrom sets dst[i] to src[k].
func setFrom(dst *sql.Vector, i int, src *sql.Vector, k int) {
	if src.Null != nil && src.Null[k] {
		return // stays NULL
	}
	dst.Null[i] = false
	switch kindOf(dst.Type) {
	case kindF64:
		dst.F64[i] = src.F64[k]
	case kindBool:
		dst.Bool[i] = src.Bool[k]
	case kindStr:
		dst.Str[i] = src.Str[k]
	default:
		dst.I64[i] = src.I64[k]
	}
}

func resetVec(v *sql.Vector) {
	v.F64, v.I64, v.Str, v.Bool, v.Null = v.F64[:0], v.I64[:0], v.Str[:0], v.Bool[:0], v.Null[:0]
}

// appendUnmapped appends the JSON object of a row's unmapped fields, by
// raw name (NULL if there are none).
func appendUnmapped(v *sql.Vector, fields []storage.FieldValue, names map[uint32]string) {
	if len(fields) == 0 {
		appendNull(v)
		return
	}
	m := make(map[string]any, len(fields))
	for _, f := range fields {
		m[names[f.ID]] = f.Value()
	}
	b, _ := json.Marshal(m)
	v.Str = append(v.Str, string(b))
	v.Null = append(v.Null, false)
}

// reportReadErrors hands the worker's cast failures to the engine.
func (w *scanWorker) reportReadErrors() {
	if len(w.rdErrs) > 0 && w.l.report != nil {
		w.l.report(w.rdErrs)
		w.rdErrs = nil
	}
}
