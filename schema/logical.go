package schema

import "slices"

// The logical model (late binding). A table's physical fields are what was
// written; its Columns are what SQL sees. Each column reads the first
// non-null value of its sources, each a physical field passed through the
// source's conversions and cast to the column's declared type. The columns
// change only through Ensure (new physical fields are claimed, see claim)
// and Alter (ApplyAlter); both run in log order, so every replica and
// every replay derives the same columns.

// timeColumn is the implicit time column's name; no field column may use it.
const timeColumn = "time"

// LogicalColumn is a logical field column: a name SQL sees, a declared type, and
// the physical fields that feed it. Tags are not columns (they stay in
// Table.TagKeys) and the time column is implicit.
type LogicalColumn struct {
	Name    string   `json:"name"`
	Type    Type     `json:"type"` // declared type; every source is cast to it
	Sources []Source `json:"sources,omitempty"`
	// Aliases are other names of the column: old names (kept by a rename)
	// and raw field names it claims (OpAddFieldAlias). A query naming an
	// alias reads the column, and a new physical field with a raw name
	// equal to the column's name or one of its aliases becomes a source.
	Aliases []string `json:"aliases,omitempty"`
	Hidden  bool     `json:"hidden,omitempty"` // dropped: not visible to SQL, data and sources kept
}

// Source is one physical field feeding a column.
type Source struct {
	Table uint32       `json:"table,omitempty"` // physical table id; 0 = the column's own table
	Field uint32       `json:"field"`           // physical field id in that table
	Conv  []Conversion `json:"conv,omitempty"`  // applied in order; empty = the raw value
}

// Conversion is one conversion step of a source: an SQL scalar expression
// that reads the value as the identifier Ref. The schema package only
// stores it; the SQL side compiles it.
type Conversion struct {
	Expr string `json:"expr"`
	Ref  string `json:"ref"`
}

// rebase returns a copy of s with Table set to table if s reads its
// column's own table (0 leaves it as is).
func (s Source) rebase(table uint32) Source {
	if s.Table == 0 {
		s.Table = table
	}
	s.Conv = slices.Clone(s.Conv)
	return s
}

func (s Source) equal(o Source) bool {
	return s.Table == o.Table && s.Field == o.Field && slices.Equal(s.Conv, o.Conv)
}

func (c LogicalColumn) clone() LogicalColumn {
	n := c
	n.Aliases = slices.Clone(c.Aliases)
	if c.Sources != nil {
		n.Sources = make([]Source, len(c.Sources))
		for i, s := range c.Sources {
			n.Sources[i] = s
			n.Sources[i].Conv = slices.Clone(s.Conv)
		}
	}
	return n
}

// addSource appends s unless the column already has an identical source.
func (c *LogicalColumn) addSource(s Source) {
	for _, o := range c.Sources {
		if o.equal(s) {
			return
		}
	}
	c.Sources = append(c.Sources, s)
}

// names reports whether name is the column's name or one of its aliases.
func (c *LogicalColumn) names(name string) bool {
	return c.Name == name || slices.Contains(c.Aliases, name)
}

// shadowed reports whether a column named name is hidden by the time
// column or a tag of t (tags win over fields of the same name, as they
// always have).
func (t *Table) shadowed(name string) bool {
	return name == timeColumn || t.HasTag(name)
}

// VisibleColumns returns the columns SQL sees, in order: every column that
// is neither dropped nor shadowed by time or a tag key of the same name.
// The returned columns share memory with the snapshot; do not modify them.
func (t *Table) VisibleColumns() []LogicalColumn {
	out := make([]LogicalColumn, 0, len(t.Columns))
	for _, c := range t.Columns {
		if !c.Hidden && !t.shadowed(c.Name) {
			out = append(out, c)
		}
	}
	return out
}

// Column returns the visible column that name refers to: the column of that
// name, else the column that has name as an alias. The result points into
// the snapshot; do not modify it.
func (t *Table) Column(name string) (*LogicalColumn, bool) {
	return t.LookupColumn(name, false)
}

// LookupColumn is Column, and with hidden also finds dropped columns: a
// visible column by name or alias first, then a dropped one by name, then
// a dropped one by alias.
func (t *Table) LookupColumn(name string, hidden bool) (*LogicalColumn, bool) {
	i := t.columnIndex(name, hidden)
	if i < 0 {
		return nil, false
	}
	return &t.Columns[i], true
}

// columnIndex is LookupColumn returning an index (-1 = none).
func (t *Table) columnIndex(name string, hidden bool) int {
	for pass := 0; pass < 4; pass++ {
		wantHidden, byAlias := pass >= 2, pass%2 == 1
		if wantHidden && !hidden {
			break
		}
		for i := range t.Columns {
			c := &t.Columns[i]
			if c.Hidden != wantHidden || (!c.Hidden && t.shadowed(c.Name)) {
				continue
			}
			if (!byAlias && c.Name == name) || (byAlias && slices.Contains(c.Aliases, name)) {
				return i
			}
		}
	}
	return -1
}

