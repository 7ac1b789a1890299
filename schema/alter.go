package schema

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
