package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"go.etcd.io/raft/v3"

	"github.com/fineod/fineod/schema"
)

// Point is one row written through the Go API.
type Point struct {
	// Database is the database to write to; "" means schema.DefaultDatabase.
	Database string
	// Table is the table (measurement) name, kept exactly as given.
	Table string
	// Tags identify the series.
	Tags map[string]string
	// Fields are the values: float64, float32, int, int8..int64, uint,
	// uint8..uint64, string, []byte or bool. At least one is required.
	Fields map[string]any
	// Time is the point's time; the zero time means now.
	Time time.Time
}

// Write writes points to the default tenant. It returns after the points are
// durable in the log and applied, so a Scan or Query that starts after it
// returns sees them. Invalid points (no table, no fields, a value of an
// unsupported type) make Write fail before anything is written, with an
// error that names the point.
func (db *DB) Write(ctx context.Context, points []Point) error {
	if err := db.check(ctx); err != nil {
		return err
	}
	builders := map[string]*schema.Builder{}
	var order []string
	now := time.Now().UnixNano()
	for i, p := range points {
		if p.Table == "" {
			return fmt.Errorf("engine: point %d: missing table name", i)
		}
		if len(p.Fields) == 0 {
			return fmt.Errorf("engine: point %d (%s): missing fields", i, p.Table)
		}
		dbName := p.Database
		if dbName == "" {
			dbName = schema.DefaultDatabase
		}
		b, ok := builders[dbName]
		if !ok {
			b = schema.NewBuilder(dbName)
			builders[dbName] = b
			order = append(order, dbName)
		}
		t := now
		if !p.Time.IsZero() {
			t = p.Time.UnixNano()
		}
		b.StartRow([]byte(p.Table), t)
		for k, v := range p.Tags {
			if k == "" || v == "" {
				return fmt.Errorf("engine: point %d (%s): empty tag key or value", i, p.Table)
			}
			b.AddTag([]byte(k), []byte(v))
		}
		keys := make([]string, 0, len(p.Fields))
		for k := range p.Fields {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if k == "" {
				return fmt.Errorf("engine: point %d (%s): empty field name", i, p.Table)
			}
			if err := addValue(b, k, p.Fields[k]); err != nil {
				return fmt.Errorf("engine: point %d (%s): %w", i, p.Table, err)
			}
		}
		b.EndRow()
	}
	var rejected *StrictTableError
	for _, name := range order {
		err := db.WriteBatch(ctx, schema.DefaultTenant, builders[name])
		var se *StrictTableError
		if errors.As(err, &se) {
			// The other rows were stored; so must those of the other
			// databases be.
			if rejected == nil {
				rejected = &StrictTableError{Tenant: se.Tenant}
			}
			rejected.Tables = append(rejected.Tables, se.Tables...)
			rejected.Lines = append(rejected.Lines, se.Lines...)
			continue
		}
		if err != nil {
			return err
		}
	}
	if rejected != nil {
		return rejected
	}
	return nil
}

func addValue(b *schema.Builder, k string, v any) error {
	name := []byte(k)
	switch x := v.(type) {
	case float64:
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return fmt.Errorf("field %q: %v is not a finite number", k, x)
		}
		b.AddFloat(name, x)
	case float32:
		return addValue(b, k, float64(x))
	case int:
		b.AddInt(name, int64(x))
	case int8:
		b.AddInt(name, int64(x))
	case int16:
		b.AddInt(name, int64(x))
	case int32:
		b.AddInt(name, int64(x))
	case int64:
		b.AddInt(name, x)
	case uint:
		b.AddUint(name, uint64(x))
	case uint8:
		b.AddUint(name, uint64(x))
	case uint16:
		b.AddUint(name, uint64(x))
	case uint32:
		b.AddUint(name, uint64(x))
	case uint64:
		b.AddUint(name, x)
	case string:
		b.AddString(name, []byte(x))
	case []byte:
		b.AddString(name, x)
	case bool:
		b.AddBool(name, x)
	default:
		return fmt.Errorf("field %q: unsupported type %T", k, v)
	}
	return nil
}

