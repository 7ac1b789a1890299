package schema

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"sync"
)

// DefaultTenant is the tenant of an embedded database and of an HTTP server
// without authentication.
const DefaultTenant = "default"

// DefaultDatabase is the database of writes that name none.
const DefaultDatabase = "fineo"

// Field is a physical field: a raw name as sent plus the type it was sent
// with. Its ID is stable for the life of the table; rows store IDs, never names.
//
// A sealed field gets no new writes: after a column's type change converts
// the values written so far, the next write of the same (name, type) lands
// in a new field (see WriteField).
type Field struct {
	ID     uint32 `json:"id"`
	Name   string `json:"name"`
	Type   Type   `json:"type"`
	Sealed bool   `json:"sealed,omitempty"`
}

// Table is a table's physical schema (tag keys, physical fields) and its
// logical model (columns, aliases, member tables, options). A *Table
// returned by the Catalog is an immutable snapshot: changes replace it with
// a new value.
//
// A logical table may merge other physical tables (OpAddTableAlias): their
// ids are in Members, each member's MemberOf is the logical table's id,
// and the logical table's columns read the members' fields through sources
// with Source.Table set. Writes keep landing in each physical table.
type Table struct {
	ID       uint32   `json:"id"`
	TenantID uint32   `json:"tenant_id"`
	Database string   `json:"database"`
	Name     string   `json:"name"`
	TagKeys  []string `json:"tag_keys"` // in the order first seen
	Fields   []Field  `json:"fields"`   // by ID
	Created  int64    `json:"created"`  // log index of the change that created it

	// Columns are the logical field columns, in order (see logical.go).
	Columns []LogicalColumn `json:"columns,omitempty"`
	// Aliases are the table's other names: old names kept by a rename and
	// names added by OpAddTableAlias. Unique per tenant and database among
	// table names and aliases.
	Aliases  []string `json:"aliases,omitempty"`
	Members  []uint32 `json:"members,omitempty"`   // ids of member tables, in the order added
	MemberOf uint32   `json:"member_of,omitempty"` // on a member: its logical table; 0 = standalone
	Strict   bool     `json:"strict,omitempty"`    // new raw names get no column of their own
	TTL      int64    `json:"ttl,omitempty"`       // retention in ns; 0 = keep forever
	// SchemaVersion counts the Alters applied to the table.
	SchemaVersion uint64 `json:"schema_version,omitempty"`
}

// Field returns the physical field (name, type), if the table has it. It
// may be sealed; writers use WriteField.
func (t *Table) Field(name string, typ Type) (Field, bool) {
	for _, f := range t.Fields {
		if f.Type == typ && f.Name == name {
			return f, true
		}
	}
	return Field{}, false
}

// FieldByID returns the physical field with the given id.
func (t *Table) FieldByID(id uint32) (Field, bool) {
	// Field IDs are dense and start at 1.
	if id >= 1 && int(id) <= len(t.Fields) && t.Fields[id-1].ID == id {
		return t.Fields[id-1], true
	}
	for _, f := range t.Fields {
		if f.ID == id {
			return f, true
		}
	}
	return Field{}, false
}

// HasTag reports whether k is one of the table's tag keys.
func (t *Table) HasTag(k string) bool {
	for _, tk := range t.TagKeys {
		if tk == k {
			return true
		}
	}
	return false
}

// Tenant is an isolated namespace of databases.
type Tenant struct {
	ID        uint32   `json:"id"`
	Name      string   `json:"name"`
	Databases []string `json:"databases"`
	// Strict: writes do not create tables (a row naming an unknown table
	// is rejected into the errors table; CREATE TABLE still works), and
	// tables created in the tenant start strict.
	Strict bool `json:"strict,omitempty"`
}

