package sql

import (
	"context"
	"sort"
	"strings"
)

// SystemSource is what the fineo.* system tables read. A Catalog may
// implement it; without it those tables are empty.
type SystemSource interface {
	// Errors returns the rows of a tenant's errors table (bad input and
	// processing failures recorded by ingest and apply), in time order.
	Errors(ctx context.Context, tenant string) ([]ErrorRow, error)
	// Series returns a tenant's series, in every database.
	Series(ctx context.Context, tenant string) ([]SeriesRow, error)
}

// SegmentSource is implemented by a Catalog whose tables have a columnar
// tier: it feeds fineo.segments.
type SegmentSource interface {
	// Segments returns a tenant's live segments, in every database.
	Segments(ctx context.Context, tenant string) ([]SegmentRow, error)
}

// SegmentRow is one row of fineo.segments: one live Parquet segment.
type SegmentRow struct {
	Database, Table  string
	Partition        string // YYYY-MM-DD
	File             string // relative to the data directory
	Rows, Bytes      int64
	MinTime, MaxTime int64 // ns since the epoch
	RowGroups        int64
}

// HistorySource is implemented by a Catalog that records schema changes:
// it feeds fineo.schema_history.
type HistorySource interface {
	// SchemaHistory returns a tenant's schema changes in the order they
	// were made.
	SchemaHistory(ctx context.Context, tenant string) ([]HistoryRow, error)
}

// HistoryRow is one row of fineo.schema_history: one schema change.
type HistoryRow struct {
	Version   int64 // the table's schema version after the change
	Time      int64 // ns since the epoch
	User      string
	Database  string
	Table     string
	Change    string
	Statement string
}

// ErrorRow is one row of fineo.errors.
type ErrorRow struct {
	Time     int64 // ns since the epoch
	Stage    string
	Kind     string
	Database string
	Table    string
	Message  string
	Raw      string
}

// SeriesRow is one row of fineo.series.
type SeriesRow struct {
	Database string
	Table    string
	ID       int64
	// Tags holds key, value, key, value... sorted by key.
	Tags []string
}

// The fineo schema: per-tenant system tables. "fineo.errors" and
// "fineo.series" name these tables even when a database is called fineo;
// other fineo.x names are tables of database fineo.
func registerFineo() {
	defSys("fineo", "errors", "v", `time:timestamptz stage:text kind:text database:text table_name:text
		message:text raw:text`, fineoErrorsRows)
	defSys("fineo", "series", "v", "table_name:text database:text series_id:int8 tags:text", fineoSeriesRows)
	defSys("fineo", "schema_history", "v", `version:int8 time:timestamptz user:text table_name:text database:text
		change:text statement:text`, fineoHistoryRows)
	defSys("fineo", "segments", "v", `table_name:text database:text partition:text file:text rows:int8 bytes:int8
		min_time:timestamptz max_time:timestamptz row_groups:int8`, fineoSegmentsRows)
}

func fineoHistoryRows(cc *catCtx) ([][]any, error) {
	src, ok := cc.ec.eng.cat.(HistorySource)
	if !ok {
		return nil, nil
	}
	rows, err := src.SchemaHistory(cc.ec.ctx, cc.tenant)
	if err != nil {
		return nil, err
	}
	out := make([][]any, 0, len(rows))
	for _, r := range rows {
		out = append(out, []any{r.Version, r.Time, r.User, r.Table, r.Database, r.Change, r.Statement})
	}
	return out, nil
}

func fineoSegmentsRows(cc *catCtx) ([][]any, error) {
	src, ok := cc.ec.eng.cat.(SegmentSource)
	if !ok {
		return nil, nil
	}
	rows, err := src.Segments(cc.ec.ctx, cc.tenant)
	if err != nil {
		return nil, err
	}
	out := make([][]any, 0, len(rows))
	for _, r := range rows {
		out = append(out, []any{r.Table, r.Database, r.Partition, r.File, r.Rows, r.Bytes, r.MinTime, r.MaxTime, r.RowGroups})
	}
	return out, nil
}

func fineoErrorsRows(cc *catCtx) ([][]any, error) {
	src, ok := cc.ec.eng.cat.(SystemSource)
	if !ok {
		return nil, nil
	}
	rows, err := src.Errors(cc.ec.ctx, cc.tenant)
	if err != nil {
		return nil, err
	}
	out := make([][]any, 0, len(rows))
	for _, r := range rows {
		out = append(out, []any{r.Time, r.Stage, r.Kind, r.Database, r.Table, r.Message, r.Raw})
	}
	return out, nil
}

func fineoSeriesRows(cc *catCtx) ([][]any, error) {
	src, ok := cc.ec.eng.cat.(SystemSource)
	if !ok {
		return nil, nil
	}
	rows, err := src.Series(cc.ec.ctx, cc.tenant)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(rows, func(i, j int) bool {
		a, b := rows[i], rows[j]
		if a.Database != b.Database {
			return a.Database < b.Database
		}
		if a.Table != b.Table {
			return a.Table < b.Table
		}
		return a.ID < b.ID
	})
	out := make([][]any, 0, len(rows))
	for _, r := range rows {
		out = append(out, []any{r.Table, r.Database, r.ID, formatTags(r.Tags)})
	}
	return out, nil
}

// formatTags renders a series' tags (key, value, ...) as fineo.series
// shows them: "host=a,region=eu".
func formatTags(tags []string) string {
	var sb strings.Builder
	for k := 0; k+1 < len(tags); k += 2 {
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(tags[k])
		sb.WriteByte('=')
		sb.WriteString(tags[k+1])
	}
	return sb.String()
}
