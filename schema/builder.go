package schema

import (
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Builder collects rows by name, grouped by table and series, for one write
// request. The parsers feed it one row at a time; the engine then resolves
// names to physical ids (Missing, Resolve) and encodes the batch.
//
// Typical use:
//
//	b.StartRow(table, time)
//	b.AddTag(k, v) ...         // any order; StartRow's table is used
//	b.AddFloat(name, v) ...    // AddInt, AddUint, AddString, AddBool
//	b.EndRow()
//
// Builder is not safe for concurrent use. Reset reuses its memory.
type Builder struct {
	Database string

	tables   map[string]*tableBuf
	order    []*tableBuf
	errors   []ErrorRow
	rows     int
	values   int
	scratch  []byte
	cur      row
	tagPairs []tagPair
}

type tagPair struct{ k, v string }

type row struct {
	table  []byte
	time   int64
	tags   []tagKV
	fields []fieldVal
}

type tagKV struct{ k, v []byte }

type fieldVal struct {
	name []byte
	typ  Type
	f    float64
	i    int64
	s    []byte
	b    bool
}

type tableBuf struct {
	name   string
	series map[string]*seriesBuf
	order  []*seriesBuf
}

type seriesBuf struct {
	tags  []string
	times []int64
	cols  []*colBuf
}

type colBuf struct {
	name    string
	typ     Type
	n       int // rows accounted for (present or not)
	present []byte
	absent  bool
	f       []float64
	i       []int64
	s       [][]byte
	b       []bool
}

// NewBuilder returns an empty builder for a database.
func NewBuilder(database string) *Builder {
	return &Builder{Database: database, tables: map[string]*tableBuf{}}
}

// Reset empties the builder for another request.
func (b *Builder) Reset(database string) {
	b.Database = database
	clear(b.tables)
	b.order = b.order[:0]
	b.errors = b.errors[:0]
	b.rows, b.values = 0, 0
}

// Rows is the number of rows added; Values the number of field values.
func (b *Builder) Rows() int   { return b.rows }
func (b *Builder) Values() int { return b.values }

// Errors are the error rows added with AddError.
func (b *Builder) Errors() []ErrorRow { return b.errors }

// AddError records a rejected input; it is stored with the batch.
func (b *Builder) AddError(e ErrorRow) { b.errors = append(b.errors, e) }

// StartRow begins a row of table at time t (ns since the epoch). The
// builder copies what it keeps; table may be reused after EndRow.
func (b *Builder) StartRow(table []byte, t int64) {
	b.cur.table = table
	b.cur.time = t
	b.cur.tags = b.cur.tags[:0]
	b.cur.fields = b.cur.fields[:0]
}

// AddTag adds a tag to the current row. A later tag with the same key
// replaces an earlier one.
func (b *Builder) AddTag(k, v []byte) { b.cur.tags = append(b.cur.tags, tagKV{k, v}) }

func (b *Builder) AddFloat(name []byte, v float64) {
	b.cur.fields = append(b.cur.fields, fieldVal{name: name, typ: TypeFloat, f: v})
}
func (b *Builder) AddInt(name []byte, v int64) {
	b.cur.fields = append(b.cur.fields, fieldVal{name: name, typ: TypeInt, i: v})
}
func (b *Builder) AddUint(name []byte, v uint64) {
	b.cur.fields = append(b.cur.fields, fieldVal{name: name, typ: TypeUint, i: int64(v)})
}
func (b *Builder) AddString(name []byte, v []byte) {
	b.cur.fields = append(b.cur.fields, fieldVal{name: name, typ: TypeString, s: v})
}
func (b *Builder) AddBool(name []byte, v bool) {
	b.cur.fields = append(b.cur.fields, fieldVal{name: name, typ: TypeBool, b: v})
}

// EndRow adds the current row. Rows without fields are ignored.
func (b *Builder) EndRow() {
	r := &b.cur
	if len(r.fields) == 0 {
		return
	}
	tb, ok := b.tables[string(r.table)]
	if !ok {
		tb = &tableBuf{name: string(r.table), series: map[string]*seriesBuf{}}
		b.tables[tb.name] = tb
		b.order = append(b.order, tb)
	}
	// Canonical series key: tags sorted by key, later duplicates win.
	tags := r.tags
	if !sortedTags(tags) {
		sort.SliceStable(tags, func(i, j int) bool { return string(tags[i].k) < string(tags[j].k) })
	}
	key := b.scratch[:0]
	for i := range tags {
		if i+1 < len(tags) && string(tags[i].k) == string(tags[i+1].k) {
			continue
		}
		key = append(key, tags[i].k...)
		key = append(key, 0)
		key = append(key, tags[i].v...)
		key = append(key, 0)
	}
	b.scratch = key
	sb, ok := tb.series[string(key)]
	if !ok {
		sb = &seriesBuf{}
		for i := range tags {
			if i+1 < len(tags) && string(tags[i].k) == string(tags[i+1].k) {
				continue
			}
			sb.tags = append(sb.tags, string(tags[i].k), string(tags[i].v))
		}
		tb.series[string(key)] = sb
		tb.order = append(tb.order, sb)
	}
	n := len(sb.times)
	sb.times = append(sb.times, r.time)
	for fi := range r.fields {
		f := &r.fields[fi]
		c := sb.col(f.name, f.typ)
		if c.n > n { // the same field twice in one row: the later value wins
			c.replaceLast(f)
			continue
		}
		c.fill(n)
		c.add(f)
	}
	b.rows++
	b.values += len(r.fields)
}

func sortedTags(t []tagKV) bool {
	for i := 1; i < len(t); i++ {
		if string(t[i-1].k) > string(t[i].k) {
			return false
		}
	}
	return true
}

func (s *seriesBuf) col(name []byte, typ Type) *colBuf {
	for _, c := range s.cols {
		if c.typ == typ && c.name == string(name) {
			return c
		}
	}
	c := &colBuf{name: string(name), typ: typ}
	s.cols = append(s.cols, c)
	return c
}

// fill marks rows [c.n, n) absent.
func (c *colBuf) fill(n int) {
	for c.n < n {
		c.setBit(c.n, false)
		c.n++
	}
}

func (c *colBuf) setBit(i int, v bool) {
	if !v && !c.absent {
		// First absent row: materialize the bitmap with every earlier row present.
		c.absent = true
		c.present = make([]byte, (i+8)/8, (i+64)/8)
		for j := 0; j < i; j++ {
			c.present[j>>3] |= 1 << (uint(j) & 7)
		}
	}
	if !c.absent {
		return
	}
	for len(c.present) <= i>>3 {
		c.present = append(c.present, 0)
	}
	if v {
		c.present[i>>3] |= 1 << (uint(i) & 7)
	}
}

func (c *colBuf) add(f *fieldVal) {
	c.setBit(c.n, true)
	c.n++
	switch f.typ {
	case TypeFloat:
		c.f = append(c.f, f.f)
	case TypeInt, TypeUint:
		c.i = append(c.i, f.i)
	case TypeString:
		c.s = append(c.s, append([]byte(nil), f.s...))
	case TypeBool:
		c.b = append(c.b, f.b)
	}
}

func (c *colBuf) replaceLast(f *fieldVal) {
	switch f.typ {
	case TypeFloat:
		c.f[len(c.f)-1] = f.f
	case TypeInt, TypeUint:
		c.i[len(c.i)-1] = f.i
	case TypeString:
		c.s[len(c.s)-1] = append([]byte(nil), f.s...)
	case TypeBool:
		c.b[len(c.b)-1] = f.b
	}
}

// Missing returns the schema changes needed before the batch can be
// resolved against cat for the given tenant (nil if none). Tables are
// resolved as Catalog.WriteTable does, and a field counts as present only
// if it is unsealed (Table.WriteField).
func (b *Builder) Missing(cat *Catalog, tenant string) []Ensure {
	ten, ok := cat.Tenant(tenant)
	if !ok || !contains(ten.Databases, b.Database) {
		out := []Ensure{{Tenant: tenant, Database: b.Database}}
		for _, tb := range b.order {
			out = append(out, b.ensureFor(tenant, tb, nil))
		}
		return out
	}
	var out []Ensure
	for _, tb := range b.order {
		t, _ := cat.WriteTable(ten.ID, b.Database, tb.name)
		if e := b.ensureFor(tenant, tb, t); e.Table != "" {
			out = append(out, e)
		}
	}
	return out
}

// ensureFor returns the change that adds what tb needs and t lacks (t may be
// nil), or a zero Ensure if nothing is missing.
func (b *Builder) ensureFor(tenant string, tb *tableBuf, t *Table) Ensure {
	e := Ensure{Tenant: tenant, Database: b.Database, Table: tb.name}
	seenTag := map[string]bool{}
	seenField := map[FieldSpec]bool{}
	for _, s := range tb.order {
		for i := 0; i < len(s.tags); i += 2 {
			k := s.tags[i]
			if !seenTag[k] && (t == nil || !t.HasTag(k)) {
				seenTag[k] = true
				e.TagKeys = append(e.TagKeys, k)
			}
		}
		for _, c := range s.cols {
			fs := FieldSpec{Name: c.name, Type: int(c.typ)}
			if seenField[fs] {
				continue
			}
			if t != nil {
				if _, ok := t.WriteField(c.name, c.typ); ok {
					continue
				}
			}
			seenField[fs] = true
			e.Fields = append(e.Fields, fs)
		}
	}
	if t != nil && len(e.TagKeys) == 0 && len(e.Fields) == 0 {
		return Ensure{}
	}
	return e
}

// Resolve builds the batch with physical ids. It returns ok=false if the
// catalog lacks something (call Missing, apply the changes, and retry).
func (b *Builder) Resolve(cat *Catalog, tenant string) (batch *Batch, ok bool) {
	ten, found := cat.Tenant(tenant)
	if !found {
		return nil, false
	}
	batch = &Batch{Tenant: ten.ID, Errors: b.errors}
	for _, tb := range b.order {
		t, found := cat.WriteTable(ten.ID, b.Database, tb.name)
		if !found {
			return nil, false
		}
		out := TableBatch{Table: t.ID, Series: make([]Series, 0, len(tb.order))}
		for _, s := range tb.order {
			for i := 0; i < len(s.tags); i += 2 {
				if !t.HasTag(s.tags[i]) {
					return nil, false
				}
			}
			ser := Series{Tags: s.tags, Times: s.times, Fields: make([]Column, 0, len(s.cols))}
			for _, c := range s.cols {
				f, found := t.WriteField(c.name, c.typ)
				if !found {
					return nil, false
				}
				c.fill(len(s.times))
				col := Column{ID: f.ID, Type: c.typ, F: c.f, I: c.i, S: c.s, B: c.b}
				if c.absent {
					col.Present = c.present
				}
				ser.Fields = append(ser.Fields, col)
			}
			out.Series = append(out.Series, ser)
		}
		batch.Tables = append(batch.Tables, out)
	}
	return batch, true
}

// TableNames lists the tables the builder has rows for, in first-seen
// order.
func (b *Builder) TableNames() []string {
	out := make([]string, len(b.order))
	for i, tb := range b.order {
		out[i] = tb.name
	}
	return out
}

// RemoveTable drops the rows of one table from the builder and returns
// them as line protocol (a record of what was rejected), one line per row.
func (b *Builder) RemoveTable(name string) []string {
	tb, ok := b.tables[name]
	if !ok {
		return nil
	}
	var lines []string
	for _, sb := range tb.order {
		for r, t := range sb.times {
			var line strings.Builder
			line.WriteString(lpEscape(name, " ,"))
			for k := 0; k+1 < len(sb.tags); k += 2 {
				line.WriteString("," + lpEscape(sb.tags[k], " ,=") + "=" + lpEscape(sb.tags[k+1], " ,="))
			}
			sep := " "
			for _, c := range sb.cols {
				k, ok := c.has(r)
				if !ok {
					continue
				}
				b.values--
				line.WriteString(sep + lpEscape(c.name, " ,=") + "=" + c.valueText(k))
				sep = ","
			}
			line.WriteString(" " + strconv.FormatInt(t, 10))
			lines = append(lines, line.String())
		}
		b.rows -= len(sb.times)
	}
	delete(b.tables, name)
	b.order = slices.DeleteFunc(b.order, func(x *tableBuf) bool { return x == tb })
	return lines
}

func lpEscape(s, special string) string {
	if !strings.ContainsAny(s, special+"\\") {
		return s
	}
	var sb strings.Builder
	for _, r := range s {
		if strings.ContainsRune(special, r) || r == '\\' {
			sb.WriteByte('\\')
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// has reports whether row r has a value, and its index among the values.
func (c *colBuf) has(r int) (int, bool) {
	if r >= c.n {
		return 0, false
	}
	if !c.absent {
		return r, true
	}
	if c.present[r>>3]&(1<<(uint(r)&7)) == 0 {
		return 0, false
	}
	k := 0
	for j := 0; j < r; j++ {
		if c.present[j>>3]&(1<<(uint(j)&7)) != 0 {
			k++
		}
	}
	return k, true
}

// valueText is row r's value in line protocol.
func (c *colBuf) valueText(k int) string {
	switch c.typ {
	case TypeFloat:
		return strconv.FormatFloat(c.f[k], 'g', -1, 64)
	case TypeInt:
		return strconv.FormatInt(c.i[k], 10) + "i"
	case TypeUint:
		return strconv.FormatUint(uint64(c.i[k]), 10) + "u"
	case TypeString:
		return strconv.Quote(string(c.s[k]))
	case TypeBool:
		return strconv.FormatBool(c.b[k])
	}
	return ""
}
