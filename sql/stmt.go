package sql

import (
	"context"
	"math"
	"strconv"
	"strings"
	"time"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// ResultColumn describes one column of a statement's rows.
type ResultColumn struct {
	Name string
	Type Type
}

type stmtKind uint8

const (
	kindEmpty stmtKind = iota
	kindQuery
	kindExplain
	kindSet
	kindReset
	kindShow
	kindTx
	kindInsert
	kindNoop
	kindDeclare // cursor.go
	kindFetch
	kindClose
	kindDDL        // ddl.go
	kindAlter      // alter.go: ALTER TABLE
	kindSchemaCall // alter.go: SELECT fineo.f(...)
)

// prepared is a planned statement. It holds no session state and may be
// shared (cached) between sessions and executions.
type prepared struct {
	kind   stmtKind
	plan   plan
	cols   []ResultColumn
	params []Type
	tag    string // fixed command tag (SET, BEGIN, ...)

	name  string   // SET / SHOW / RESET parameter ("" = ALL)
	value []string // SET value items; nil = DEFAULT
	tx    string   // BEGIN, COMMIT, ROLLBACK

	explain []string
	// explainRun, for EXPLAIN, renders the plan again when the statement
	// runs, with what only execution knows (parameters, segments).
	explainRun func(x *explainer)
	insert     *insertPlan
	cursor     *cursorStmt // DECLARE, FETCH/MOVE, CLOSE
	ddl        *ddlStmt    // CREATE TABLE, DROP TABLE
	alter      *alterStmt  // ALTER TABLE
	call       *schemaCall // SELECT fineo.f(...)
}

// Stmt is a prepared statement of a session. It is not safe for
// concurrent use (nor is its Session).
type Stmt struct {
	sess *Session
	prep *prepared

	// What the statement was prepared from, and the catalog version its
	// plan was made at ("" query: not re-plannable).
	query      string
	paramTypes []Type
	version    uint64
}

// replan plans a query statement again if the catalog changed since it was
// planned (a column renamed, dropped or retyped): a stale plan must not
// read columns that no longer exist or have another type. As in
// PostgreSQL, a new plan whose result columns differ is an error
// (0A000), which makes clients prepare the statement again.
func (st *Stmt) replan(ctx context.Context) error {
	if st.query == "" || (st.prep.kind != kindQuery && st.prep.kind != kindInsert && st.prep.kind != kindExplain && st.prep.kind != kindDeclare) {
		return nil
	}
	version, versioned := st.sess.eng.catalogVersion()
	if !versioned || version == st.version {
		return nil
	}
	fresh, err := st.sess.Prepare(ctx, st.query, st.paramTypes)
	if err != nil {
		return err
	}
	if !sameResult(st.prep, fresh.prep) {
		return errorf(CodeFeatureNotSupported, "cached plan must not change result type")
	}
	st.prep, st.version = fresh.prep, fresh.version
	return nil
}

func sameResult(a, b *prepared) bool {
	if a.kind == kindDeclare && b.kind == kindDeclare {
		ac, bc := a.cursor.plan.columns(), b.cursor.plan.columns()
		if len(ac) != len(bc) {
			return false
		}
		for i := range ac {
			if ac[i].typ != bc[i].typ {
				return false
			}
		}
	}
	if a.kind != b.kind || len(a.cols) != len(b.cols) || len(a.params) != len(b.params) {
		return false
	}
	for i := range a.cols {
		if a.cols[i].Type != b.cols[i].Type || a.cols[i].Name != b.cols[i].Name {
			return false
		}
	}
	for i := range a.params {
		if a.params[i] != b.params[i] {
			return false
		}
	}
	return true
}

// ParamTypes returns the types of the statement's parameters $1, $2, ...
func (st *Stmt) ParamTypes() []Type { return st.prep.params }

// Columns returns the columns of the rows the statement returns, or nil if
// it returns no rows.
func (st *Stmt) Columns() []ResultColumn { return st.prep.cols }

func planColumns(p plan) []ResultColumn {
	cs := p.columns()
	out := make([]ResultColumn, len(cs))
	for i, c := range cs {
		out[i] = ResultColumn{Name: c.name, Type: c.typ}
	}
	return out
}

// build plans one parsed statement.
func (s *Session) build(n *pg.Node, query string, paramTypes []Type) (*prepared, error) {
	switch {
	case n.GetSelectStmt() != nil:
		if p, ok, err := s.buildSchemaCall(n.GetSelectStmt(), query, paramTypes); ok || err != nil {
			return p, err
		}
		var p plan
		b, err := s.bindTwice(query, paramTypes, func(b *binder) error {
			var err error
			p, err = b.planQuery(n)
			return err
		})
		if err != nil {
			return nil, err
		}
		return &prepared{kind: kindQuery, plan: p, cols: planColumns(p), params: b.paramTypes()}, nil
	case n.GetExplainStmt() != nil:
		ex := n.GetExplainStmt()
		for _, o := range ex.Options {
			if d := o.GetDefElem(); d != nil && d.Defname == "analyze" {
				return nil, errorf(CodeFeatureNotSupported, "EXPLAIN ANALYZE is not supported")
			}
		}
		inner, err := s.build(ex.Query, query, paramTypes)
		if err != nil {
			return nil, err
		}
		var render func(x *explainer)
		switch inner.kind {
		case kindQuery:
			render = func(x *explainer) { inner.plan.explain(x, 0) }
		case kindInsert:
			render = func(x *explainer) {
				x.line(0, "Insert on %s", inner.insert.table.Name)
				inner.insert.src.explain(x, 1)
			}
		default:
			return nil, errorf(CodeFeatureNotSupported, "EXPLAIN of this statement is not supported")
		}
		x := &explainer{}
		render(x)
		return &prepared{kind: kindExplain, explain: x.lines, explainRun: render, params: inner.params,
			cols: []ResultColumn{{Name: "QUERY PLAN", Type: TypeText}}}, nil
	case n.GetVariableSetStmt() != nil:
		return buildSet(n.GetVariableSetStmt())
	case n.GetVariableShowStmt() != nil:
		name := strings.ToLower(n.GetVariableShowStmt().Name)
		if name == "all" {
			return &prepared{kind: kindShow, cols: []ResultColumn{{Name: "name", Type: TypeText}, {Name: "setting", Type: TypeText}, {Name: "description", Type: TypeText}}}, nil
		}
		canon := canonicalSetting(name)
		if _, ok := s.setting(canon); !ok {
			return nil, errorf(CodeUndefinedObject, "unrecognized configuration parameter %q", name)
		}
		return &prepared{kind: kindShow, name: canon, cols: []ResultColumn{{Name: canon, Type: TypeText}}}, nil
	case n.GetTransactionStmt() != nil:
		t := n.GetTransactionStmt()
		p := &prepared{kind: kindTx}
		switch t.Kind {
		case pg.TransactionStmtKind_TRANS_STMT_BEGIN, pg.TransactionStmtKind_TRANS_STMT_START:
			p.tx, p.tag = "BEGIN", "BEGIN"
			if t.Kind == pg.TransactionStmtKind_TRANS_STMT_START {
				p.tag = "START TRANSACTION"
			}
		case pg.TransactionStmtKind_TRANS_STMT_COMMIT:
			p.tx, p.tag = "COMMIT", "COMMIT"
		case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK:
			p.tx, p.tag = "ROLLBACK", "ROLLBACK"
		case pg.TransactionStmtKind_TRANS_STMT_SAVEPOINT:
			p.kind, p.tag = kindNoop, "SAVEPOINT"
		case pg.TransactionStmtKind_TRANS_STMT_RELEASE:
			p.kind, p.tag = kindNoop, "RELEASE"
		case pg.TransactionStmtKind_TRANS_STMT_ROLLBACK_TO:
			p.kind, p.tag = kindNoop, "ROLLBACK"
		default:
			return nil, errorf(CodeFeatureNotSupported, "two-phase commit is not supported")
		}
		return p, nil
	case n.GetInsertStmt() != nil:
		var ip *insertPlan
		b, err := s.bindTwice(query, paramTypes, func(b *binder) error {
			var err error
			ip, err = b.planInsert(n.GetInsertStmt())
			return err
		})
		if err != nil {
			return nil, err
		}
		return &prepared{kind: kindInsert, insert: ip, params: b.paramTypes()}, nil
	case n.GetDiscardStmt() != nil:
		return &prepared{kind: kindNoop, tag: "DISCARD ALL"}, nil
	case n.GetDeclareCursorStmt() != nil:
		return s.buildDeclare(n.GetDeclareCursorStmt(), query, paramTypes)
	case n.GetFetchStmt() != nil:
		return buildFetch(n.GetFetchStmt()), nil
	case n.GetClosePortalStmt() != nil:
		return buildClose(n.GetClosePortalStmt()), nil
	case n.GetCopyStmt() != nil:
		return nil, copyNotInProtocol(n.GetCopyStmt())
	case n.GetCreateStmt() != nil:
		return s.buildCreateTable(n.GetCreateStmt())
	case n.GetDropStmt() != nil:
		return s.buildDrop(n.GetDropStmt())
	case n.GetAlterTableStmt() != nil:
		return s.buildAlterTable(n.GetAlterTableStmt(), query)
	case n.GetRenameStmt() != nil:
		return s.buildRename(n.GetRenameStmt(), query)
	case n.GetAlterObjectSchemaStmt() != nil:
		return nil, errorf(CodeFeatureNotSupported, "ALTER %s ... SET SCHEMA is not supported", objectName(n.GetAlterObjectSchemaStmt().ObjectType))
	case n.GetUpdateStmt() != nil, n.GetDeleteStmt() != nil:
		return nil, errorf(CodeFeatureNotSupported, "UPDATE and DELETE are not supported")
	}
	return nil, errorf(CodeFeatureNotSupported, "statement not supported: %s", nodeKind(n))
}

func buildSet(v *pg.VariableSetStmt) (*prepared, error) {
	name := canonicalSetting(strings.ToLower(v.Name))
	switch v.Kind {
	case pg.VariableSetKind_VAR_RESET:
		return &prepared{kind: kindReset, name: name, tag: "RESET"}, nil
	case pg.VariableSetKind_VAR_RESET_ALL:
		return &prepared{kind: kindReset, tag: "RESET"}, nil
	case pg.VariableSetKind_VAR_SET_DEFAULT:
		return &prepared{kind: kindReset, name: name, tag: "SET"}, nil
	case pg.VariableSetKind_VAR_SET_MULTI, pg.VariableSetKind_VAR_SET_CURRENT:
		return &prepared{kind: kindNoop, tag: "SET"}, nil
	}
	var vals []string
	for _, a := range v.Args {
		switch {
		case a.GetAConst() != nil:
			c := a.GetAConst()
			switch x := c.Val.(type) {
			case *pg.A_Const_Sval:
				vals = append(vals, x.Sval.Sval)
			case *pg.A_Const_Ival:
				vals = append(vals, strconv.Itoa(int(x.Ival.Ival)))
			case *pg.A_Const_Fval:
				vals = append(vals, x.Fval.Fval)
			case *pg.A_Const_Boolval:
				if x.Boolval.Boolval {
					vals = append(vals, "on")
				} else {
					vals = append(vals, "off")
				}
			}
		case a.GetTypeCast() != nil: // SET TIME ZONE INTERVAL '...'
			return nil, errorf(CodeFeatureNotSupported, "SET TIME ZONE INTERVAL is not supported")
		default:
			return nil, errorf(CodeSyntaxError, "unsupported SET value")
		}
	}
	return &prepared{kind: kindSet, name: name, value: vals, tag: "SET"}, nil
}

// Result is the outcome of Execute. Iterate rows with Next and Row; after
// Next returns false, Err reports any error and Tag the command tag. Close
// releases the result; it is safe to call more than once. A Result is not
// safe for concurrent use.
//
// The statement runs to completion inside Execute: a Result holds its
// rows in column batches and converts one row at a time.
type Result struct {
	cols    []ResultColumn
	batches []*Batch
	bi, ri  int
	row     []any
	tag     string
	rows    int
	closed  bool
}

// Columns returns the result's columns (nil for statements without rows).
func (r *Result) Columns() []ResultColumn { return r.cols }

// Next advances to the next row.
func (r *Result) Next() bool {
	if r.closed {
		return false
	}
	for r.bi < len(r.batches) {
		b := r.batches[r.bi]
		if r.ri < b.Len {
			if r.row == nil {
				r.row = make([]any, len(r.cols))
			}
			for c := range r.cols {
				r.row[c] = rowValue(r.cols[c].Type, &b.Cols[c], r.ri)
			}
			r.ri++
			return true
		}
		r.bi++
		r.ri = 0
	}
	return false
}

// Row returns the current row: nil, bool, int64, float64, string,
// time.Time (UTC; a timestamp's wall clock as if in UTC) or Interval per
// column. The slice is reused by the next
// call to Next.
func (r *Result) Row() []any { return r.row }

// Err returns the error that ended iteration; rows are computed before
// Execute returns, so it is always nil.
func (r *Result) Err() error { return nil }

// Close releases the rows.
func (r *Result) Close() error {
	r.closed = true
	r.batches = nil
	return nil
}

// Tag is the command tag: "SELECT 3", "INSERT 0 5", "SET", "BEGIN", ...
func (r *Result) Tag() string { return r.tag }

// RowsAffected is the number of rows returned or inserted.
func (r *Result) RowsAffected() int { return r.rows }

// Execute runs the statement with parameter values (nil, bool, int64,
// float64, string, time.Time or []byte; text and []byte are parsed as the
// parameter's type). Cancelling ctx stops a running statement with 57014.
func (st *Stmt) Execute(ctx context.Context, params []any) (*Result, error) {
	res, err := st.execute(ctx, params)
	return res, asError(err)
}

func (st *Stmt) execute(ctx context.Context, params []any) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := st.replan(ctx); err != nil {
		return nil, err
	}
	p, s := st.prep, st.sess
	if len(params) != len(p.params) {
		return nil, errorf(CodeProtocolViolation, "bind message supplies %d parameters, but prepared statement requires %d", len(params), len(p.params))
	}
	ec := &execCtx{ctx: ctx, eng: s.eng, sess: s, now: s.eng.now().UnixNano(), loc: s.location()}
	for i, v := range params {
		c, err := paramValue(ec, v, p.params[i])
		if err != nil {
			return nil, err
		}
		ec.params = append(ec.params, c)
	}
	res := &Result{cols: p.cols, tag: p.tag}
	switch p.kind {
	case kindEmpty:
		res.tag = ""
	case kindNoop:
		if p.tag == "DISCARD ALL" {
			s.cursors = nil
		}
	case kindQuery:
		err := p.plan.run(ec, func(b *Batch) error {
			if err := ec.check(); err != nil {
				return err
			}
			res.batches = append(res.batches, copyBatch(b))
			res.rows += b.Len
			return nil
		})
		if err != nil && err != errStop {
			return nil, err
		}
		res.tag = "SELECT " + strconv.Itoa(res.rows)
	case kindExplain:
		lines := p.explain
		if p.explainRun != nil {
			x := &explainer{ec: ec}
			p.explainRun(x)
			if x.err != nil {
				return nil, x.err
			}
			lines = x.lines
		}
		res.batches = []*Batch{{Len: len(lines), Cols: []Vector{{Type: TypeText, Str: lines}}}}
		res.rows = len(lines)
		res.tag = "EXPLAIN"
	case kindSet:
		if err := s.Set(p.name, strings.Join(p.value, ", ")); err != nil {
			return nil, err
		}
	case kindReset:
		s.reset(p.name)
	case kindShow:
		res.tag = "SHOW"
		if p.name == "" {
			names := settingNames(s)
			v := []Vector{{Type: TypeText}, {Type: TypeText}, {Type: TypeText}}
			for _, n := range names {
				val, _ := s.setting(n)
				v[0].Str = append(v[0].Str, n)
				v[1].Str = append(v[1].Str, val)
				v[2].Str = append(v[2].Str, "")
			}
			res.batches = []*Batch{{Len: len(names), Cols: v}}
			res.rows = len(names)
			break
		}
		val, _ := s.setting(p.name)
		res.batches = []*Batch{{Len: 1, Cols: []Vector{{Type: TypeText, Str: []string{val}}}}}
		res.rows = 1
	case kindTx:
		switch p.tx {
		case "BEGIN":
			s.inTx = true
		default:
			s.inTx = false
			s.endTransaction()
		}
	case kindInsert:
		n, err := p.insert.run(ec)
		if err != nil {
			return nil, err
		}
		res.rows = n
		res.tag = "INSERT 0 " + strconv.Itoa(n)
	case kindDeclare, kindFetch, kindClose:
		if err := s.execCursor(ec, p, res); err != nil {
			return nil, err
		}
	case kindDDL:
		if err := p.ddl.run(ec); err != nil {
			return nil, err
		}
	case kindAlter:
		if err := p.alter.run(ec); err != nil {
			return nil, err
		}
	case kindSchemaCall:
		if err := p.call.run(ec, res); err != nil {
			return nil, err
		}
	}
	return res, nil
}

