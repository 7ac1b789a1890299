package sql

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// joinPlan is a hash join (or a nested-loop cross join without keys). Its
// output is the left columns followed by the right columns. The right side
// is built into a hash table; left rows probe it.
type joinPlan struct {
	left, right plan
	leftOuter   bool
	lkeys       []expr // on the left input
	rkeys       []expr // on the right input
	residual    expr   // on the joined row; nil = none
	cols        []colDesc
}

func newJoin(l, r plan, leftOuter bool, lkeys, rkeys []expr, residual expr) *joinPlan {
	j := &joinPlan{left: l, right: r, leftOuter: leftOuter, lkeys: lkeys, rkeys: rkeys, residual: residual}
	j.cols = append(append([]colDesc{}, l.columns()...), r.columns()...)
	return j
}

func (p *joinPlan) columns() []colDesc { return p.cols }

func (p *joinPlan) run(ec *execCtx, emit func(*Batch) error) error {
	rt := newRowTable(planTypes(p.right))
	if err := p.right.run(ec, func(b *Batch) error {
		rt.appendBatch(b)
		return nil
	}); err != nil {
		return err
	}
	rb := &Batch{Len: rt.n, Cols: rt.cols}
	// build: group right rows by key; rows with a NULL key never match
	var ht *hashTable
	var first, next []int32
	if len(p.rkeys) > 0 {
		kt := make([]Type, len(p.rkeys))
		kv := make([]*Vector, len(p.rkeys))
		for i, k := range p.rkeys {
			kt[i] = k.Type()
			v, err := k.eval(ec, rb)
			if err != nil {
				return err
			}
			kv[i] = v
		}
		ht = newHashTable(kt)
		gids := make([]int32, rt.n)
		ht.lookup(kv, rt.n, gids, true)
		first = make([]int32, ht.n)
		for i := range first {
			first[i] = -1
		}
		next = make([]int32, rt.n)
		for r := rt.n - 1; r >= 0; r-- {
			null := false
			for _, v := range kv {
				null = null || v.isNull(r)
			}
			if null {
				continue
			}
			g := gids[r]
			next[r] = first[g]
			first[g] = int32(r)
		}
	}
	nl := len(p.left.columns())
	return p.left.run(ec, func(b *Batch) error {
		var li, ri []int32
		if ht == nil {
			for i := 0; i < b.Len; i++ {
				for r := 0; r < rt.n; r++ {
					li, ri = append(li, int32(i)), append(ri, int32(r))
				}
			}
		} else {
			kv := make([]*Vector, len(p.lkeys))
			for i, k := range p.lkeys {
				v, err := k.eval(ec, b)
				if err != nil {
					return err
				}
				kv[i] = v
			}
			gids := make([]int32, b.Len)
			ht.lookup(kv, b.Len, gids, false)
			for i, g := range gids {
				if g < 0 {
					continue
				}
				for r := first[g]; r >= 0; r = next[r] {
					li, ri = append(li, int32(i)), append(ri, r)
				}
			}
		}
		out := p.pairs(b, rb, li, ri)
		matched := make([]bool, b.Len)
		if p.residual != nil && out.Len > 0 {
			v, err := p.residual.eval(ec, out)
			if err != nil {
				return err
			}
			var sel []int32
			for k := range out.Len {
				if !v.isNull(k) && v.Bool[k] {
					sel = append(sel, int32(k))
					matched[li[k]] = true
				}
			}
			out = gatherBatch(out, sel)
		} else {
			for _, i := range li {
				matched[i] = true
			}
		}
		if p.leftOuter {
			var miss []int32
			for i, m := range matched {
				if !m {
					miss = append(miss, int32(i))
				}
			}
			if len(miss) > 0 {
				ext := p.pairs(b, rb, miss, make([]int32, len(miss)))
				for c := nl; c < len(ext.Cols); c++ {
					ext.Cols[c].Null = make([]bool, len(miss))
					for k := range ext.Cols[c].Null {
						ext.Cols[c].Null[k] = true
					}
				}
				if out.Len > 0 {
					if err := emit(out); err != nil {
						return err
					}
				}
				out = ext
			}
		}
		if out.Len == 0 {
			return nil
		}
		return emit(out)
	})
}

// pairs builds the joined rows (left row li[k], right row ri[k]).
func (p *joinPlan) pairs(l, r *Batch, li, ri []int32) *Batch {
	out := &Batch{Len: len(li), Cols: make([]Vector, 0, len(p.cols))}
	for c := range l.Cols {
		out.Cols = append(out.Cols, gather(&l.Cols[c], li))
	}
	for c := range r.Cols {
		if r.Len == 0 {
			v := newVec(r.Cols[c].Type, len(ri))
			out.Cols = append(out.Cols, *v)
			continue
		}
		out.Cols = append(out.Cols, gather(&r.Cols[c], ri))
	}
	return out
}

func (p *joinPlan) explain(x *explainer, depth int) {
	kind := "Hash Join"
	if len(p.lkeys) == 0 {
		kind = "Nested Loop"
	}
	if p.leftOuter {
		kind += " (left)"
	}
	var conds []string
	for i := range p.lkeys {
		conds = append(conds, p.lkeys[i].String()+" = "+p.rkeys[i].String())
	}
	if p.residual != nil {
		conds = append(conds, p.residual.String())
	}
	if len(conds) > 0 {
		kind += " on " + strings.Join(conds, " AND ")
	}
	x.line(depth, "%s", kind)
	p.left.explain(x, depth+1)
	p.right.explain(x, depth+1)
}

