package schema

import (
	"encoding/json"
	"fmt"
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
type Field struct {
	ID   uint32 `json:"id"`
	Name string `json:"name"`
	Type Type   `json:"type"`
}

// Table is a table's physical schema. A *Table returned by the Catalog is an
// immutable snapshot: changes replace it with a new value.
type Table struct {
	ID       uint32   `json:"id"`
	TenantID uint32   `json:"tenant_id"`
	Database string   `json:"database"`
	Name     string   `json:"name"`
	TagKeys  []string `json:"tag_keys"` // in the order first seen
	Fields   []Field  `json:"fields"`   // by ID
	Created  int64    `json:"created"`  // log index of the change that created it
}

// Field returns the physical field (name, type), if the table has it.
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
}

// Catalog is the physical schema of every tenant: tenants, databases,
// tables and their physical fields. It changes only by Apply, which the
// engine calls in log order, so every replica and every replay assigns the
// same IDs. Catalog is safe for concurrent use.
type Catalog struct {
	mu struct {
		sync.RWMutex
		tenants     map[string]*Tenant
		tenantsByID map[uint32]*Tenant
		tables      map[tableKey]*Table
		tablesByID  map[uint32]*Table
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

// NewCatalog returns an empty catalog.
func NewCatalog() *Catalog {
	c := &Catalog{}
	c.mu.tenants = map[string]*Tenant{}
	c.mu.tenantsByID = map[uint32]*Tenant{}
	c.mu.tables = map[tableKey]*Table{}
	c.mu.tablesByID = map[uint32]*Table{}
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

// Table returns a snapshot of the named table.
func (c *Catalog) Table(tenant uint32, database, name string) (*Table, bool) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	t, ok := c.mu.tables[tableKey{tenant, database, name}]
	return t, ok
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
	c.mu.RLock()
	var out []*Table
	for k, t := range c.mu.tables {
		if k.tenant == tenant && (database == "" || k.database == database) {
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

// Version is the number of changes that modified the catalog.
func (c *Catalog) Version() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.mu.version
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
	key := tableKey{ten.ID, e.Database, e.Table}
	old, ok := c.mu.tables[key]
	var t Table
	if ok {
		t = *old
	} else {
		t = Table{ID: c.mu.nextTable, TenantID: ten.ID, Database: e.Database, Name: e.Table, Created: int64(index)}
		c.mu.nextTable++
		changed = true
	}
	tableChanged := !ok
	for _, k := range e.TagKeys {
		if !t.HasTag(k) {
			if !tableChanged {
				t.TagKeys = append([]string(nil), t.TagKeys...)
				t.Fields = append([]Field(nil), t.Fields...)
				tableChanged = true
			}
			t.TagKeys = append(t.TagKeys, k)
		}
	}
	for _, f := range e.Fields {
		if _, ok := t.Field(f.Name, Type(f.Type)); ok {
			continue
		}
		if !tableChanged {
			t.TagKeys = append([]string(nil), t.TagKeys...)
			t.Fields = append([]Field(nil), t.Fields...)
			tableChanged = true
		}
		t.Fields = append(t.Fields, Field{ID: uint32(len(t.Fields) + 1), Name: f.Name, Type: Type(f.Type)})
	}
	if tableChanged {
		nt := t
		c.mu.tables[key] = &nt
		c.mu.tablesByID[nt.ID] = &nt
		changed = true
	}
	if changed {
		c.mu.version++
	}
	return changed, nil
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
	c.mu.version++
	return t, true
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}

type catalogState struct {
	Version    uint64    `json:"version"`
	NextTenant uint32    `json:"next_tenant"`
	NextTable  uint32    `json:"next_table"`
	Tenants    []*Tenant `json:"tenants"`
	Tables     []*Table  `json:"tables"`
}

// MarshalJSON encodes the whole catalog; the row store keeps it under one key,
// rewritten in the same batch as every change.
func (c *Catalog) MarshalJSON() ([]byte, error) {
	c.mu.RLock()
	defer c.mu.RUnlock()
	st := catalogState{Version: c.mu.version, NextTenant: c.mu.nextTenant, NextTable: c.mu.nextTable}
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

// UnmarshalJSON replaces the catalog's contents with an encoded one.
func (c *Catalog) UnmarshalJSON(b []byte) error {
	var st catalogState
	if err := json.Unmarshal(b, &st); err != nil {
		return fmt.Errorf("schema: decode catalog: %w", err)
	}
	n := NewCatalog()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.tenants, c.mu.tenantsByID = n.mu.tenants, n.mu.tenantsByID
	c.mu.tables, c.mu.tablesByID = n.mu.tables, n.mu.tablesByID
	c.mu.version, c.mu.nextTenant, c.mu.nextTable = st.Version, st.NextTenant, st.NextTable
	for _, t := range st.Tenants {
		c.mu.tenants[t.Name] = t
		c.mu.tenantsByID[t.ID] = t
	}
	for _, t := range st.Tables {
		c.mu.tables[tableKey{t.TenantID, t.Database, t.Name}] = t
		c.mu.tablesByID[t.ID] = t
	}
	return nil
}