// paramValue converts a client's parameter value to a constant of type t
// (text without a zone for a timestamptz is in ec's time zone).
func paramValue(ec *execCtx, v any, t Type) (*constExpr, error) {
	c := &constExpr{typ: t}
	if t == TypeUnknown {
		c.typ = TypeText
	}
	var src *Vector
	switch x := v.(type) {
	case nil:
		c.null = true
		return c, nil
	case []byte:
		src = &Vector{Type: TypeText, Str: []string{string(x)}}
	case string:
		src = &Vector{Type: TypeText, Str: []string{x}}
	case bool:
		src = &Vector{Type: TypeBool, Bool: []bool{x}}
	case int:
		src = &Vector{Type: TypeInt8, I64: []int64{int64(x)}}
	case int32:
		src = &Vector{Type: TypeInt8, I64: []int64{int64(x)}}
	case int64:
		src = &Vector{Type: TypeInt8, I64: []int64{x}}
	case float32:
		src = &Vector{Type: TypeFloat8, F64: []float64{float64(x)}}
	case float64:
		src = &Vector{Type: TypeFloat8, F64: []float64{x}}
	case time.Time:
		if c.typ == TypeTimestamp { // the wall clock
			y, mo, d := x.Date()
			h, mi, sec := x.Clock()
			x = time.Date(y, mo, d, h, mi, sec, x.Nanosecond(), time.UTC)
			src = &Vector{Type: TypeTimestamp, I64: []int64{x.UnixNano()}}
			break
		}
		src = &Vector{Type: TypeTimestamptz, I64: []int64{x.UnixNano()}}
	case Interval:
		if c.typ == TypeInterval {
			c.i, c.days, c.months = int64(x.Days)*nsPerDay+x.Micros*1000, int64(x.Days), int64(x.Months)
			return c, nil
		}
		src = &Vector{Type: TypeInterval, I64: []int64{int64(x.Days)*nsPerDay + x.Micros*1000 + int64(x.Months)*30*nsPerDay}}
	case time.Duration:
		src = &Vector{Type: TypeInterval, I64: []int64{int64(x)}}
	default:
		return nil, errorf(CodeInvalidParameter, "unsupported parameter value of type %T", v)
	}
	if c.typ == TypeInterval && src.Type == TypeText {
		iv, err := parseInterval(src.Str[0])
		if err != nil {
			return nil, err
		}
		c.i, c.days, c.months = iv.ns+iv.days*nsPerDay, iv.days, iv.months
		return c, nil
	}
	if isIntType(c.typ) && src.Type == TypeFloat8 && src.F64[0] != math.Trunc(src.F64[0]) {
		return nil, errorf(CodeInvalidTextRepr, "invalid input syntax for type %s: \"%v\"", typeName(c.typ), src.F64[0])
	}
	out, err := castVec(ec, src, c.typ, 1)
	if err != nil {
		return nil, err
	}
	r := constFromVec(out, 0)
	r.typ = c.typ
	return r, nil
}