// refsSide tells whether e references only columns below n (left), only
// columns at or above n (right), or both / none.
func refsSide(e expr, n int) (left, right bool) {
	walkExpr(e, func(x expr) {
		if c, ok := x.(*colRef); ok {
			if c.idx < n {
				left = true
			} else {
				right = true
			}
		}
	})
	return
}

// shiftCols moves column references by delta.
func shiftCols(e expr, delta int) expr {
	out, _ := rewriteExpr(e, func(x expr) (expr, bool, error) {
		if c, ok := x.(*colRef); ok {
			return &colRef{idx: c.idx + delta, typ: c.typ, name: c.name}, true, nil
		}
		return x, false, nil
	})
	return out
}

func (b *binder) planJoin(j *pg.JoinExpr) (plan, *scope, error) {
	if j.IsNatural {
		return nil, nil, errorf(CodeFeatureNotSupported, "NATURAL JOIN is not supported")
	}
	lp, lsc, err := b.planFromItem(j.Larg)
	if err != nil {
		return nil, nil, err
	}
	rp, rsc, err := b.planFromItem(j.Rarg)
	if err != nil {
		return nil, nil, err
	}
	var right, leftOuter bool
	switch j.Jointype {
	case pg.JoinType_JOIN_INNER:
	case pg.JoinType_JOIN_LEFT:
		leftOuter = true
	case pg.JoinType_JOIN_RIGHT:
		right, leftOuter = true, true
	default:
		return nil, nil, errorf(CodeFeatureNotSupported, "FULL JOIN is not supported")
	}
	nl := len(lsc.cols)
	sc := &scope{cols: append(append([]scopeCol{}, lsc.cols...), rsc.cols...)}
	var conds []expr
	for _, u := range nameList(j.UsingClause) {
		li, err := b.resolveCol(lsc, "", u, -1)
		if err != nil {
			return nil, nil, err
		}
		ri, err := b.resolveCol(rsc, "", u, -1)
		if err != nil {
			return nil, nil, err
		}
		sc.cols[nl+ri].noUnqal = true
		sc.cols[nl+ri].hidden = true
		lc, rc := &sc.cols[li], &sc.cols[nl+ri]
		eq, err := b.binary("=", &colRef{idx: li, typ: lc.typ, name: colName(lc)}, &colRef{idx: nl + ri, typ: rc.typ, name: colName(rc)}, -1)
		if err != nil {
			return nil, nil, err
		}
		conds = append(conds, eq)
	}
	if j.Quals != nil {
		q, err := b.bindExpr(j.Quals, sc, nil)
		if err != nil {
			return nil, nil, err
		}
		if q, err = b.boolArg(q, "argument of JOIN/ON", -1); err != nil {
			return nil, nil, err
		}
		conds = append(conds, conjuncts(q)...)
	}
	var lkeys, rkeys, resid []expr
	for _, c := range conds {
		if be, ok := c.(*binExpr); ok && be.mode == modeCmp && be.op == "=" {
			ll, lr := refsSide(be.l, nl)
			rl, rr := refsSide(be.r, nl)
			switch {
			case ll && !lr && rr && !rl:
				lkeys, rkeys = append(lkeys, be.l), append(rkeys, shiftCols(be.r, -nl))
				continue
			case rl && !rr && lr && !ll:
				lkeys, rkeys = append(lkeys, be.r), append(rkeys, shiftCols(be.l, -nl))
				continue
			}
		}
		resid = append(resid, c)
	}
	var residual expr
	switch len(resid) {
	case 0:
	case 1:
		residual = resid[0]
	default:
		residual = &boolExpr{and: true, args: resid}
	}
	if !right {
		return newJoin(lp, rp, leftOuter, lkeys, rkeys, residual), sc, nil
	}
	// RIGHT JOIN: a left join the other way round, columns put back.
	nr := len(rsc.cols)
	swap := func(e expr) expr {
		out, _ := rewriteExpr(e, func(x expr) (expr, bool, error) {
			if c, ok := x.(*colRef); ok {
				if c.idx < nl {
					return &colRef{idx: c.idx + nr, typ: c.typ, name: c.name}, true, nil
				}
				return &colRef{idx: c.idx - nl, typ: c.typ, name: c.name}, true, nil
			}
			return x, false, nil
		})
		return out
	}
	if residual != nil {
		residual = swap(residual)
	}
	jp := newJoin(rp, lp, true, rkeys, lkeys, residual)
	pp := &projectPlan{in: jp}
	for i := range nl {
		c := jp.cols[nr+i]
		pp.exprs = append(pp.exprs, &colRef{idx: nr + i, typ: c.typ, name: c.name})
		pp.cols = append(pp.cols, c)
	}
	for i := range nr {
		c := jp.cols[i]
		pp.exprs = append(pp.exprs, &colRef{idx: i, typ: c.typ, name: c.name})
		pp.cols = append(pp.cols, c)
	}
	return pp, sc, nil
}
