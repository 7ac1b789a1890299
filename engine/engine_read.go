package engine

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/fineod/fineod/schema"
	"github.com/fineod/fineod/storage"
)

// ScanRequest selects the points of one table.
type ScanRequest struct {
	Database string // "" = schema.DefaultDatabase
	Table    string
	// Start and End bound the time range, inclusive; zero means unbounded.
	Start, End time.Time
	// Tags keeps only series with every one of these tag values.
	Tags map[string]string
}

// Row is one point read back.
type Row struct {
	Time   time.Time
	Tags   map[string]string
	Fields map[string]any // by raw field name: float64, int64, uint64, string or bool
}

// ScanFunc receives rows; the rows of one series come in time order (series
// may interleave). Returning an error stops the scan.
type ScanFunc func(Row) error

// Scan reads the points of a table of the default tenant. It is the
// storage-level read API; SQL is built on the same scan.
func (db *DB) Scan(ctx context.Context, req ScanRequest, fn ScanFunc) error {
	return db.ScanTenant(ctx, schema.DefaultTenant, req, fn)
}

// ScanTenant is Scan for a named tenant.
func (db *DB) ScanTenant(ctx context.Context, tenant string, req ScanRequest, fn ScanFunc) error {
	if err := db.check(ctx); err != nil {
		return err
	}
	if req.Database == "" {
		req.Database = schema.DefaultDatabase
	}
	ten, ok := db.cat.Tenant(tenant)
	if !ok {
		return fmt.Errorf("engine: table %q does not exist", req.Table)
	}
	tbl, ok := db.cat.Table(ten.ID, req.Database, req.Table)
	if !ok {
		return fmt.Errorf("engine: table %q does not exist in database %q", req.Table, req.Database)
	}
	minT, maxT := int64(math.MinInt64), int64(math.MaxInt64)
	if !req.Start.IsZero() {
		minT = req.Start.UnixNano()
	}
	if !req.End.IsZero() {
		maxT = req.End.UnixNano()
	}
	all, err := db.rows.Series(ten.ID, tbl.ID)
	if err != nil {
		return err
	}
	tags := map[uint64][]string{}
	var ids []uint64
	for _, s := range all {
		if matchTags(s.Tags, req.Tags) {
			ids = append(ids, s.ID)
			tags[s.ID] = s.Tags
		}
	}
	if len(ids) == 0 {
		return nil
	}
	var series []storage.SeriesInfo
	for _, s := range all {
		if _, ok := tags[s.ID]; ok {
			series = append(series, s)
		}
	}
	x, err := db.openTiers(ten.ID, tbl.ID, minT, maxT)
	if err != nil {
		return err
	}
	defer x.close()
	sink := &rowSink{ctx: ctx, tbl: tbl, tags: tags, fn: fn}
	for _, task := range x.pieces(series, minT, maxT, func(lo, hi int64) storage.SegmentQuery {
		return storage.SegmentQuery{MinTime: lo, MaxTime: hi}
	}, tbl.Name, false) {
		if err := task(sink); err != nil {
			return err
		}
	}
	return nil
}

// rowSink turns scanned points into Rows (a pointSink).
type rowSink struct {
	ctx  context.Context
	tbl  *schema.Table
	tags map[uint64][]string
	fn   ScanFunc
	n    int
	fv   []storage.FieldValue
}

func (s *rowSink) tick() error {
	if s.n++; s.n%1024 == 0 {
		return s.ctx.Err()
	}
	return nil
}

func (s *rowSink) row(sid uint64, t int64, val []byte) error {
	var err error
	if s.fv, err = storage.DecodeValue(val, s.fv[:0]); err != nil {
		return fmt.Errorf("engine: table %q series %d time %d: %w", s.tbl.Name, sid, t, err)
	}
	return s.rowFields(sid, t, s.fv)
}

func (s *rowSink) rowFields(sid uint64, t int64, fields []storage.FieldValue) error {
	if err := s.tick(); err != nil {
		return err
	}
	r := Row{Time: time.Unix(0, t).UTC(), Tags: map[string]string{}, Fields: make(map[string]any, len(fields))}
	st := s.tags[sid]
	for i := 0; i+1 < len(st); i += 2 {
		r.Tags[st[i]] = st[i+1]
	}
	for _, f := range fields {
		pf, ok := s.tbl.FieldByID(f.ID)
		if !ok {
			continue
		}
		r.Fields[pf.Name] = f.Value()
	}
	return s.fn(r)
}

func matchTags(series []string, want map[string]string) bool {
	for k, v := range want {
		found := false
		for i := 0; i+1 < len(series); i += 2 {
			if series[i] == k {
				found = series[i+1] == v
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Errors returns the rows of a tenant's errors table in time order.
func (db *DB) Errors(ctx context.Context, tenant string) ([]schema.ErrorRow, error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	ten, ok := db.cat.Tenant(tenant)
	if !ok {
		return nil, nil
	}
	var out []schema.ErrorRow
	err := db.rows.Errors(ten.ID, func(r schema.ErrorRow) error {
		out = append(out, r)
		return nil
	})
	return out, err
}

// Databases lists a tenant's databases.
func (db *DB) Databases(tenant string) []string {
	t, ok := db.cat.Tenant(tenant)
	if !ok {
		return nil
	}
	return append([]string(nil), t.Databases...)
}

// CreateDatabase creates a database (idempotent), through the log.
func (db *DB) CreateDatabase(ctx context.Context, tenant, name string) error {
	if err := db.check(ctx); err != nil {
		return err
	}
	if t, ok := db.cat.Tenant(tenant); ok {
		for _, d := range t.Databases {
			if d == name {
				return nil
			}
		}
	}
	p, err := schema.EncodeEnsure(&schema.Ensure{Tenant: tenant, Database: name})
	if err != nil {
		return err
	}
	return db.propose(ctx, p)
}
