package sql

import (
	pg "github.com/pganalyze/pg_query_go/v6"
)

// Subqueries in expressions are uncorrelated: each runs once per
// execution, the first time a batch needs it.

const (
	subScalar = iota
	subExists
	subIn
)

type subqExpr struct {
	kind int
	p    plan
	arg  expr // subIn: the tested value
	typ  Type
}

type subqResult struct {
	t       *rowTable
	ht      *hashTable
	hasNull bool
}

func (e *subqExpr) Type() Type { return e.typ }
func (e *subqExpr) String() string {
	switch e.kind {
	case subExists:
		return "EXISTS (subquery)"
	case subIn:
		return "(" + e.arg.String() + " IN (subquery))"
	}
	return "(subquery)"
}
func (e *subqExpr) children() []expr {
	if e.arg != nil {
		return []expr{e.arg}
	}
	return nil
}
func (e *subqExpr) withChildren(c []expr) expr {
	x := *e
	if len(c) > 0 {
		x.arg = c[0]
	}
	return &x
}

func (ec *execCtx) subResult(e *subqExpr) (*subqResult, error) {
	if r, ok := ec.subq[e]; ok {
		return r, nil
	}
	r := &subqResult{t: newRowTable(planTypes(e.p))}
	err := e.p.run(ec, func(b *Batch) error {
		r.t.appendBatch(b)
		if e.kind == subScalar && r.t.n > 1 {
			return errorf(CodeCardinalityViolation, "more than one row returned by a subquery used as an expression")
		}
		if e.kind == subExists && r.t.n > 0 {
			return errStop
		}
		return nil
	})
	if err != nil && err != errStop {
		return nil, err
	}
	if e.kind == subIn {
		col := &r.t.cols[0]
		r.ht = newHashTable([]Type{col.Type})
		gids := make([]int32, r.t.n)
		r.ht.lookup([]*Vector{col}, r.t.n, gids, true)
		r.hasNull = col.hasNulls()
	}
	if ec.subq == nil {
		ec.subq = map[*subqExpr]*subqResult{}
	}
	ec.subq[e] = r
	return r, nil
}

func (e *subqExpr) eval(ec *execCtx, b *Batch) (*Vector, error) {
	r, err := ec.subResult(e)
	if err != nil {
		return nil, err
	}
	n := b.Len
	switch e.kind {
	case subScalar:
		if r.t.n == 0 {
			return (&constExpr{typ: e.typ, null: true}).fill(n), nil
		}
		return constFromVec(&r.t.cols[0], 0).fill(n), nil
	case subExists:
		return (&constExpr{typ: TypeBool, b: r.t.n > 0}).fill(n), nil
	}
	v, err := e.arg.eval(ec, b)
	if err != nil {
		return nil, err
	}
	gids := make([]int32, n)
	r.ht.lookup([]*Vector{v}, n, gids, false)
	return inResult(v, n, false, func(i int, found, sawNull *bool) {
		*found = gids[i] >= 0
		*sawNull = r.hasNull
	}), nil
}

func (b *binder) bindSubLink(sl *pg.SubLink, sc *scope, blk *block) (expr, error) {
	p, err := b.planQuery(sl.Subselect)
	if err != nil {
		return nil, err
	}
	cols := p.columns()
	switch sl.SubLinkType {
	case pg.SubLinkType_EXISTS_SUBLINK:
		return &subqExpr{kind: subExists, p: p, typ: TypeBool}, nil
	case pg.SubLinkType_EXPR_SUBLINK:
		if len(cols) != 1 {
			return nil, errAt(CodeSyntaxError, sl.Location, "subquery must return only one column")
		}
		return &subqExpr{kind: subScalar, p: p, typ: cols[0].typ}, nil
	case pg.SubLinkType_ANY_SUBLINK:
		if len(sl.OperName) > 0 && strVal(sl.OperName[len(sl.OperName)-1]) != "=" {
			return nil, errAt(CodeFeatureNotSupported, sl.Location, "only = ANY (subquery) and IN (subquery) are supported")
		}
		if len(cols) != 1 {
			return nil, errAt(CodeSyntaxError, sl.Location, "subquery has too many columns")
		}
		arg, err := b.bindExpr(sl.Testexpr, sc, blk)
		if err != nil {
			return nil, err
		}
		ct, err := commonType([]expr{arg, &constExpr{typ: cols[0].typ, null: true}}, sl.Location, "IN")
		if err != nil {
			return nil, err
		}
		if arg, err = b.coerce(arg, ct); err != nil {
			return nil, err
		}
		if ct != cols[0].typ {
			p = &projectPlan{in: p, exprs: []expr{&castExpr{arg: &colRef{idx: 0, typ: cols[0].typ, name: cols[0].name}, to: ct}}, cols: []colDesc{{name: cols[0].name, typ: ct}}}
		}
		return &subqExpr{kind: subIn, p: p, arg: arg, typ: TypeBool}, nil
	}
	return nil, errAt(CodeFeatureNotSupported, sl.Location, "this kind of subquery is not supported")
}