// WriteBatch writes the rows and error rows collected in b for a tenant,
// through the log: first any schema changes the rows need (new tables, tags
// or physical fields), then one log entry with the batch. It returns after
// the batch is durable and applied.
func (db *DB) WriteBatch(ctx context.Context, tenant string, b *schema.Builder) error {
	if err := db.check(ctx); err != nil {
		return err
	}
	if b.Rows() == 0 && len(b.Errors()) == 0 {
		return nil
	}
	if b.Database == "" {
		b.Database = schema.DefaultDatabase
	}
	rejected := db.rejectUnknownTables(tenant, b)
	if b.Rows() == 0 && len(b.Errors()) == 0 {
		return rejected
	}
	var batch *schema.Batch
	for attempt := 0; ; attempt++ {
		var ok bool
		if batch, ok = b.Resolve(db.cat, tenant); ok {
			break
		}
		if attempt == db.opts.MaxSchemaRetries {
			return fmt.Errorf("engine: schema for database %q did not settle after %d changes", b.Database, attempt)
		}
		for _, e := range b.Missing(db.cat, tenant) {
			p, err := schema.EncodeEnsure(&e)
			if err != nil {
				return err
			}
			if err := db.propose(ctx, p); err != nil {
				return fmt.Errorf("engine: schema change for %q: %w", e.Table, err)
			}
			db.m.schemaChanges.Inc()
		}
	}
	p, err := schema.EncodeBatch(batch)
	if err != nil {
		return err
	}
	if err := db.propose(ctx, p); err != nil {
		return fmt.Errorf("engine: write: %w", err)
	}
	db.m.rowsWritten.Add(uint64(b.Rows()))
	db.m.valuesWritten.Add(uint64(b.Values()))
	db.m.batchBytes.Add(uint64(len(p)))
	if rejected != nil {
		return rejected
	}
	return nil
}

// StrictTableError reports rows a strict tenant rejected because they name
// tables that do not exist (writes do not create tables there). The other
// rows of the write are stored; each rejected row is in the errors table
// with its line protocol.
type StrictTableError struct {
	Tenant string
	Tables []string
	Lines  []string // the rejected rows as line protocol
}

// RejectedLines returns the refused rows as line protocol.
func (e *StrictTableError) RejectedLines() []string { return e.Lines }

func (e *StrictTableError) Error() string {
	return fmt.Sprintf("tenant %q is strict: %d rows name tables that do not exist (%s); create them first (CREATE TABLE) or turn strict mode off",
		e.Tenant, len(e.Lines), strings.Join(e.Tables, ", "))
}

// rejectUnknownTables removes from b the rows of tables a strict tenant
// does not have, recording each as an error row.
func (db *DB) rejectUnknownTables(tenant string, b *schema.Builder) *StrictTableError {
	ten, ok := db.cat.Tenant(tenant)
	if !ok || !ten.Strict {
		return nil
	}
	var rej *StrictTableError
	now := time.Now().UnixNano()
	for _, name := range b.TableNames() {
		if _, ok := db.cat.WriteTable(ten.ID, b.Database, name); ok {
			continue
		}
		lines := b.RemoveTable(name)
		if rej == nil {
			rej = &StrictTableError{Tenant: tenant}
		}
		rej.Tables = append(rej.Tables, name)
		rej.Lines = append(rej.Lines, lines...)
		for _, l := range lines {
			b.AddError(schema.ErrorRow{Time: now, Stage: schema.StageIngest, Kind: schema.KindBadInput,
				Database: b.Database, Table: name, Raw: []byte(l),
				Message: fmt.Sprintf("table %q does not exist and tenant %q is strict: writes do not create tables", name, tenant)})
		}
	}
	return rej
}

// maxProposeWait bounds how long a write waits for room in the log when
// raft drops its proposal (too many uncommitted bytes: the disk is behind).
const maxProposeWait = 10 * time.Second

// propose proposes p and waits for it to be applied. A proposal raft drops
// (backpressure) never reached the log, so it is retried with backoff until
// ctx ends or maxProposeWait passes.
func (db *DB) propose(ctx context.Context, p []byte) error {
	backoff := time.Millisecond
	deadline := time.Now().Add(maxProposeWait)
	for {
		err := db.node.Propose(ctx, p)
		if !errors.Is(err, raft.ErrProposalDropped) || time.Now().After(deadline) {
			return err
		}
		db.m.proposalRetries.Inc()
		select {
		case <-time.After(backoff):
		case <-ctx.Done():
			return ctx.Err()
		}
		if backoff < 100*time.Millisecond {
			backoff *= 2
		}
	}
}
