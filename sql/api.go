package sql

import (
	"context"

	"github.com/fineod/fineod/schema"
)

// This file is the contract between the SQL engine and its two sides:
// below it the database (Catalog, Scanner, Writer — implemented by package
// engine), above it the servers (Session — used by sql/pgwire, HTTP SQL and
// the Go API).

// Type is a SQL type, identified by its PostgreSQL type OID.
type Type uint32

// The PostgreSQL type OIDs fineod uses.
const (
	TypeUnknown     Type = 0
	TypeBool        Type = 16
	TypeInt8        Type = 20 // bigint
	TypeInt2        Type = 21 // smallint
	TypeInt4        Type = 23 // integer
	TypeText        Type = 25
	TypeFloat4      Type = 700 // real
	TypeFloat8      Type = 701 // double precision
	TypeVarchar     Type = 1043
	TypeTimestamp   Type = 1114
	TypeTimestamptz Type = 1184
	TypeInterval    Type = 1186
	TypeNumeric     Type = 1700
	TypeJSON        Type = 114
	TypeName        Type = 19
	TypeOID         Type = 26
	TypeChar        Type = 18
)

// ColumnKind says whether a table column is the time, a tag or a field.
type ColumnKind uint8

const (
	KindTime ColumnKind = iota
	KindTag
	KindField
)

// ColumnInfo is one column of a table as SQL sees it.
type ColumnInfo struct {
	Name string
	Type Type
	Kind ColumnKind
	// Aliases are other names a query may use for the column (a renamed
	// column's old names); SELECT * shows only Name. A scanner asked for
	// an alias reads the column.
	Aliases []string
}

// TableInfo is a table as SQL sees it: time first, then tags, then fields.
type TableInfo struct {
	Database string
	Name     string
	Columns  []ColumnInfo
}

// Catalog is what SQL needs to know of a tenant's tables.
type Catalog interface {
	// Tables lists the tenant's tables in a database ("" = all databases).
	Tables(tenant, database string) []TableInfo
	// Table finds one table by its exact name.
	Table(tenant, database, name string) (TableInfo, bool)
	// Databases lists the tenant's databases.
	Databases(tenant string) []string
}

// TagFilterOp is the operator of a pushed-down tag predicate.
type TagFilterOp uint8

const (
	TagEq    TagFilterOp = iota + 1 // tag = v  (Values has one element)
	TagIn                           // tag IN (v...)
	TagNe                           // tag <> v
	TagNotIn                        // tag NOT IN (v...)
)

// TagFilter is a predicate on a tag that the scan applies by series.
type TagFilter struct {
	Key    string
	Op     TagFilterOp
	Values []string
}

// ScanSpec is what a query asks of storage for one table. The scan returns
// only rows with MinTime <= time <= MaxTime (ns since the epoch) whose
// series pass every TagFilter, and only the named Columns (time is always
// column 0 of each batch whether named or not).
type ScanSpec struct {
	Tenant, Database, Table string
	MinTime, MaxTime        int64
	TagFilters              []TagFilter
	Columns                 []string
	// Types are the types the plan expects of Columns. A scanner whose
	// table changed a column's type since the plan was made fails the
	// scan (0A000) instead of returning vectors of another type.
	Types []Type
	// LastPerSeries asks for only the newest row of each series within
	// the time range (what "last point per series" queries need).
	LastPerSeries bool
	// FieldFilters are comparisons the scan may apply before it builds a
	// row (see FieldFilter).
	FieldFilters []FieldFilter
}

// FieldFilter compares a numeric field column with a constant: Op is one
// of < <= > >= =. A row whose value is NULL or fails the comparison can
// never pass the query's WHERE clause, so the scanner may skip it before
// materializing the row's other columns. The query keeps the predicate as
// its own filter, so a scanner may also ignore FieldFilters.
type FieldFilter struct {
	Column string
	Op     string
	Value  float64
}

// Scanner reads table rows in column batches.
type Scanner interface {
	// Scan calls fn with batches of at most a few thousand rows, one call at
	// a time. The rows of one series come in time order; batches of
	// different series may interleave (a scan may read series in
	// parallel), so operators must not assume any other order. The batch
	// and its vectors are reused after fn returns.
	Scan(ctx context.Context, spec ScanSpec, fn func(*Batch) error) error
}

// ScanExplainer is implemented by a Scanner that can say, for EXPLAIN,
// how it would read a scan: which storage it reads and what it prunes.
// Each returned string is one line of the plan under the scan.
type ScanExplainer interface {
	ExplainScan(ctx context.Context, spec ScanSpec) ([]string, error)
}

// Writer is how INSERT and COPY FROM write: the same path as HTTP ingest.
type Writer interface {
	WriteBatch(ctx context.Context, tenant string, b *schema.Builder) error
}

// String is the type's PostgreSQL name, as format_type shows it
// ("double precision", "timestamp with time zone").
func (t Type) String() string { return typeName(t) }

// SchemaWriter is implemented by a Writer that can declare tables: CREATE
// TABLE, and COPY FROM into a table that does not exist yet. EnsureTable
// proposes one schema change through the log (as the first write of a
// table does) and returns once it is applied. It is idempotent: tags and
// fields the table already has are left alone.
type SchemaWriter interface {
	EnsureTable(ctx context.Context, tenant, database, table string, tags []string, fields []schema.FieldSpec) error
}

// TableDropper is implemented by a Writer that can drop tables (DROP
// TABLE): the table's name becomes free and its rows are deleted, through
// the log. It returns once the drop is applied.
type TableDropper interface {
	DropTable(ctx context.Context, tenant, database, table string) error
}

// SchemaAlterer is implemented by a Writer that can change a table's
// logical schema: ALTER TABLE and the fineo.* schema functions (alter.go).
// AlterTable proposes the change through the log and returns once it is
// applied; its operations apply atomically. Its error text is shown to
// the user; an error with a method SQLState() string chooses the SQLSTATE
// (otherwise one is guessed from the text, see alterError).
type SchemaAlterer interface {
	AlterTable(ctx context.Context, a *schema.Alter) error
}
