package main

import (
	"context"
	"errors"

	"github.com/fineod/fineod/sql"
	"github.com/fineod/fineod/sql/pgwire"
)

// pgBackend adapts the SQL engine to the Postgres wire server: the two
// packages declare their own types, and this file is the only place that
// knows both.
type pgBackend struct{ eng *sql.Engine }

func (b pgBackend) NewSession(ctx context.Context, info pgwire.StartupInfo) (pgwire.Session, error) {
	db := info.Database
	if db == "" {
		db = info.User
	}
	s := b.eng.NewSession(info.Tenant, db, info.User)
	for k, v := range info.Params {
		switch k {
		case "user", "database", "replication", "options":
			continue
		}
		// Unknown startup parameters are ignored, as PostgreSQL ignores
		// unknown GUCs with a placeholder prefix; known ones apply.
		_ = s.Set(k, v)
	}
	return pgSession{s}, nil
}

type pgSession struct{ s *sql.Session }

func (p pgSession) Split(query string) ([]string, error) {
	stmts, err := p.s.Split(query)
	return stmts, wireErr(err)
}

func (p pgSession) Prepare(ctx context.Context, query string, paramTypes []pgwire.OID) (pgwire.Stmt, error) {
	types := make([]sql.Type, len(paramTypes))
	for i, t := range paramTypes {
		types[i] = sql.Type(t)
	}
	st, err := p.s.Prepare(ctx, query, types)
	if err != nil {
		return nil, wireErr(err)
	}
	return pgStmt{st}, nil
}

func (p pgSession) Settings() map[string]string { return p.s.Settings() }

type pgStmt struct{ st *sql.Stmt }

func (p pgStmt) ParamTypes() []pgwire.OID {
	ts := p.st.ParamTypes()
	out := make([]pgwire.OID, len(ts))
	for i, t := range ts {
		out[i] = pgwire.OID(t)
	}
	return out
}

func (p pgStmt) Columns() []pgwire.Column { return wireColumns(p.st.Columns()) }

func wireColumns(cols []sql.ResultColumn) []pgwire.Column {
	if cols == nil {
		return nil
	}
	out := make([]pgwire.Column, len(cols))
	for i, c := range cols {
		out[i] = pgwire.Column{Name: c.Name, Type: pgwire.OID(c.Type)}
	}
	return out
}

func (p pgStmt) Execute(ctx context.Context, params []any) (pgwire.Result, error) {
	for i, v := range params {
		if iv, ok := v.(pgwire.Interval); ok {
			params[i] = sql.Interval{Months: iv.Months, Days: iv.Days, Micros: iv.Micros}
		}
	}
	r, err := p.st.Execute(ctx, params)
	if err != nil {
		return nil, wireErr(err)
	}
	return &pgResult{r: r}, nil
}

type pgResult struct{ r *sql.Result }

func (p *pgResult) Next() bool { return p.r.Next() }

func (p *pgResult) Row() []any {
	row := p.r.Row()
	for i, v := range row {
		if iv, ok := v.(sql.Interval); ok {
			row[i] = pgwire.Interval{Months: iv.Months, Days: iv.Days, Micros: iv.Micros}
		}
	}
	return row
}

func (p *pgResult) Err() error  { return wireErr(p.r.Err()) }
func (p *pgResult) Tag() string { return p.r.Tag() }
func (p *pgResult) Close()      { _ = p.r.Close() }

// wireErr gives a SQL error the methods the wire server looks for.
func wireErr(err error) error {
	var se *sql.Error
	if err == nil || !errors.As(err, &se) {
		return err
	}
	return sqlStateError{se}
}

type sqlStateError struct{ e *sql.Error }

func (e sqlStateError) Error() string       { return e.e.Message }
func (e sqlStateError) Unwrap() error       { return e.e }
func (e sqlStateError) SQLState() string    { return e.e.Code }
func (e sqlStateError) ErrorDetail() string { return e.e.Detail }
func (e sqlStateError) ErrorHint() string   { return e.e.Hint }
func (e sqlStateError) ErrorPosition() int  { return e.e.Position }

// CopyIn and CopyOut make pgSession a pgwire.Copier.
func (p pgSession) CopyIn(ctx context.Context, query string) (pgwire.CopyInSink, error) {
	ci, err := p.s.CopyIn(ctx, query)
	if err != nil {
		return nil, wireErr(err)
	}
	return pgCopyIn{ci}, nil
}

func (p pgSession) CopyOut(ctx context.Context, query string) (pgwire.CopyOutSource, error) {
	res, opts, err := p.s.CopyOut(ctx, query)
	if err != nil {
		return nil, wireErr(err)
	}
	return pgCopyOut{&pgResult{r: res}, wireCopyOptions(opts)}, nil
}

func wireCopyOptions(o sql.CopyOptions) pgwire.CopyOptions {
	w := pgwire.CopyOptions{Delimiter: o.Delimiter, Null: o.Null, Header: o.Header, Quote: o.Quote, Escape: o.Escape}
	switch o.Format {
	case sql.CopyCSV:
		w.Format = pgwire.CopyCSV
	case sql.CopyBinary:
		w.Format = pgwire.CopyBinary
	default:
		w.Format = pgwire.CopyText
	}
	return w
}

type pgCopyIn struct{ c *sql.CopyIn }

func (p pgCopyIn) Columns() []pgwire.Column {
	return wireColumns(p.c.Columns())
}

func (p pgCopyIn) Options() pgwire.CopyOptions { return wireCopyOptions(p.c.Options()) }

func (p pgCopyIn) WriteRows(ctx context.Context, rows [][]any) error {
	return wireErr(p.c.WriteRows(ctx, rows))
}

func (p pgCopyIn) Done(ctx context.Context) (string, error) {
	tag, err := p.c.Done(ctx)
	return tag, wireErr(err)
}

func (p pgCopyIn) Abort(reason string) { p.c.Abort() }

type pgCopyOut struct {
	*pgResult
	opts pgwire.CopyOptions
}

func (p pgCopyOut) Columns() []pgwire.Column    { return wireColumns(p.r.Columns()) }
func (p pgCopyOut) Options() pgwire.CopyOptions { return p.opts }
