// Package schema owns fineod's physical schema and the payload of log
// entries.
//
// Physical schema (catalog.go): tenants, each with databases; tables keyed by
// (tenant, database, name), each with its tag keys and its physical fields.
// A physical field is (raw name as sent, type as sent) with a stable id per
// table; a value that arrives with another type than before becomes another
// physical field, so nothing is ever rejected for its type. The Catalog
// changes only through Ensure changes applied in log order, which makes id
// assignment deterministic across replicas and replays.
//
// Log entries (codec.go): a two-byte header (kind, version) and an Avro
// record — a write batch (batch.go: rows grouped by table and series, one
// array per field) or a schema change (Ensure). The Avro schemas are part of
// the on-disk format.
//
// Builder (builder.go) collects parsed rows by name and resolves them to a
// Batch of physical ids once the catalog has them (Missing lists the Ensure
// changes to propose first).
//
// Logical columns, aliases, renames and conversions (late binding) are
// layered over this physical schema at read time.
package schema
