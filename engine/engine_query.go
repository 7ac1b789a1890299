package engine

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/fineod/fineod/schema"
	"github.com/fineod/fineod/sql"
)

// SQLEngine returns the database's SQL engine (one per DB, sharing its plan
// cache); the servers open sessions on it.
func (db *DB) SQLEngine() *sql.Engine {
	db.sqlOnce.Do(func() {
		db.sqlEng = sql.NewEngine(db.SQLCatalog(), db.SQLScanner(), db, nil)
	})
	return db.sqlEng
}

// Column describes one column of a query result.
type Column struct {
	Name string
	// Type is the PostgreSQL type name: "double precision", "bigint",
	// "text", "boolean", "timestamp with time zone", "interval", ...
	Type string
}

// Rows is the result of Query. Iterate with Next, read with Scan or
// Values, and Close it. It is not safe for concurrent use.
type Rows struct {
	res  *sql.Result
	cols []Column
	row  []any
	err  error
}

// Query runs one SQL statement against the default tenant's default
// database (schema.DefaultDatabase) with $1, $2... bound to args, and
// returns its rows. Values are nil, bool, int64, float64, string,
// time.Time or sql.Interval. Statements that return no rows (INSERT, SET)
// return an empty Rows.
func (db *DB) Query(ctx context.Context, query string, args ...any) (*Rows, error) {
	return db.QueryDatabase(ctx, schema.DefaultDatabase, query, args...)
}

// QueryDatabase is Query in a named database of the default tenant.
func (db *DB) QueryDatabase(ctx context.Context, database, query string, args ...any) (*Rows, error) {
	if err := db.check(ctx); err != nil {
		return nil, err
	}
	s := db.SQLEngine().NewSession(schema.DefaultTenant, database, "fineo")
	params := make([]any, len(args))
	for i, a := range args {
		v, err := sqlParam(a)
		if err != nil {
			return nil, fmt.Errorf("engine: argument $%d: %w", i+1, err)
		}
		params[i] = v
	}
	st, err := s.Prepare(ctx, query, nil)
	if err != nil {
		return nil, err
	}
	res, err := st.Execute(ctx, params)
	if err != nil {
		return nil, err
	}
	r := &Rows{res: res}
	for _, c := range res.Columns() {
		r.cols = append(r.cols, Column{Name: c.Name, Type: c.Type.String()})
	}
	return r, nil
}

// sqlParam converts a Go argument to one of the values sql accepts.
func sqlParam(a any) (any, error) {
	switch x := a.(type) {
	case nil, bool, int64, float64, string, time.Time, []byte, sql.Interval:
		return x, nil
	case int:
		return int64(x), nil
	case int32:
		return int64(x), nil
	case int16:
		return int64(x), nil
	case int8:
		return int64(x), nil
	case uint32:
		return int64(x), nil
	case uint16:
		return int64(x), nil
	case uint8:
		return int64(x), nil
	case float32:
		return float64(x), nil
	case time.Duration:
		return sql.Interval{Micros: x.Microseconds()}, nil
	}
	return nil, fmt.Errorf("unsupported type %T", a)
}

// Columns describes the result's columns.
func (r *Rows) Columns() []Column { return r.cols }

// Next advances to the next row.
func (r *Rows) Next() bool {
	if r.err != nil || !r.res.Next() {
		return false
	}
	r.row = r.res.Row()
	return true
}

// Values returns the current row. The slice is valid until Next.
func (r *Rows) Values() []any { return r.row }

// Scan copies the current row into dest, which must be pointers of the
// row's value types (*float64, *int64, *string, *bool, *time.Time,
// *sql.Interval) or *any; a NULL sets the pointee to its zero value
// (*any gets nil).
func (r *Rows) Scan(dest ...any) error {
	if len(dest) != len(r.row) {
		return fmt.Errorf("engine: Scan: %d destinations for %d columns", len(dest), len(r.row))
	}
	for i, d := range dest {
		if p, ok := d.(*any); ok {
			*p = r.row[i]
			continue
		}
		dv := reflect.ValueOf(d)
		if dv.Kind() != reflect.Pointer || dv.IsNil() {
			return fmt.Errorf("engine: Scan: destination %d is not a non-nil pointer", i)
		}
		el := dv.Elem()
		if r.row[i] == nil {
			el.SetZero()
			continue
		}
		v := reflect.ValueOf(r.row[i])
		switch {
		case v.Type().AssignableTo(el.Type()):
			el.Set(v)
		case v.CanConvert(el.Type()) && v.Kind() != reflect.String && el.Kind() != reflect.String:
			el.Set(v.Convert(el.Type()))
		default:
			return fmt.Errorf("engine: Scan: column %d (%s) is %T, cannot store in %T", i, r.cols[i].Name, r.row[i], d)
		}
	}
	return nil
}

// Err returns the error that ended the iteration, if any.
func (r *Rows) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.res.Err()
}

// Tag is the statement's command tag ("SELECT 3", "INSERT 0 5").
func (r *Rows) Tag() string { return r.res.Tag() }

// Close releases the result. It is safe to call twice.
func (r *Rows) Close() error { return r.res.Close() }