// claimant returns the index of the column that claims a new physical field
// of raw name name (-1 = none): the column of that name or with that alias,
// visible ones before dropped ones, names before aliases, then in order.
func (t *Table) claimant(name string) int {
	for pass := 0; pass < 4; pass++ {
		wantHidden, byAlias := pass >= 2, pass%2 == 1
		for i := range t.Columns {
			c := &t.Columns[i]
			if c.Hidden != wantHidden {
				continue
			}
			if (!byAlias && c.Name == name) || (byAlias && slices.Contains(c.Aliases, name)) {
				return i
			}
		}
	}
	return -1
}

// claim attaches a new physical field (raw name name, type typ, reached as
// src) to t's columns: the claimant gets it as a source; without one, a
// table that is not strict gets a new column named after the field, unless
// time or a tag key already has that name. It reports whether the field
// is mapped.
func (t *Table) claim(name string, typ Type, src Source) bool {
	if i := t.claimant(name); i >= 0 {
		t.Columns[i].addSource(src)
		return true
	}
	if t.Strict || t.shadowed(name) {
		return false
	}
	t.Columns = append(t.Columns, LogicalColumn{Name: name, Type: typ, Sources: []Source{src}})
	return true
}

// sourced reports whether some column of t (dropped ones included) reads
// the physical field id of table (0 = t's own).
func (t *Table) sourced(table, id uint32) bool {
	for i := range t.Columns {
		for _, s := range t.Columns[i].Sources {
			if s.Table == table && s.Field == id {
				return true
			}
		}
	}
	return false
}

// Unmapped returns the table's own physical fields that no column reads
// (dropped columns included), in id order: in a strict table, raw names
// nobody mapped yet. They read in the JSON column _unmapped. For the
// fields of member tables as well, see Catalog.Unmapped.
func (t *Table) Unmapped() []Field {
	var out []Field
	for _, f := range t.Fields {
		if !t.sourced(0, f.ID) {
			out = append(out, f)
		}
	}
	return out
}

// WriteField returns the physical field that new values of (name, type)
// are written to: the unsealed field of that name and type.
func (t *Table) WriteField(name string, typ Type) (Field, bool) {
	for _, f := range t.Fields {
		if f.Type == typ && f.Name == name && !f.Sealed {
			return f, true
		}
	}
	return Field{}, false
}

// seal marks physical field id sealed: it gets no new writes.
func (t *Table) seal(id uint32) {
	for i := range t.Fields {
		if t.Fields[i].ID == id {
			t.Fields[i].Sealed = true
		}
	}
}

// deriveColumns returns the columns of a table written before the logical
// model existed: one column per distinct field name in id order, typed by
// its first physical field, fed by every physical field of that name in id
// order. Names of time and tag keys get no column (tags win), which is
// what SQL has always shown for such tables.
func deriveColumns(t *Table) []LogicalColumn {
	var cols []LogicalColumn
	idx := map[string]int{}
	for _, f := range t.Fields {
		if t.shadowed(f.Name) {
			continue
		}
		i, ok := idx[f.Name]
		if !ok {
			i = len(cols)
			idx[f.Name] = i
			cols = append(cols, LogicalColumn{Name: f.Name, Type: f.Type})
		}
		cols[i].Sources = append(cols[i].Sources, Source{Field: f.ID})
	}
	return cols
}

// clone returns a deep copy of t.
func (t *Table) clone() *Table {
	n := *t
	n.TagKeys = slices.Clone(t.TagKeys)
	n.Fields = slices.Clone(t.Fields)
	n.Aliases = slices.Clone(t.Aliases)
	n.Members = slices.Clone(t.Members)
	if t.Columns != nil {
		n.Columns = make([]LogicalColumn, len(t.Columns))
		for i := range t.Columns {
			n.Columns[i] = t.Columns[i].clone()
		}
	}
	return &n
}

// detach removes member table id from t: its membership, every source that
// reads it, and every column left without sources that only it fed.
func (t *Table) detach(id uint32) {
	t.Members = slices.DeleteFunc(t.Members, func(m uint32) bool { return m == id })
	cols := t.Columns[:0]
	for _, c := range t.Columns {
		had := len(c.Sources)
		c.Sources = slices.DeleteFunc(c.Sources, func(s Source) bool { return s.Table == id })
		if had > 0 && len(c.Sources) == 0 {
			continue
		}
		cols = append(cols, c)
	}
	clear(t.Columns[len(cols):])
	t.Columns = cols
}
