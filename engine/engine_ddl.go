package engine

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

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

// AlterError is a schema change the catalog refused: the message names
// the problem (unknown column, name already taken, ...).
type AlterError struct{ Err error }

func (e *AlterError) Error() string { return e.Err.Error() }
func (e *AlterError) Unwrap() error { return e.Err }

// SQLState classifies the refusal for SQL clients.
func (e *AlterError) SQLState() string {
	msg := e.Err.Error()
	switch {
	case strings.Contains(msg, "does not exist"):
		return "42703" // undefined_column (an unknown table is caught earlier)
	case strings.Contains(msg, "already"):
		return "42701" // duplicate_column
	}
	return "22023" // invalid_parameter_value
}

// AlterTable makes a schema change of a logical table through the log
// (sql.SchemaAlterer) and returns once it is applied, or the catalog's
// reason for refusing it.
func (db *DB) AlterTable(ctx context.Context, a *schema.Alter) error {
	if err := db.check(ctx); err != nil {
		return err
	}
	if a.Database == "" {
		a.Database = schema.DefaultDatabase
	}
	if a.Time == 0 {
		a.Time = time.Now().UnixNano()
	}
	p, err := schema.EncodeAlter(a)
	if err != nil {
		return err
	}
	if err := db.propose(ctx, p); err != nil {
		var ae *AlterError
		if errors.As(err, &ae) {
			return ae
		}
		return fmt.Errorf("engine: alter table %q: %w", a.Table, err)
	}
	db.m.schemaChanges.Inc()
	return nil
}
