package sql

import "sort"

// windowPlan computes window functions: its output is the input columns
// followed by one column per window function. It materialises its input,
// sorts it by each window's partition and order keys, and returns the
// rows in the order of the last window.
type windowPlan struct {
	in    plan
	specs []*winSpec
	cols  []colDesc
}

func (p *windowPlan) columns() []colDesc { return p.cols }

func (p *windowPlan) explain(x *explainer, depth int) {
	var ws []string
	for _, w := range p.specs {
		ws = append(ws, w.String())
	}
	x.line(depth, "Window %s", joinStrings(ws, ", "))
	p.in.explain(x, depth+1)
}

func joinStrings(s []string, sep string) string {
	out := ""
	for i, x := range s {
		if i > 0 {
			out += sep
		}
		out += x
	}
	return out
}

func evalAll(ec *execCtx, es []expr, b *Batch) ([]*Vector, error) {
	out := make([]*Vector, len(es))
	for i, e := range es {
		v, err := e.eval(ec, b)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

func (p *windowPlan) run(ec *execCtx, emit func(*Batch) error) error {
	t := newRowTable(planTypes(p.in))
	if err := p.in.run(ec, func(b *Batch) error {
		t.appendBatch(b)
		return nil
	}); err != nil {
		return err
	}
	n := t.n
	whole := &Batch{Len: n, Cols: t.cols}
	results := make([]Vector, len(p.specs))
	perm := allRows(n)
	for k, w := range p.specs {
		if err := ec.check(); err != nil {
			return err
		}
		pv, err := evalAll(ec, w.part, whole)
		if err != nil {
			return err
		}
		ov, err := evalAll(ec, w.order, whole)
		if err != nil {
			return err
		}
		var keys []sortKey
		var kc []Vector
		for i, v := range pv {
			keys = append(keys, sortKey{col: len(kc)})
			kc = append(kc, *v)
			_ = i
		}
		for i, v := range ov {
			sk := w.keys[i]
			sk.col = len(kc)
			keys = append(keys, sk)
			kc = append(kc, *v)
		}
		perm = allRows(n)
		if len(keys) > 0 {
			sort.SliceStable(perm, func(a, b int) bool {
				return compareRows(keys, kc, int(perm[a]), kc, int(perm[b])) < 0
			})
		}
		out := newVec(w.typ, n)
		out.Null = make([]bool, n)
		samePart := func(a, b int32) bool {
			for _, v := range pv {
				if !sameValue(v, int(a), v, int(b)) {
					return false
				}
			}
			return true
		}
		peer := func(a, b int32) bool {
			for _, v := range ov {
				if !sameValue(v, int(a), v, int(b)) {
					return false
				}
			}
			return true
		}
		args, err := evalAll(ec, w.args, whole)
		if err != nil {
			return err
		}
		var aggArgs []*Vector
		var filt *Vector
		if w.agg != nil {
			if aggArgs, err = evalAll(ec, w.agg.args, whole); err != nil {
				return err
			}
			if w.agg.filter != nil {
				if filt, err = w.agg.filter.eval(ec, whole); err != nil {
					return err
				}
			}
		}
		for i := 0; i < n; {
			j := i + 1
			for j < n && samePart(perm[i], perm[j]) {
				j++
			}
			if err := p.computePartition(ec, w, perm[i:j], peer, args, aggArgs, filt, out); err != nil {
				return err
			}
			i = j
		}
		results[k] = *out
	}
	all := &Batch{Len: n, Cols: append(append([]Vector{}, t.cols...), results...)}
	rt := &rowTable{cols: all.Cols, n: n}
	return rt.emitRows(perm, emit)
}

// computePartition fills out for the rows P of one partition (in window
// order).
func (p *windowPlan) computePartition(ec *execCtx, w *winSpec, P []int32, peer func(a, b int32) bool, args, aggArgs []*Vector, filt *Vector, out *Vector) error {
	m := len(P)
	// peer group bounds
	pstart := make([]int, m)
	pend := make([]int, m)
	for i := 0; i < m; {
		j := i + 1
		for j < m && peer(P[i], P[j]) {
			j++
		}
		for k := i; k < j; k++ {
			pstart[k], pend[k] = i, j-1
		}
		i = j
	}
	set := func(pos int, src *Vector, row int) {
		setVal(out, int(P[pos]), src, row)
	}
	switch w.name {
	case "row_number", "rank", "dense_rank":
		if w.agg != nil {
			break
		}
		dense := int64(0)
		for pos := range m {
			if pos == pstart[pos] {
				dense++
			}
			r := int64(pos + 1)
			switch w.name {
			case "rank":
				r = int64(pstart[pos] + 1)
			case "dense_rank":
				r = dense
			}
			out.I64[P[pos]] = r
		}
		return nil
	case "lag", "lead":
		if w.agg != nil {
			break
		}
		for pos := range m {
			off := int64(1)
			if len(args) >= 2 {
				if args[1].isNull(int(P[pos])) {
					out.Null[P[pos]] = true
					continue
				}
				off = args[1].I64[P[pos]]
			}
			if w.name == "lag" {
				off = -off
			}
			q := int64(pos) + off
			switch {
			case q >= 0 && q < int64(m):
				set(pos, args[0], int(P[q]))
			case len(args) == 3:
				set(pos, args[2], int(P[pos]))
			default:
				out.Null[P[pos]] = true
			}
		}
		return nil
	}
	bounds := func(pos int) (int, int) {
		fr := w.frame
		fs, fe := 0, m-1
		switch {
		case fr.startUnb:
		case fr.startCur && !fr.rows:
			fs = pstart[pos]
		case fr.startCur:
			fs = pos
		default:
			fs = pos + int(fr.startOff)
		}
		switch {
		case fr.endUnb:
		case fr.endCur && !fr.rows:
			fe = pend[pos]
		case fr.endCur:
			fe = pos
		default:
			fe = pos + int(fr.endOff)
		}
		return max(fs, 0), min(fe, m-1)
	}
	if w.agg == nil { // first_value, last_value
		for pos := range m {
			fs, fe := bounds(pos)
			switch {
			case fs > fe:
				out.Null[P[pos]] = true
			case w.name == "first_value":
				set(pos, args[0], int(P[fs]))
			default:
				set(pos, args[0], int(P[fe]))
			}
		}
		return nil
	}
	// aggregates over the frame
	types := make([]Type, len(aggArgs))
	for i, a := range aggArgs {
		types[i] = a.Type
	}
	feed := func(st aggState, lo, hi int) error { // rows P[lo:hi]
		if hi <= lo {
			return nil
		}
		sel := P[lo:hi]
		sub := make([]*Vector, len(aggArgs))
		for i, a := range aggArgs {
			g := gather(a, sel)
			sub[i] = &g
		}
		gids := make([]int32, len(sel))
		if filt != nil {
			for k, r := range sel {
				if filt.isNull(int(r)) || !filt.Bool[r] {
					gids[k] = -1
				}
			}
		}
		return st.update(1, gids, sub, len(sel))
	}
	var st aggState
	fed := 0
	var err error
	for pos := range m {
		fs, fe := bounds(pos)
		if !w.frame.startUnb || st == nil || fe+1 < fed {
			if st, err = newAggState(ec, w.agg, types); err != nil {
				return err
			}
			fed = fs
		}
		if err := feed(st, fed, fe+1); err != nil {
			return err
		}
		fed = max(fed, fe+1)
		r := st.result(1)
		setVal(out, int(P[pos]), r, 0)
	}
	return nil
}