// Catalog is the schema of every tenant: tenants, databases, tables with
// their physical fields and logical columns, and the schema history. It
// changes only by Apply, ApplyDrop and ApplyAlter, which the engine calls
// in log order, so every replica and every replay assigns the same IDs and
// derives the same columns. Catalog is safe for concurrent use.
type Catalog struct {
	mu struct {
		sync.RWMutex
		tenants     map[string]*Tenant
		tenantsByID map[uint32]*Tenant
		tables      map[tableKey]*Table
		tablesByID  map[uint32]*Table
		aliases     map[tableKey]uint32 // table alias -> table id
		history     []HistoryEntry
		nextTenant  uint32
		nextTable   uint32
		version     uint64
	}
}

type tableKey struct {
	tenant   uint32
	database string
	name     string
}

func keyOf(t *Table) tableKey { return tableKey{t.TenantID, t.Database, t.Name} }

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	c := &Catalog{}
	c.mu.tenants = map[string]*Tenant{}
	c.mu.tenantsByID = map[uint32]*Tenant{}
	c.mu.tables = map[tableKey]*Table{}
	c.mu.tablesByID = map[uint32]*Table{}
	c.mu.aliases = map[tableKey]uint32{}
	c.mu.nextTenant = 1
	c.mu.nextTable = 1
	return c
}

// Tenant returns the tenant with the given name.
func (c *Catalog) Tenant(name string) (*Tenant, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.mu.tenants[name]
	return t, ok
}

// TenantByID returns the tenant with the given id.
func (c *Catalog) TenantByID(id uint32) (*Tenant, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.mu.tenantsByID[id]
	return t, ok
}

// Table returns a snapshot of the physical table with exactly that name
// (no alias resolution; see ResolveTable and WriteTable).
func (c *Catalog) Table(tenant uint32, database, name string) (*Table, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.mu.tables[tableKey{tenant, database, name}]
	return t, ok
}

// ResolveTable returns the logical table a query naming name reads: the
// table of that name or with that alias, and for a member table, the
// logical table it belongs to.
func (c *Catalog) ResolveTable(tenant uint32, database, name string) (*Table, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.writeTableLocked(tableKey{tenant, database, name})
	if !ok {
		return nil, false
	}
	if t.MemberOf != 0 {
		if l, ok := c.mu.tablesByID[t.MemberOf]; ok {
			return l, true
		}
	}
	return t, true
}

// WriteTable returns the physical table a write naming name lands in: the
// table of that name, else the table with that alias (so writers using a
// table's old name keep feeding it after a rename). Apply resolves the
// table of an Ensure the same way.
func (c *Catalog) WriteTable(tenant uint32, database, name string) (*Table, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.writeTableLocked(tableKey{tenant, database, name})
}

func (c *Catalog) writeTableLocked(k tableKey) (*Table, bool) {
	if t, ok := c.mu.tables[k]; ok {
		return t, true
	}
	if id, ok := c.mu.aliases[k]; ok {
		t, ok := c.mu.tablesByID[id]
		return t, ok
	}
	return nil, false
}

// TableByID returns a snapshot of the table with the given id.
func (c *Catalog) TableByID(id uint32) (*Table, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.mu.tablesByID[id]
	return t, ok
}

// Tables lists a tenant's tables in a database ("" = every database), sorted by
// database and name.
func (c *Catalog) Tables(tenant uint32, database string) []*Table {
	return c.tables(tenant, database, false)
}

// LogicalTables is Tables without member tables: the tables a query can
// name (a member's name resolves to its logical table).
func (c *Catalog) LogicalTables(tenant uint32, database string) []*Table {
	return c.tables(tenant, database, true)
}

func (c *Catalog) tables(tenant uint32, database string, logical bool) []*Table {
	c.mu.RLock()
	var out []*Table
	for k, t := range c.mu.tables {
		if k.tenant == tenant && (database == "" || k.database == database) && (!logical || t.MemberOf == 0) {
			out = append(out, t)
		}
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if out[i].Database != out[j].Database {
			return out[i].Database < out[j].Database
		}
		return out[i].Name < out[j].Name
	})
	return out
}

