package engine

import (
	"context"

	"github.com/fineod/fineod/sql"
	"github.com/fineod/fineod/storage"
)

// This file implements sql.SystemSource on the SQL catalog: the rows of a
// tenant's fineo.errors, fineo.series and fineo.segments tables.

var (
	_ sql.SystemSource  = (*sqlCatalog)(nil)
	_ sql.SegmentSource = (*sqlCatalog)(nil)
	_ sql.HistorySource = (*sqlCatalog)(nil)
)

// SchemaHistory returns the tenant's schema changes in log order.
func (c *sqlCatalog) SchemaHistory(ctx context.Context, tenant string) ([]sql.HistoryRow, error) {
	db := (*DB)(c)
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	ten, ok := db.cat.Tenant(tenant)
	if !ok {
		return nil, nil
	}
	var out []sql.HistoryRow
	for _, h := range db.cat.History(ten.ID) {
		out = append(out, sql.HistoryRow{Version: int64(h.Version), Time: h.Time, User: h.User,
			Database: h.Database, Table: h.Table, Change: h.Change, Statement: h.Statement})
	}
	return out, nil
}

// Segments returns the tenant's live segments, by database, table,
// partition and id.
func (c *sqlCatalog) Segments(ctx context.Context, tenant string) ([]sql.SegmentRow, error) {
	db := (*DB)(c)
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	ten, ok := db.cat.Tenant(tenant)
	if !ok {
		return nil, nil
	}
	var out []sql.SegmentRow
	for _, t := range db.cat.Tables(ten.ID, "") {
		segs, err := db.rows.Segments(ten.ID, t.ID)
		if err != nil {
			return nil, err
		}
		for _, m := range segs {
			out = append(out, sql.SegmentRow{Database: t.Database, Table: t.Name, Partition: storage.DayString(m.Day),
				File: m.Path, Rows: m.Rows, Bytes: m.Bytes, MinTime: m.MinTime, MaxTime: m.MaxTime, RowGroups: int64(m.RowGroups)})
		}
	}
	return out, nil
}

// Errors returns the tenant's errors table in time order.
func (c *sqlCatalog) Errors(ctx context.Context, tenant string) ([]sql.ErrorRow, error) {
	rows, err := (*DB)(c).Errors(ctx, tenant)
	if err != nil {
		return nil, err
	}
	out := make([]sql.ErrorRow, len(rows))
	for i, r := range rows {
		out[i] = sql.ErrorRow{Time: r.Time, Stage: r.Stage, Kind: r.Kind, Database: r.Database,
			Table: r.Table, Message: r.Message, Raw: string(r.Raw)}
	}
	return out, nil
}

// Series returns the tenant's series of every table in every database.
func (c *sqlCatalog) Series(ctx context.Context, tenant string) ([]sql.SeriesRow, error) {
	db := (*DB)(c)
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	ten, ok := db.cat.Tenant(tenant)
	if !ok {
		return nil, nil
	}
	var out []sql.SeriesRow
	for _, t := range db.cat.Tables(ten.ID, "") {
		series, err := db.rows.Series(ten.ID, t.ID)
		if err != nil {
			return nil, err
		}
		for _, s := range series {
			out = append(out, sql.SeriesRow{Database: t.Database, Table: t.Name, ID: int64(s.ID), Tags: s.Tags})
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
