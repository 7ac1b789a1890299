package sql

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/fineod/fineod/schema"
)

// memDB is the TEST FIXTURE: a small in-memory Catalog, Scanner and
// Writer. It holds rows per table and honours ScanSpec (time range, tag
// filters, columns; batches of batchRows rows in (series, time) order) so
// that the engine can be tested without storage. The real adapter lives in
// package engine and is tested there.
type memDB struct {
	mu        sync.Mutex
	version   uint64
	batchRows int
	tables    map[string]*memTable // database + "\x00" + name
	scans     []ScanSpec           // every spec received, for tests
	alters    []schema.Alter       // every Alter received (alter_fixture_test.go)
	dropped   map[string][]droppedColumn
}

type memTable struct {
	info TableInfo
	rows [][]any // per column: int64 (time), string, float64, int64, bool or nil
}

func newMemDB() *memDB { return &memDB{batchRows: 1024, tables: map[string]*memTable{}} }

func (m *memDB) addTable(db string, info TableInfo) *memTable {
	m.mu.Lock()
	defer m.mu.Unlock()
	info.Database = db
	t := &memTable{info: info}
	m.tables[db+"\x00"+info.Name] = t
	m.version++
	return t
}

func (m *memDB) Tables(tenant, database string) []TableInfo {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []TableInfo
	for _, t := range m.tables {
		if database == "" || t.info.Database == database {
			out = append(out, t.info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func (m *memDB) Table(tenant, database, name string) (TableInfo, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tables[database+"\x00"+name]
	if !ok {
		return TableInfo{}, false
	}
	return t.info, true
}

func (m *memDB) Databases(tenant string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for _, t := range m.tables {
		if !seen[t.info.Database] {
			seen[t.info.Database] = true
			out = append(out, t.info.Database)
		}
	}
	sort.Strings(out)
	return out
}

func (m *memDB) Version() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.version
}

func (t *memTable) seriesKey(r []any) string {
	var sb strings.Builder
	for i, c := range t.info.Columns {
		if c.Kind == KindTag {
			fmt.Fprintf(&sb, "%v\x00", r[i])
		}
	}
	return sb.String()
}

func passTag(f TagFilter, v any) bool {
	s, has := v.(string)
	in := false
	for _, x := range f.Values {
		if has && s == x {
			in = true
		}
	}
	switch f.Op {
	case TagEq, TagIn:
		return in
	}
	return has && !in
}

func (m *memDB) Scan(ctx context.Context, spec ScanSpec, fn func(*Batch) error) error {
	m.mu.Lock()
	t, ok := m.tables[spec.Database+"\x00"+spec.Table]
	m.scans = append(m.scans, spec)
	batchRows := m.batchRows
	m.mu.Unlock()
	if !ok {
		return fmt.Errorf("no table %q", spec.Table)
	}
	idx := map[string]int{}
	for i, c := range t.info.Columns {
		idx[c.Name] = i
	}
	out := []int{0}
	for _, n := range spec.Columns {
		i, ok := idx[n]
		if !ok {
			return fmt.Errorf("no column %q", n)
		}
		if i != 0 {
			out = append(out, i)
		}
	}
	var rows [][]any
rowLoop:
	for _, r := range t.rows {
		ts := r[0].(int64)
		if ts < spec.MinTime || ts > spec.MaxTime {
			continue
		}
		for _, f := range spec.TagFilters {
			i, ok := idx[f.Key]
			if !ok {
				if f.Op == TagEq || f.Op == TagIn || f.Op == TagNe || f.Op == TagNotIn {
					continue rowLoop
				}
			}
			if !passTag(f, r[i]) {
				continue rowLoop
			}
		}
		rows = append(rows, r)
	}
	sort.SliceStable(rows, func(a, b int) bool {
		ka, kb := t.seriesKey(rows[a]), t.seriesKey(rows[b])
		if ka != kb {
			return ka < kb
		}
		return rows[a][0].(int64) < rows[b][0].(int64)
	})
	if spec.LastPerSeries {
		var last [][]any
		for i, r := range rows {
			if i+1 == len(rows) || t.seriesKey(rows[i+1]) != t.seriesKey(r) {
				last = append(last, r)
			}
		}
		rows = last
	}
	b := &Batch{Cols: make([]Vector, len(out))}
	for j, i := range out {
		b.Cols[j].Type = t.info.Columns[i].Type
	}
	flush := func() error {
		if b.Len == 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := fn(b); err != nil {
			return err
		}
		// reuse the batch, as the real scanner does
		b.Len = 0
		for j := range b.Cols {
			v := &b.Cols[j]
			v.F64, v.I64, v.Str, v.Bool, v.Null = v.F64[:0], v.I64[:0], v.Str[:0], v.Bool[:0], v.Null[:0]
		}
		return nil
	}
	for _, r := range rows {
		for j, i := range out {
			v := &b.Cols[j]
			x := r[i]
			if x == nil {
				appendNullRow(v)
				continue
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
		b.Len++
		if b.Len == batchRows {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// WriteBatch decodes the builder through a private schema catalog and
// merges the rows into the tables (point identity = series + time; later
// fields win).
func (m *memDB) WriteBatch(ctx context.Context, tenant string, bld *schema.Builder) error {
	cat := schema.NewCatalog()
	for i, e := range bld.Missing(cat, tenant) {
		if _, err := cat.Apply(&e, uint64(i+1)); err != nil {
			return err
		}
	}
	batch, ok := bld.Resolve(cat, tenant)
	if !ok {
		return fmt.Errorf("resolve failed")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, tb := range batch.Tables {
		st, _ := cat.TableByID(tb.Table)
		t, ok := m.tables[bld.Database+"\x00"+st.Name]
		if !ok {
			return fmt.Errorf("no table %q", st.Name)
		}
		idx := map[string]int{}
		for i, c := range t.info.Columns {
			idx[c.Name] = i
		}
		for _, s := range tb.Series {
			for r, ts := range s.Times {
				row := make([]any, len(t.info.Columns))
				row[0] = ts
				for k := 0; k+1 < len(s.Tags); k += 2 {
					row[idx[s.Tags[k]]] = s.Tags[k+1]
				}
				for _, c := range s.Fields {
					f, _ := st.FieldByID(c.ID)
					pos := r
					if len(c.Present) > 0 {
						if c.Present[r/8]&(1<<(r%8)) == 0 {
							continue
						}
						pos = 0
						for q := 0; q < r; q++ {
							if c.Present[q/8]&(1<<(q%8)) != 0 {
								pos++
							}
						}
					}
					var v any
					switch c.Type {
					case schema.TypeFloat:
						v = c.F[pos]
					case schema.TypeInt:
						v = c.I[pos]
					case schema.TypeString:
						v = string(c.S[pos])
					case schema.TypeBool:
						v = c.B[pos]
					}
					row[idx[f.Name]] = v
				}
				t.rows = append(t.rows, row)
			}
		}
	}
	return nil
}
