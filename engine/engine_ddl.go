package engine

import (
	"context"
	"fmt"

	"github.com/fineod/fineod/schema"
)

// This file implements sql.SchemaWriter and sql.TableDropper: CREATE TABLE
// (and COPY into a new table) declare a table through the log, with the
// same schema change the first write of a table proposes; DROP TABLE
// proposes a schema.Drop.

// EnsureTable makes sure a tenant's table exists in database with the given
// tag keys and physical fields: it proposes one schema.Ensure and returns
// once the change is applied. Tags and fields the table already has are
// left alone.
func (db *DB) EnsureTable(ctx context.Context, tenant, database, table string, tags []string, fields []schema.FieldSpec) error {
	if err := db.check(ctx); err != nil {
		return err
	}
	if database == "" {
		database = schema.DefaultDatabase
	}
	e := schema.Ensure{Tenant: tenant, Database: database, Table: table, TagKeys: tags, Fields: fields}
	for _, f := range fields {
		if !schema.Type(f.Type).Valid() {
			return fmt.Errorf("engine: field %q has unknown type %d", f.Name, f.Type)
		}
	}
	p, err := schema.EncodeEnsure(&e)
	if err != nil {
		return err
	}
	if err := db.propose(ctx, p); err != nil {
		return fmt.Errorf("engine: create table %q: %w", table, err)
	}
	db.m.schemaChanges.Inc()
	return nil
}

// DropTable removes a tenant's table and deletes its rows, through the log
// (sql.TableDropper). A table that does not exist is not an error here:
// the SQL layer decides what DROP TABLE without IF EXISTS says.
func (db *DB) DropTable(ctx context.Context, tenant, database, table string) error {
	if err := db.check(ctx); err != nil {
		return err
	}
	p, err := schema.EncodeDrop(&schema.Drop{Tenant: tenant, Database: database, Table: table})
	if err != nil {
		return err
	}
	if err := db.propose(ctx, p); err != nil {
		return fmt.Errorf("engine: drop table %q: %w", table, err)
	}
	db.m.schemaChanges.Inc()
	return nil
}