// TagKeys returns the tag keys of logical table t: its own, then those of
// its member tables that it lacks, in member order.
func (c *Catalog) TagKeys(t *Table) []string {
	if len(t.Members) == 0 {
		return t.TagKeys
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.tagKeysLocked(t, nil)
}

// tagKeysLocked is TagKeys reading member tables through get (nil = the
// committed ones).
func (c *Catalog) tagKeysLocked(t *Table, get func(uint32) *Table) []string {
	out := slices.Clone(t.TagKeys)
	for _, id := range t.Members {
		var m *Table
		if get != nil {
			m = get(id)
		} else {
			m = c.mu.tablesByID[id]
		}
		if m == nil {
			continue
		}
		for _, k := range m.TagKeys {
			if !slices.Contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// Unmapped returns the physical fields that logical table t reads through
// no column (dropped columns included): its own unmapped fields (Table 0)
// and the fields of its member tables that none of its columns reads, in
// id order per table, members in member order.
func (c *Catalog) Unmapped(t *Table) []Source {
	var out []Source
	for _, f := range t.Unmapped() {
		out = append(out, Source{Field: f.ID})
	}
	if len(t.Members) == 0 {
		return out
	}
	c.mu.RLock()
	defer c.mu.RUnlock()
	for _, id := range t.Members {
		m, ok := c.mu.tablesByID[id]
		if !ok {
			continue
		}
		for _, f := range m.Fields {
			if !t.sourced(id, f.ID) {
				out = append(out, Source{Table: id, Field: f.ID})
			}
		}
	}
	return out
}

// SourceField returns the physical field a source of a column of t reads.
func (c *Catalog) SourceField(t *Table, s Source) (Field, bool) {
	if s.Table == 0 || s.Table == t.ID {
		return t.FieldByID(s.Field)
	}
	m, ok := c.TableByID(s.Table)
	if !ok {
		return Field{}, false
	}
	return m.FieldByID(s.Field)
}

// Version is the number of changes that modified the catalog.
func (c *Catalog) Version() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.version
}

// History returns a tenant's schema history (the Alters applied to its
// tables), in log order.
func (c *Catalog) History(tenant uint32) []HistoryEntry {
	c.mu.RLock()
	defer c.mu.RUnlock()
	var out []HistoryEntry
	for _, h := range c.mu.history {
		if h.TenantID == tenant {
			out = append(out, h)
		}
	}
	return out
}

// Ensure is a schema change: make sure the tenant, database and table exist
// and that the table has the given tag keys and physical fields. It is
// idempotent; applying it again changes nothing.
type Ensure struct {
	Tenant   string      `avro:"tenant" json:"tenant"`
	Database string      `avro:"database" json:"database"`
	Table    string      `avro:"table" json:"table,omitempty"` // "" = tenant and database only
	TagKeys  []string    `avro:"tag_keys" json:"tag_keys,omitempty"`
	Fields   []FieldSpec `avro:"fields" json:"fields,omitempty"`
}

// FieldSpec names a physical field in a schema change.
type FieldSpec struct {
	Name string `avro:"name" json:"name"`
	Type int    `avro:"type" json:"type"`
}

// Apply applies a schema change made at log index index and reports whether
// it modified the catalog. Apply must be called in log order.
//
// The table is resolved as WriteTable does (a table alias names its
// table). A field (name, type) the table has only sealed gets a new id.
// Every new physical field is claimed by the table's columns (see claim),
// and if the table is a member, by its logical table's columns as well.
func (c *Catalog) Apply(e *Ensure, index uint64) (changed bool, err error) {
	if e.Tenant == "" || e.Database == "" {
		return false, fmt.Errorf("schema: change without tenant or database")
	}
	for _, f := range e.Fields {
		if !Type(f.Type).Valid() {
			return false, fmt.Errorf("schema: field %q has unknown type %d", f.Name, f.Type)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ten, ok := c.mu.tenants[e.Tenant]
	if !ok {
		ten = &Tenant{ID: c.mu.nextTenant, Name: e.Tenant}
		c.mu.nextTenant++
		c.mu.tenants[ten.Name] = ten
		c.mu.tenantsByID[ten.ID] = ten
		changed = true
	}
	if !contains(ten.Databases, e.Database) {
		nt := *ten
		nt.Databases = append(append([]string(nil), ten.Databases...), e.Database)
		sort.Strings(nt.Databases)
		ten = &nt
		c.mu.tenants[ten.Name] = ten
		c.mu.tenantsByID[ten.ID] = ten
		changed = true
	}
	if e.Table == "" {
		if changed {
			c.mu.version++
		}
		return changed, nil
	}
	old, ok := c.writeTableLocked(tableKey{ten.ID, e.Database, e.Table})
	var t *Table
	if ok {
		if !needs(old, e) {
			if changed {
				c.mu.version++
			}
			return changed, nil
		}
		t = old.clone()
	} else {
		t = &Table{ID: c.mu.nextTable, TenantID: ten.ID, Database: e.Database, Name: e.Table, Created: int64(index)}
		c.mu.nextTable++
	}
	created := !ok
	var logical *Table
	if t.MemberOf != 0 {
		if l, ok := c.mu.tablesByID[t.MemberOf]; ok {
			logical = l.clone()
		}
	}
	for _, k := range e.TagKeys {
		if !t.HasTag(k) {
			t.TagKeys = append(t.TagKeys, k)
		}
	}
	for _, fs := range e.Fields {
		if _, ok := t.WriteField(fs.Name, Type(fs.Type)); ok {
			continue
		}
		f := Field{ID: uint32(len(t.Fields) + 1), Name: fs.Name, Type: Type(fs.Type)}
		t.Fields = append(t.Fields, f)
		t.claim(f.Name, f.Type, Source{Field: f.ID})
		if logical != nil {
			logical.claim(f.Name, f.Type, Source{Table: t.ID, Field: f.ID})
		}
	}
	if created && ten.Strict {
		// The fields the creating change declares (CREATE TABLE) are
		// columns; later new names are not.
		t.Strict = true
	}
	c.mu.tables[keyOf(t)] = t
	c.mu.tablesByID[t.ID] = t
	if logical != nil {
		c.mu.tables[keyOf(logical)] = logical
		c.mu.tablesByID[logical.ID] = logical
	}
	c.mu.version++
	return true, nil
}

// needs reports whether applying e would change table t.
func needs(t *Table, e *Ensure) bool {
	for _, k := range e.TagKeys {
		if !t.HasTag(k) {
			return true
		}
	}
	for _, f := range e.Fields {
		if _, ok := t.WriteField(f.Name, Type(f.Type)); !ok {
			return true
		}
	}
	return false
}

// Drop is a schema change that removes a table: its name becomes free (a
// later write or CREATE TABLE makes a new table with a new id) and its rows
// are deleted.
type Drop struct {
	Tenant   string `avro:"tenant" json:"tenant"`
	Database string `avro:"database" json:"database"`
	Table    string `avro:"table" json:"table"`
}

// ApplyDrop applies a table drop and returns the dropped table, or ok=false
// if the table does not exist (a drop is idempotent). Call it in log order.
//
// The table is named exactly (no alias resolution). Its aliases go with
// it. Its member tables become standalone again; if it is a member, its
// logical table loses it (membership, the alias of its name, and the
// sources reading it, as OpRemoveTableAlias).
func (c *Catalog) ApplyDrop(d *Drop) (dropped *Table, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ten, found := c.mu.tenants[d.Tenant]
	if !found {
		return nil, false
	}
	key := tableKey{ten.ID, d.Database, d.Table}
	t, found := c.mu.tables[key]
	if !found {
		return nil, false
	}
	delete(c.mu.tables, key)
	delete(c.mu.tablesByID, t.ID)
	for _, id := range t.Members {
		if m, ok := c.mu.tablesByID[id]; ok && m.MemberOf == t.ID {
			nm := m.clone()
			nm.MemberOf = 0
			c.mu.tables[keyOf(nm)] = nm
			c.mu.tablesByID[nm.ID] = nm
		}
	}
	if l, ok := c.mu.tablesByID[t.MemberOf]; ok && t.MemberOf != 0 {
		nl := l.clone()
		nl.detach(t.ID)
		nl.Aliases = slices.DeleteFunc(nl.Aliases, func(a string) bool { return a == t.Name })
		c.mu.tables[keyOf(nl)] = nl
		c.mu.tablesByID[nl.ID] = nl
	}
	c.reindexAliasesLocked()
	c.mu.version++
	return t, true
}

// reindexAliasesLocked rebuilds the alias index from the tables.
func (c *Catalog) reindexAliasesLocked() {
	clear(c.mu.aliases)
	for _, t := range c.mu.tablesByID {
		for _, a := range t.Aliases {
			c.mu.aliases[tableKey{t.TenantID, t.Database, a}] = t.ID
		}
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

// catalogFormat is the format of the encoded catalog: 2 has logical
// columns; tables of a format 1 catalog (no "format" key) get them derived.
const catalogFormat = 2

type catalogState struct {
	Format     int            `json:"format,omitempty"`
	Version    uint64         `json:"version"`
	NextTenant uint32         `json:"next_tenant"`
	NextTable  uint32         `json:"next_table"`
	Tenants    []*Tenant      `json:"tenants"`
	Tables     []*Table       `json:"tables"`
	History    []HistoryEntry `json:"history,omitempty"`
}

// MarshalJSON encodes the whole catalog; the row store keeps it under one key,
// rewritten in the same batch as every change.
func (c *Catalog) MarshalJSON() ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	st := catalogState{Format: catalogFormat, Version: c.mu.version, NextTenant: c.mu.nextTenant,
		NextTable: c.mu.nextTable, History: c.mu.history}
	for _, t := range c.mu.tenantsByID {
		st.Tenants = append(st.Tenants, t)
	}
	for _, t := range c.mu.tablesByID {
		st.Tables = append(st.Tables, t)
	}
	sort.Slice(st.Tenants, func(i, j int) bool { return st.Tenants[i].ID < st.Tenants[j].ID })
	sort.Slice(st.Tables, func(i, j int) bool { return st.Tables[i].ID < st.Tables[j].ID })
	return json.Marshal(st)
}

// UnmarshalJSON replaces the catalog's contents with an encoded one. The
// tables of a catalog written before logical columns existed get the
// columns SQL has always shown for them (see deriveColumns).
func (c *Catalog) UnmarshalJSON(b []byte) error {
	var st catalogState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("schema: decode catalog: %w", err)
	}
	if st.Format > catalogFormat {
		return fmt.Errorf("schema: decode catalog: format %d is newer than this version understands (%d)", st.Format, catalogFormat)
	}
	n := NewCatalog()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.tenants, c.mu.tenantsByID = n.mu.tenants, n.mu.tenantsByID
	c.mu.tables, c.mu.tablesByID = n.mu.tables, n.mu.tablesByID
	c.mu.aliases = n.mu.aliases
	c.mu.version, c.mu.nextTenant, c.mu.nextTable = st.Version, st.NextTenant, st.NextTable
	c.mu.history = st.History
	for _, t := range st.Tenants {
		c.mu.tenants[t.Name] = t
		c.mu.tenantsByID[t.ID] = t
	}
	for _, t := range st.Tables {
		if st.Format < catalogFormat {
			t.Columns = deriveColumns(t)
		}
		c.mu.tables[keyOf(t)] = t
		c.mu.tablesByID[t.ID] = t
	}
	c.reindexAliasesLocked()
	return nil
}
