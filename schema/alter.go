package schema

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Alter is a schema change of one logical table, made by a user (SQL DDL,
// a fineo.* function, the HTTP schema API or the CLI). It is a log entry
// (kind EntryAlter), so it replicates and replays, and it is recorded in
// the table's schema history. Its operations apply atomically: all of them
// or none.
type Alter struct {
	Tenant    string    `avro:"tenant" json:"tenant"`
	Database  string    `avro:"database" json:"database"`
	Table     string    `avro:"table" json:"table"`         // as the user named it (a table alias resolves)
	User      string    `avro:"user" json:"user"`           // who made the change
	Statement string    `avro:"statement" json:"statement"` // the SQL or API call, as received
	Time      int64     `avro:"time" json:"time"`           // when it was proposed, ns since the epoch
	Ops       []AlterOp `avro:"ops" json:"ops"`
}

// AlterOp is one operation of an Alter. Op names the operation; the other
// fields are its arguments, as documented per operation constant.
type AlterOp struct {
	Op      string `avro:"op" json:"op"`
	Column  string `avro:"column" json:"column,omitempty"`
	Name    string `avro:"name" json:"name,omitempty"`
	Type    int    `avro:"type" json:"type,omitempty"` // a schema.Type
	Expr    string `avro:"expr" json:"expr,omitempty"` // a conversion: an SQL scalar expression
	Ref     string `avro:"ref" json:"ref,omitempty"`   // the column Expr reads
	Int     int64  `avro:"int" json:"int,omitempty"`
	Enabled bool   `avro:"enabled" json:"enabled,omitempty"`
}

// Alter operations. These names are part of the on-disk format.
const (
	// OpRenameTable renames the table to Name; the old name stays a table
	// alias, so old queries and old writers keep working.
	OpRenameTable = "rename_table"
	// OpAddTableAlias makes Name another name of the table. If a table
	// named Name exists, it becomes a member of this one: its rows read as
	// rows of this table, and writes to Name keep landing in it.
	OpAddTableAlias = "add_table_alias"
	// OpRemoveTableAlias removes the table alias Name (a member table
	// becomes a table of its own again).
	OpRemoveTableAlias = "remove_table_alias"
	// OpRenameColumn renames Column to Name; the old name stays an alias.
	OpRenameColumn = "rename_column"
	// OpAddColumn declares a column Name of Type (no data yet; fields
	// written under Name land in it).
	OpAddColumn = "add_column"
	// OpDropColumn hides Column; its data and sources stay.
	OpDropColumn = "drop_column"
	// OpRestoreColumn shows a dropped Column again.
	OpRestoreColumn = "restore_column"
	// OpAlterColumnType declares Column's type as Type. With Expr, Expr
	// (which reads column Ref) converts the data written before the change:
	// if Ref is Column itself, its current sources get the conversion and
	// are sealed (new writes land in new physical fields, unconverted); if
	// Ref is another column, that column's sources become sources of Column
	// through Expr, after Column's own.
	OpAlterColumnType = "alter_column_type"
	// OpAddFieldAlias makes raw field name Name feed Column: existing and
	// future physical fields of that name become its sources.
	OpAddFieldAlias = "add_field_alias"
	// OpRemoveFieldAlias undoes OpAddFieldAlias.
	OpRemoveFieldAlias = "remove_field_alias"
	// OpSetStrict turns strict mode on (Enabled) or off: in strict mode a
	// new raw field name gets no column of its own; its values read in
	// the JSON column _unmapped until it is mapped.
	OpSetStrict = "set_strict"
	// OpSetTTL sets the table's retention to Int nanoseconds (0 = keep
	// forever). Whole day partitions older than now - TTL are dropped.
	OpSetTTL = "set_ttl"
)

// HistoryEntry is one row of a tenant's schema history
// (fineo.schema_history): one applied Alter.
type HistoryEntry struct {
	Version   uint64 `json:"version"` // the table's SchemaVersion after the change
	Time      int64  `json:"time"`    // Alter.Time
	User      string `json:"user"`
	TenantID  uint32 `json:"tenant_id"`
	Database  string `json:"database"`
	Table     string `json:"table"`  // the logical table's name when the change was made
	Change    string `json:"change"` // human readable, one clause per operation joined by "; "
	Statement string `json:"statement"`
	Index     uint64 `json:"index"` // log index of the Alter
}

// ApplyAlter applies a schema change made at log index index and returns
// the altered logical table. Alter.Table is resolved as ResolveTable does
// (an alias or a member's name alters the logical table). Every operation
// is validated against the table as the operations before it left it; if
// one fails, none is applied and the error names the table, the operation
// and the problem. On success the table's SchemaVersion and the catalog's
// Version are bumped and a HistoryEntry is appended. Call it in log order.
func (c *Catalog) ApplyAlter(a *Alter, index uint64) (*Table, error) {
	if a.Tenant != "" && a.Table == "" {
		return nil, c.applyTenantAlter(a, index)
	}
	if a.Tenant == "" || a.Database == "" || a.Table == "" {
		return nil, fmt.Errorf("schema: alter without tenant, database or table")
	}
	if len(a.Ops) == 0 {
		return nil, fmt.Errorf("schema: alter table %q: no operations", a.Table)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ten, ok := c.mu.tenants[a.Tenant]
	if !ok {
		return nil, fmt.Errorf("schema: alter table %q: tenant %q does not exist", a.Table, a.Tenant)
	}
	t, ok := c.writeTableLocked(tableKey{ten.ID, a.Database, a.Table})
	if ok && t.MemberOf != 0 {
		t, ok = c.mu.tablesByID[t.MemberOf]
	}
	if !ok {
		return nil, fmt.Errorf("schema: alter table %q: table does not exist in database %q", a.Table, a.Database)
	}
	tx := &alterTx{c: c, work: map[uint32]*Table{}}
	lt := tx.get(t.ID)
	changes := make([]string, 0, len(a.Ops))
	for i := range a.Ops {
		op := &a.Ops[i]
		change, err := tx.apply(lt, op)
		if err != nil {
			return nil, fmt.Errorf("schema: alter table %q: %s: %w", t.Name, opLabel(op), err)
		}
		changes = append(changes, change)
	}
	lt.SchemaVersion++
	tx.commit()
	c.mu.version++
	c.mu.history = append(c.mu.history, HistoryEntry{
		Version: lt.SchemaVersion, Time: a.Time, User: a.User, TenantID: ten.ID,
		Database: t.Database, Table: t.Name, Change: strings.Join(changes, "; "),
		Statement: a.Statement, Index: index,
	})
	return lt, nil
}

// opLabel names an operation in an error message.
func opLabel(op *AlterOp) string {
	switch {
	case op.Column != "":
		return fmt.Sprintf("%s %q", op.Op, op.Column)
	case op.Name != "":
		return fmt.Sprintf("%s %q", op.Op, op.Name)
	}
	return op.Op
}

// alterTx holds working copies of the tables an Alter changes; commit
// publishes them, and discarding it leaves the catalog as it was.
type alterTx struct {
	c     *Catalog // locked for writing
	work  map[uint32]*Table
	order []uint32 // ids of work, in the order first changed
}

// get returns the working copy of table id, making it on first use.
func (tx *alterTx) get(id uint32) *Table {
	if t, ok := tx.work[id]; ok {
		return t
	}
	t := tx.c.mu.tablesByID[id].clone()
	tx.work[id] = t
	tx.order = append(tx.order, id)
	return t
}

// peek returns table id as the transaction sees it, without copying it.
func (tx *alterTx) peek(id uint32) *Table {
	if t, ok := tx.work[id]; ok {
		return t
	}
	return tx.c.mu.tablesByID[id]
}

// named returns the table in t's tenant and database, other than t, whose
// name (byAlias = one of whose aliases) is name.
func (tx *alterTx) named(t *Table, name string, byAlias bool) (*Table, bool) {
	for id := range tx.c.mu.tablesByID {
		o := tx.peek(id)
		if o.ID == t.ID || o.TenantID != t.TenantID || o.Database != t.Database {
			continue
		}
		if (!byAlias && o.Name == name) || (byAlias && slices.Contains(o.Aliases, name)) {
			return o, true
		}
	}
	return nil, false
}

func (tx *alterTx) commit() {
	c := tx.c
	for _, id := range tx.order {
		old, t := c.mu.tablesByID[id], tx.work[id]
		delete(c.mu.tables, keyOf(old))
		c.mu.tables[keyOf(t)] = t
		c.mu.tablesByID[id] = t
	}
	c.reindexAliasesLocked()
}

// field returns the physical field a source of t reads, as tx sees it.
func (tx *alterTx) field(t *Table, s Source) (Field, bool) {
	if s.Table == 0 || s.Table == t.ID {
		return t.FieldByID(s.Field)
	}
	if m := tx.peek(s.Table); m != nil {
		return m.FieldByID(s.Field)
	}
	return Field{}, false
}

// rawFields returns the sources of every physical field named name that t
// reads or may read: its own fields, then its members', in id order.
func (tx *alterTx) rawFields(t *Table, name string) []Source {
	var out []Source
	for _, f := range t.Fields {
		if f.Name == name {
			out = append(out, Source{Field: f.ID})
		}
	}
	for _, id := range t.Members {
		if m := tx.peek(id); m != nil {
			for _, f := range m.Fields {
				if f.Name == name {
					out = append(out, Source{Table: id, Field: f.ID})
				}
			}
		}
	}
	return out
}

// checkFree returns an error unless name may become the name or an alias
// of column except (-1 = a new column) of t: it is not time, a tag key, or
// the name or alias of another column, dropped ones included.
func (tx *alterTx) checkFree(t *Table, name string, except int) error {
	if name == "" {
		return fmt.Errorf("empty column name")
	}
	if name == timeColumn {
		return fmt.Errorf("%q is the time column", name)
	}
	if slices.Contains(tx.c.tagKeysLocked(t, tx.peek), name) {
		return fmt.Errorf("%q is a tag key", name)
	}
	for i := range t.Columns {
		col := &t.Columns[i]
		switch {
		case i == except:
		case col.Name == name && col.Hidden:
			return fmt.Errorf("dropped column %q has that name; restore it or choose another name", name)
		case col.Name == name:
			return fmt.Errorf("column %q already exists", name)
		case slices.Contains(col.Aliases, name):
			return fmt.Errorf("%q is already an alias of column %q", name, col.Name)
		}
	}
	return nil
}

// visible returns the index of the visible column name refers to.
func visible(t *Table, name string) (int, error) {
	if i := t.columnIndex(name, false); i >= 0 {
		return i, nil
	}
	if t.columnIndex(name, true) >= 0 {
		return -1, fmt.Errorf("column %q is dropped", name)
	}
	return -1, fmt.Errorf("column %q does not exist", name)
}

// apply applies one operation to logical table t and describes it.
func (tx *alterTx) apply(t *Table, op *AlterOp) (string, error) {
	switch op.Op {
	case OpRenameTable:
		return tx.renameTable(t, op.Name)
	case OpAddTableAlias:
		return tx.addTableAlias(t, op.Name)
	case OpRemoveTableAlias:
		return tx.removeTableAlias(t, op.Name)
	case OpRenameColumn:
		i, err := visible(t, op.Column)
		if err != nil {
			return "", err
		}
		col := &t.Columns[i]
		old := col.Name
		if op.Name == old {
			return "", fmt.Errorf("column is already named %q", old)
		}
		if j := slices.Index(col.Aliases, op.Name); j >= 0 {
			col.Aliases = slices.Delete(col.Aliases, j, j+1)
		} else if err := tx.checkFree(t, op.Name, i); err != nil {
			return "", err
		}
		col.Name = op.Name
		if !slices.Contains(col.Aliases, old) {
			col.Aliases = append(col.Aliases, old)
		}
		return fmt.Sprintf("rename column %s to %s", old, op.Name), nil
	case OpAddColumn:
		typ := Type(op.Type)
		if !typ.Valid() {
			return "", fmt.Errorf("unknown type %d", op.Type)
		}
		if err := tx.checkFree(t, op.Name, -1); err != nil {
			return "", err
		}
		col := LogicalColumn{Name: op.Name, Type: typ}
		// Fields of that raw name nothing reads yet (a strict table's
		// unmapped ones) are what the user is mapping.
		for _, s := range tx.rawFields(t, op.Name) {
			if !t.sourced(s.Table, s.Field) {
				col.Sources = append(col.Sources, s)
			}
		}
		t.Columns = append(t.Columns, col)
		return fmt.Sprintf("add column %s %s", op.Name, typ.SQLName()), nil
	case OpDropColumn:
		i := t.columnIndex(op.Column, false)
		if i < 0 {
			if t.columnIndex(op.Column, true) >= 0 {
				return "", fmt.Errorf("column %q is already dropped", op.Column)
			}
			return "", fmt.Errorf("column %q does not exist", op.Column)
		}
		t.Columns[i].Hidden = true
		return "drop column " + t.Columns[i].Name, nil
	case OpRestoreColumn:
		if t.columnIndex(op.Column, false) >= 0 {
			return "", fmt.Errorf("column %q is not dropped", op.Column)
		}
		i := t.columnIndex(op.Column, true)
		if i < 0 {
			return "", fmt.Errorf("column %q does not exist", op.Column)
		}
		col := &t.Columns[i]
		for _, n := range append([]string{col.Name}, col.Aliases...) {
			if j := t.columnIndex(n, false); j >= 0 {
				return "", fmt.Errorf("%q now names column %q", n, t.Columns[j].Name)
			}
		}
		col.Hidden = false
		return "restore column " + col.Name, nil
	case OpAlterColumnType:
		return tx.alterType(t, op)
	case OpAddFieldAlias:
		i, err := visible(t, op.Column)
		if err != nil {
			return "", err
		}
		col := &t.Columns[i]
		switch {
		case op.Name == "":
			return "", fmt.Errorf("empty field name")
		case col.names(op.Name):
			return "", fmt.Errorf("%q already names column %q", op.Name, col.Name)
		case op.Name == timeColumn:
			return "", fmt.Errorf("%q is the time column", op.Name)
		case slices.Contains(tx.c.tagKeysLocked(t, tx.peek), op.Name):
			return "", fmt.Errorf("%q is a tag key", op.Name)
		}
		// A dropped column of that name or alias may keep it: the visible
		// column claims new fields first.
		if j := t.columnIndex(op.Name, false); j >= 0 {
			return "", fmt.Errorf("%q already names column %q", op.Name, t.Columns[j].Name)
		}
		col.Aliases = append(col.Aliases, op.Name)
		for _, s := range tx.rawFields(t, op.Name) {
			col.addSource(s)
		}
		return fmt.Sprintf("add field alias %s to column %s", op.Name, col.Name), nil
	case OpRemoveFieldAlias:
		i, err := visible(t, op.Column)
		if err != nil {
			return "", err
		}
		col := &t.Columns[i]
		j := slices.Index(col.Aliases, op.Name)
		if j < 0 {
			return "", fmt.Errorf("column %q has no alias %q", col.Name, op.Name)
		}
		col.Aliases = slices.Delete(col.Aliases, j, j+1)
		col.Sources = slices.DeleteFunc(col.Sources, func(s Source) bool {
			f, ok := tx.field(t, s)
			return ok && f.Name == op.Name
		})
		return fmt.Sprintf("remove field alias %s from column %s", op.Name, col.Name), nil
	case OpSetStrict:
		t.Strict = op.Enabled
		if op.Enabled {
			return "set strict on", nil
		}
		return "set strict off", nil
	case OpSetTTL:
		if op.Int < 0 {
			return "", fmt.Errorf("negative ttl %d", op.Int)
		}
		t.TTL = op.Int
		if op.Int == 0 {
			return "set ttl forever", nil
		}
		return "set ttl " + time.Duration(op.Int).String(), nil
	}
	return "", fmt.Errorf("unknown operation %q", op.Op)
}

func (tx *alterTx) renameTable(t *Table, name string) (string, error) {
	old := t.Name
	switch {
	case name == "":
		return "", fmt.Errorf("empty table name")
	case name == old:
		return "", fmt.Errorf("table is already named %q", name)
	}
	if o, ok := tx.named(t, name, false); ok {
		return "", fmt.Errorf("table %q already exists (id %d)", name, o.ID)
	}
	if o, ok := tx.named(t, name, true); ok {
		return "", fmt.Errorf("%q is already an alias of table %q", name, o.Name)
	}
	t.Aliases = slices.DeleteFunc(t.Aliases, func(a string) bool { return a == name })
	if !slices.Contains(t.Aliases, old) {
		t.Aliases = append(t.Aliases, old)
	}
	t.Name = name
	return fmt.Sprintf("rename table %s to %s", old, name), nil
}

func (tx *alterTx) addTableAlias(t *Table, name string) (string, error) {
	switch {
	case name == "":
		return "", fmt.Errorf("empty table alias")
	case name == t.Name || slices.Contains(t.Aliases, name):
		return "", fmt.Errorf("%q already names table %q", name, t.Name)
	}
	if o, ok := tx.named(t, name, true); ok {
		return "", fmt.Errorf("%q is already an alias of table %q", name, o.Name)
	}
	m, ok := tx.named(t, name, false)
	if !ok {
		t.Aliases = append(t.Aliases, name)
		return "add table alias " + name, nil
	}
	switch {
	case m.MemberOf != 0:
		return "", fmt.Errorf("table %q already belongs to table %q", name, tx.peek(m.MemberOf).Name)
	case len(m.Members) > 0:
		return "", fmt.Errorf("table %q has member tables of its own", name)
	}
	m = tx.get(m.ID)
	m.MemberOf = t.ID
	t.Members = append(t.Members, m.ID)
	t.Aliases = append(t.Aliases, name)
	// Merge the member's columns by name; its fields become sources.
	for _, mc := range m.Columns {
		i := t.claimant(mc.Name)
		if i < 0 {
			t.Columns = append(t.Columns, LogicalColumn{Name: mc.Name, Type: mc.Type, Hidden: mc.Hidden})
			i = len(t.Columns) - 1
		} else if mc.Hidden {
			continue // what the member dropped does not feed a column of t
		}
		col := &t.Columns[i]
		for _, s := range mc.Sources {
			col.addSource(s.rebase(m.ID))
		}
		for _, a := range mc.Aliases {
			if t.claimant(a) < 0 && !t.shadowed(a) {
				col.Aliases = append(col.Aliases, a)
			}
		}
	}
	for _, f := range m.Unmapped() {
		t.claim(f.Name, f.Type, Source{Table: m.ID, Field: f.ID})
	}
	return fmt.Sprintf("add table alias %s (merges table %s)", name, name), nil
}

func (tx *alterTx) removeTableAlias(t *Table, name string) (string, error) {
	j := slices.Index(t.Aliases, name)
	if j < 0 {
		return "", fmt.Errorf("table %q has no alias %q", t.Name, name)
	}
	t.Aliases = slices.Delete(t.Aliases, j, j+1)
	if m, ok := tx.named(t, name, false); ok && m.MemberOf == t.ID {
		tx.get(m.ID).MemberOf = 0
		t.detach(m.ID)
		return fmt.Sprintf("remove table alias %s (table %s stands alone)", name, name), nil
	}
	return "remove table alias " + name, nil
}

func (tx *alterTx) alterType(t *Table, op *AlterOp) (string, error) {
	i, err := visible(t, op.Column)
	if err != nil {
		return "", err
	}
	typ := Type(op.Type)
	if !typ.Valid() {
		return "", fmt.Errorf("unknown type %d", op.Type)
	}
	col := &t.Columns[i]
	desc := fmt.Sprintf("alter column %s type %s", col.Name, typ.SQLName())
	if op.Expr == "" {
		if op.Ref != "" {
			return "", fmt.Errorf("ref %q without a conversion expression", op.Ref)
		}
		col.Type = typ
		return desc, nil
	}
	ref := op.Ref
	if ref == "" {
		ref = op.Column
	}
	j := t.columnIndex(ref, true)
	if j < 0 {
		return "", fmt.Errorf("conversion reads column %q, which does not exist", ref)
	}
	conv := Conversion{Expr: op.Expr, Ref: ref}
	if j == i {
		// Convert what was written so far; seal those fields so that new
		// writes land in new fields, which the column claims unconverted.
		for k := range col.Sources {
			s := &col.Sources[k]
			s.Conv = append(s.Conv, conv)
			owner := t
			if s.Table != 0 && s.Table != t.ID {
				owner = tx.get(s.Table)
			}
			owner.seal(s.Field)
		}
	} else {
		for _, s := range slices.Clone(t.Columns[j].Sources) {
			col.addSource(Source{Table: s.Table, Field: s.Field, Conv: append(slices.Clone(s.Conv), conv)})
		}
	}
	col.Type = typ
	return desc + " using " + op.Expr, nil
}

// applyTenantAlter applies an Alter without a table: a tenant-wide
// setting. Only OpSetStrict is one; the tenant is created if needed.
func (c *Catalog) applyTenantAlter(a *Alter, index uint64) error {
	if len(a.Ops) != 1 || a.Ops[0].Op != OpSetStrict {
		return fmt.Errorf("schema: alter of tenant %q: only strict mode is a tenant setting", a.Tenant)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	ten, ok := c.mu.tenants[a.Tenant]
	if !ok {
		return fmt.Errorf("schema: tenant %q does not exist", a.Tenant)
	}
	nt := *ten
	nt.Strict = a.Ops[0].Enabled
	c.mu.tenants[nt.Name] = &nt
	c.mu.tenantsByID[nt.ID] = &nt
	c.mu.version++
	change := "set tenant strict mode off"
	if nt.Strict {
		change = "set tenant strict mode on"
	}
	c.mu.history = append(c.mu.history, HistoryEntry{Time: a.Time, User: a.User, TenantID: nt.ID,
		Database: a.Database, Change: change, Statement: a.Statement, Index: index})
	return nil
}
