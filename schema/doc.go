// Package schema owns fineod's physical and logical schema and the payload
// of log entries.
//
// Physical schema (catalog.go): tenants, each with databases; tables keyed by
// (tenant, database, name), each with its tag keys and its physical fields.
// A physical field is (raw name as sent, type as sent) with a stable id per
// table; a value that arrives with another type than before becomes another
// physical field, so nothing is ever rejected for its type. The Catalog
// changes only through Ensure, Drop and Alter entries applied in log order,
// which makes id assignment deterministic across replicas and replays.
//
// Log entries (codec.go): a two-byte header (kind, version) and an Avro
// record — a write batch (batch.go: rows grouped by table and series, one
// array per field), a schema change (Ensure), a table drop (Drop) or a
// logical schema change (Alter). The Avro schemas are part of the on-disk
// format.
//
// Builder (builder.go) collects parsed rows by name and resolves them to a
// Batch of physical ids once the catalog has them (Missing lists the Ensure
// changes to propose first).
//
// Logical model (logical.go, alter.go): over the physical fields, each table
// has logical columns, each a name, a declared type and an ordered list of
// sources (a physical field plus conversions). New physical fields are
// claimed by the column of their name or alias, or get a column of their
// own unless the table is strict. Alter entries rename, alias, retype, drop
// and restore columns, rename and alias tables (an alias naming another
// table merges it as a member) and set options; they apply atomically in
// log order and are recorded in the schema history. Nothing here rewrites
// data: a type change seals the fields it converts, so new writes land in
// new fields.
package schema
