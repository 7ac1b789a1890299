package sql

import (
	"container/heap"
	"fmt"
	"math"
	"sort"
	"strings"
)

// colDesc is one output column of a plan.
type colDesc struct {
	name string
	typ  Type
}

// plan is an immutable operator tree. Execution is push-based: run calls
// emit with each output batch and returns when its input is exhausted (or
// when emit returns an error; errStop ends a pipeline early). Plans may be
// cached and run concurrently; per-run state lives in run's locals and in
// execCtx.
type plan interface {
	columns() []colDesc
	run(ec *execCtx, emit func(*Batch) error) error
	explain(x *explainer, depth int)
}

// explainer collects EXPLAIN output lines. While a statement runs, ec is
// set and plans may add what only execution knows; err is the first error
// doing so.
type explainer struct {
	lines []string
	ec    *execCtx
	err   error
}

func (x *explainer) line(depth int, format string, args ...any) {
	x.lines = append(x.lines, strings.Repeat("  ", depth)+fmt.Sprintf(format, args...))
}

func exprList(es []expr) string {
	p := make([]string, len(es))
	for i, e := range es {
		p[i] = e.String()
	}
	return strings.Join(p, ", ")
}

// timeBound is one pushed-down comparison of the time column.
type timeBound struct {
	op string // ">", ">=", "<", "<=", "="
	e  expr   // stable, of a timestamp type
}

// scanPlan reads a table through the Scanner. Its output is time followed
// by cols[1:] (the columns the query uses, in table order).
type scanPlan struct {
	table   TableInfo
	alias   string
	cols    []colDesc
	kinds   []ColumnKind
	fetch   []string // ScanSpec.Columns
	bounds  []timeBound
	tagPush []tagPush
	// lastPerSeries: only the newest row of each series is needed (set by
	// the DISTINCT ON rewrite in bind_select.go).
	lastPerSeries bool
	// fieldPush are numeric field comparisons handed to the scan as
	// FieldFilters (they also stay in the query's filter).
	fieldPush []fieldPush
}

// fieldPush is a field comparison whose constant is evaluated at run time.
type fieldPush struct {
	col string
	op  string
	e   expr
}

func (p *scanPlan) columns() []colDesc { return p.cols }

// timeRange evaluates the pushed-down bounds; ok is false when no row can
// match.
func (p *scanPlan) timeRange(ec *execCtx) (lo, hi int64, ok bool, err error) {
	lo, hi = math.MinInt64, math.MaxInt64
	for _, b := range p.bounds {
		v, err := evalScalar(ec, b.e)
		if err != nil {
			return 0, 0, false, err
		}
		if v.isNull(0) {
			return 0, 0, false, nil
		}
		x := v.I64[0]
		switch b.op {
		case ">":
			if x == math.MaxInt64 {
				return 0, 0, false, nil
			}
			lo = max(lo, x+1)
		case ">=":
			lo = max(lo, x)
		case "<":
			if x == math.MinInt64 {
				return 0, 0, false, nil
			}
			hi = min(hi, x-1)
		case "<=":
			hi = min(hi, x)
		case "=":
			lo, hi = max(lo, x), min(hi, x)
		}
	}
	return lo, hi, lo <= hi, nil
}

// spec evaluates the pushed-down predicates; ok is false when no row can
// match.
func (p *scanPlan) spec(ec *execCtx) (ScanSpec, bool, error) {
	lo, hi, ok, err := p.timeRange(ec)
	if err != nil || !ok {
		return ScanSpec{}, false, err
	}
	tags, ok, err := p.tagFilters(ec)
	if err != nil || !ok {
		return ScanSpec{}, false, err
	}
	var ffs []FieldFilter
	for _, f := range p.fieldPush {
		v, err := evalScalar(ec, f.e)
		if err != nil {
			return ScanSpec{}, false, err
		}
		if v.isNull(0) {
			return ScanSpec{}, false, nil // field op NULL is never true
		}
		x := 0.0
		switch {
		case len(v.F64) > 0:
			x = v.F64[0]
		case len(v.I64) > 0:
			x = float64(v.I64[0])
		default:
			continue
		}
		// The scan compares in float64, where distinct bigints beyond 2^53
		// can round to the same value: a strict comparison is made
		// inclusive so the hint never rejects a row the filter keeps.
		op := f.op
		switch op {
		case "<":
			op = "<="
		case ">":
			op = ">="
		}
		ffs = append(ffs, FieldFilter{Column: f.col, Op: op, Value: x})
	}
	return ScanSpec{
		FieldFilters: ffs,
		Tenant:       ec.sess.tenant, Database: p.table.Database, Table: p.table.Name,
		MinTime: lo, MaxTime: hi, TagFilters: tags, Columns: p.fetch, Types: p.fetchTypes(),
		LastPerSeries: p.lastPerSeries,
	}, true, nil
}

// fetchTypes are the types of the fetched columns, in fetch order (they
// follow time in p.cols).
func (p *scanPlan) fetchTypes() []Type {
	out := make([]Type, 0, len(p.fetch))
	for _, c := range p.cols[1:] {
		out = append(out, c.typ)
	}
	if len(out) != len(p.fetch) {
		return nil
	}
	return out
}

func (p *scanPlan) run(ec *execCtx, emit func(*Batch) error) error {
	spec, ok, err := p.spec(ec)
	if err != nil || !ok {
		return err
	}
	err = ec.eng.scan.Scan(ec.ctx, spec, func(b *Batch) error {
		if err := ec.check(); err != nil {
			return err
		}
		if b.Len == 0 {
			return nil
		}
		return emit(b)
	})
	if err == errStop {
		return err
	}
	if err != nil {
		return asError(err)
	}
	return nil
}

func (p *scanPlan) explain(x *explainer, depth int) {
	name := p.table.Name
	if p.alias != "" && p.alias != p.table.Name {
		name += " AS " + p.alias
	}
	x.line(depth, "Scan %s", name)
	var tb []string
	for _, b := range p.bounds {
		tb = append(tb, "time "+b.op+" "+b.e.String())
	}
	if len(tb) == 0 {
		tb = []string{"all"}
	}
	x.line(depth+1, "time: %s", strings.Join(tb, " AND "))
	if len(p.tagPush) > 0 {
		var ts []string
		for _, t := range p.tagPush {
			ts = append(ts, tagPushString(t))
		}
		x.line(depth+1, "tags: %s", strings.Join(ts, " AND "))
	}
	x.line(depth+1, "columns: %s", strings.Join(append([]string{"time"}, p.fetch...), ", "))
	if len(p.fieldPush) > 0 {
		var fs []string
		for _, f := range p.fieldPush {
			fs = append(fs, f.col+" "+f.op+" "+f.e.String())
		}
		x.line(depth+1, "field filters: %s", strings.Join(fs, " AND "))
	}
	if p.lastPerSeries {
		x.line(depth+1, "rows: last per series")
	}
	if se, ok := x.ec.scanExplainer(); ok && x.err == nil {
		spec, ok, err := p.spec(x.ec)
		if err == nil && ok {
			var lines []string
			lines, err = se.ExplainScan(x.ec.ctx, spec)
			for _, l := range lines {
				x.line(depth+1, "%s", l)
			}
		}
		if err != nil {
			x.err = asError(err)
		}
	}
}

// scanExplainer returns the engine's scanner as a ScanExplainer, if it is
// one and the statement is running.
func (ec *execCtx) scanExplainer() (ScanExplainer, bool) {
	if ec == nil {
		return nil, false
	}
	se, ok := ec.eng.scan.(ScanExplainer)
	return se, ok
}

func tagPushString(t tagPush) string {
	switch t.op {
	case TagEq:
		return t.key + " = " + t.vals[0].String()
	case TagNe:
		return t.key + " <> " + t.vals[0].String()
	case TagIn:
		return t.key + " IN (" + exprList(t.vals) + ")"
	}
	return t.key + " NOT IN (" + exprList(t.vals) + ")"
}

// valuesPlan produces constant rows (SELECT without FROM, VALUES).
type valuesPlan struct {
	cols []colDesc
	rows [][]expr
}

func (p *valuesPlan) columns() []colDesc { return p.cols }
func (p *valuesPlan) run(ec *execCtx, emit func(*Batch) error) error {
	types := make([]Type, len(p.cols))
	for i, c := range p.cols {
		types[i] = c.typ
	}
	t := newRowTable(types)
	one := &Batch{Len: 1}
	for _, r := range p.rows {
		for c, e := range r {
			v, err := e.eval(ec, one)
			if err != nil {
				return err
			}
			if v.Type != types[c] {
				if v, err = castVec(ec, v, types[c], 1); err != nil {
					return err
				}
			}
			appendRow(&t.cols[c], v, 0)
		}
		t.n++
	}
	if len(p.cols) == 0 {
		return emit(&Batch{Len: len(p.rows)})
	}
	return t.emitAll(emit)
}
func (p *valuesPlan) explain(x *explainer, depth int) {
	if len(p.cols) == 0 {
		x.line(depth, "Result")
		return
	}
	x.line(depth, "Values (%d rows)", len(p.rows))
}

// filterPlan keeps the rows where pred is true.
type filterPlan struct {
	in   plan
	pred expr
}

func (p *filterPlan) columns() []colDesc { return p.in.columns() }
func (p *filterPlan) run(ec *execCtx, emit func(*Batch) error) error {
	var sel []int32
	return p.in.run(ec, func(b *Batch) error {
		v, err := p.pred.eval(ec, b)
		if err != nil {
			return err
		}
		sel = sel[:0]
		for i := 0; i < b.Len; i++ {
			if v.Bool[i] && (v.Null == nil || !v.Null[i]) {
				sel = append(sel, int32(i))
			}
		}
		switch len(sel) {
		case 0:
			return nil
		case b.Len:
			return emit(b)
		}
		return emit(gatherBatch(b, sel))
	})
}
func (p *filterPlan) explain(x *explainer, depth int) {
	x.line(depth, "Filter %s", p.pred.String())
	p.in.explain(x, depth+1)
}

// projectPlan computes expressions over its input.
type projectPlan struct {
	in    plan
	exprs []expr
	cols  []colDesc
}

func (p *projectPlan) columns() []colDesc { return p.cols }
func (p *projectPlan) run(ec *execCtx, emit func(*Batch) error) error {
	return p.in.run(ec, func(b *Batch) error {
		out := &Batch{Len: b.Len, Cols: make([]Vector, len(p.exprs))}
		for i, e := range p.exprs {
			v, err := e.eval(ec, b)
			if err != nil {
				return err
			}
			out.Cols[i] = *v
			out.Cols[i].Type = p.cols[i].typ
		}
		return emit(out)
	})
}
func (p *projectPlan) explain(x *explainer, depth int) {
	x.line(depth, "Project %s", exprList(p.exprs))
	p.in.explain(x, depth+1)
}

// limitPlan skips offset rows and passes at most limit rows (nil = all).
type limitPlan struct {
	in            plan
	limit, offset expr
}

func (p *limitPlan) columns() []colDesc { return p.in.columns() }

func evalCount(ec *execCtx, e expr, what string) (int64, bool, error) {
	if e == nil {
		return 0, false, nil
	}
	v, err := evalScalar(ec, e)
	if err != nil {
		return 0, false, err
	}
	if v.isNull(0) {
		return 0, false, nil
	}
	x := v.I64[0]
	if x < 0 {
		return 0, false, errorf("2201W", "%s must not be negative", what)
	}
	return x, true, nil
}

func (p *limitPlan) run(ec *execCtx, emit func(*Batch) error) error {
	limit, hasLimit, err := evalCount(ec, p.limit, "LIMIT")
	if err != nil {
		return err
	}
	offset, _, err := evalCount(ec, p.offset, "OFFSET")
	if err != nil {
		return err
	}
	if hasLimit && limit == 0 {
		return nil
	}
	err = p.in.run(ec, func(b *Batch) error {
		lo, hi := 0, b.Len
		if offset > 0 {
			skip := min(int64(b.Len), offset)
			offset -= skip
			lo = int(skip)
		}
		if hasLimit && int64(hi-lo) > limit {
			hi = lo + int(limit)
		}
		if hi > lo {
			if lo > 0 || hi < b.Len {
				nb := &Batch{Len: hi - lo, Cols: make([]Vector, len(b.Cols))}
				for c := range b.Cols {
					nb.Cols[c] = sliceVec(&b.Cols[c], lo, hi)
				}
				b = nb
			}
			if hasLimit {
				limit -= int64(b.Len)
			}
			if err := emit(b); err != nil {
				return err
			}
		}
		if hasLimit && limit == 0 {
			return errStop
		}
		return nil
	})
	if err == errStop {
		return nil
	}
	return err
}
func (p *limitPlan) explain(x *explainer, depth int) {
	var parts []string
	if p.limit != nil {
		parts = append(parts, "limit="+p.limit.String())
	}
	if p.offset != nil {
		parts = append(parts, "offset="+p.offset.String())
	}
	x.line(depth, "Limit %s", strings.Join(parts, " "))
	p.in.explain(x, depth+1)
}

// sortKey orders by one input column.
type sortKey struct {
	col        int
	desc       bool
	nullsFirst bool
}

// compareRows orders row i of a against row j of b by keys.
func compareRows(keys []sortKey, a []Vector, i int, b []Vector, j int) int {
	for _, k := range keys {
		x, y := &a[k.col], &b[k.col]
		xn, yn := x.isNull(i), y.isNull(j)
		var c int
		switch {
		case xn && yn:
			c = 0
		case xn || yn:
			c = 1 // x NULL sorts after y
			if k.nullsFirst {
				c = -1
			}
			if !xn {
				c = -c
			}
			return c
		default:
			c = compareValues(x, i, y, j)
			if k.desc {
				c = -c
			}
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// sortPlan sorts its input; with limit set (limit+offset rows are
// needed) it keeps only the best rows in a heap (top-N).
type sortPlan struct {
	in    plan
	keys  []sortKey
	limit expr // rows needed (LIMIT + OFFSET); nil = all
}

func (p *sortPlan) columns() []colDesc { return p.in.columns() }

func planTypes(p plan) []Type {
	cs := p.columns()
	t := make([]Type, len(cs))
	for i, c := range cs {
		t[i] = c.typ
	}
	return t
}

func (p *sortPlan) run(ec *execCtx, emit func(*Batch) error) error {
	n, hasN, err := evalCount(ec, p.limit, "LIMIT")
	if err != nil {
		return err
	}
	if hasN {
		return p.runTopN(ec, int(n), emit)
	}
	t := newRowTable(planTypes(p.in))
	if err := p.in.run(ec, func(b *Batch) error {
		t.appendBatch(b)
		return nil
	}); err != nil {
		return err
	}
	idx := allRows(t.n)
	sort.SliceStable(idx, func(a, b int) bool {
		return compareRows(p.keys, t.cols, int(idx[a]), t.cols, int(idx[b])) < 0
	})
	return t.emitRows(idx, emit)
}

// topHeap is a max-heap (worst row on top) of row indexes into a table.
type topHeap struct {
	keys []sortKey
	t    *rowTable
	idx  []int32
}

func (h *topHeap) Len() int { return len(h.idx) }
func (h *topHeap) Less(a, b int) bool {
	c := compareRows(h.keys, h.t.cols, int(h.idx[a]), h.t.cols, int(h.idx[b]))
	if c == 0 {
		return h.idx[a] > h.idx[b] // later rows are worse: keeps the sort stable
	}
	return c > 0
}
func (h *topHeap) Swap(a, b int) { h.idx[a], h.idx[b] = h.idx[b], h.idx[a] }
func (h *topHeap) Push(x any)    { h.idx = append(h.idx, x.(int32)) }
func (h *topHeap) Pop() any {
	x := h.idx[len(h.idx)-1]
	h.idx = h.idx[:len(h.idx)-1]
	return x
}

func (p *sortPlan) runTopN(ec *execCtx, n int, emit func(*Batch) error) error {
	if n == 0 {
		return p.in.run(ec, func(*Batch) error { return errStop })
	}
	types := planTypes(p.in)
	h := &topHeap{keys: p.keys, t: newRowTable(types)}
	err := p.in.run(ec, func(b *Batch) error {
		for i := 0; i < b.Len; i++ {
			if len(h.idx) < n {
				h.t.appendRowFrom(b, i)
				heap.Push(h, int32(h.t.n-1))
				continue
			}
			if compareRows(p.keys, b.Cols, i, h.t.cols, int(h.idx[0])) >= 0 {
				continue
			}
			h.t.appendRowFrom(b, i)
			h.idx[0] = int32(h.t.n - 1)
			heap.Fix(h, 0)
		}
		if h.t.n > 2*n+4096 { // compact: keep only the heap's rows
			nt := newRowTable(types)
			sort.Slice(h.idx, func(a, b int) bool { return h.idx[a] < h.idx[b] })
			for j, r := range h.idx {
				nt.appendRowFrom(&Batch{Len: h.t.n, Cols: h.t.cols}, int(r))
				h.idx[j] = int32(j)
			}
			h.t = nt
			heap.Init(h)
		}
		return nil
	})
	if err != nil {
		return err
	}
	idx := append([]int32(nil), h.idx...)
	sort.Slice(idx, func(a, b int) bool {
		c := compareRows(p.keys, h.t.cols, int(idx[a]), h.t.cols, int(idx[b]))
		if c == 0 {
			return idx[a] < idx[b]
		}
		return c < 0
	})
	return h.t.emitRows(idx, emit)
}

func (p *sortPlan) explain(x *explainer, depth int) {
	cols := p.in.columns()
	var ks []string
	for _, k := range p.keys {
		s := cols[k.col].name
		if k.desc {
			s += " DESC"
		}
		if k.nullsFirst != k.desc {
			if k.nullsFirst {
				s += " NULLS FIRST"
			} else {
				s += " NULLS LAST"
			}
		}
		ks = append(ks, s)
	}
	if p.limit != nil {
		x.line(depth, "TopN (%s) limit=%s", strings.Join(ks, ", "), p.limit.String())
	} else {
		x.line(depth, "Sort (%s)", strings.Join(ks, ", "))
	}
	p.in.explain(x, depth+1)
}

// distinctPlan keeps the first row of each distinct key (all columns for
// DISTINCT; the DISTINCT ON expressions otherwise).
type distinctPlan struct {
	in   plan
	keys []int
}

func (p *distinctPlan) columns() []colDesc { return p.in.columns() }
func (p *distinctPlan) run(ec *execCtx, emit func(*Batch) error) error {
	types := planTypes(p.in)
	kt := make([]Type, len(p.keys))
	for i, k := range p.keys {
		kt[i] = types[k]
	}
	ht := newHashTable(kt)
	var seen []bool
	var gids []int32
	return p.in.run(ec, func(b *Batch) error {
		cols := make([]*Vector, len(p.keys))
		for i, k := range p.keys {
			cols[i] = &b.Cols[k]
		}
		if cap(gids) < b.Len {
			gids = make([]int32, b.Len)
		}
		gids = gids[:b.Len]
		ht.lookup(cols, b.Len, gids, true)
		var sel []int32
		for i, g := range gids {
			for int(g) >= len(seen) {
				seen = append(seen, false)
			}
			if !seen[g] {
				seen[g] = true
				sel = append(sel, int32(i))
			}
		}
		if len(sel) == 0 {
			return nil
		}
		return emit(gatherBatch(b, sel))
	})
}
func (p *distinctPlan) explain(x *explainer, depth int) {
	cols := p.in.columns()
	if len(p.keys) == len(cols) {
		x.line(depth, "Distinct")
	} else {
		var ks []string
		for _, k := range p.keys {
			ks = append(ks, cols[k].name)
		}
		x.line(depth, "Distinct On (%s)", strings.Join(ks, ", "))
	}
	p.in.explain(x, depth+1)
}

// unionPlan is UNION ALL: its inputs' rows one after another, cast to the
// output types.
type unionPlan struct {
	ins  []plan
	cols []colDesc
}

func (p *unionPlan) columns() []colDesc { return p.cols }
func (p *unionPlan) run(ec *execCtx, emit func(*Batch) error) error {
	for _, in := range p.ins {
		err := in.run(ec, func(b *Batch) error {
			out := &Batch{Len: b.Len, Cols: make([]Vector, len(b.Cols))}
			for c := range b.Cols {
				v := &b.Cols[c]
				if v.Type != p.cols[c].typ {
					cv, err := castVec(ec, v, p.cols[c].typ, b.Len)
					if err != nil {
						return err
					}
					v = cv
				}
				out.Cols[c] = *v
			}
			return emit(out)
		})
		if err != nil {
			return err
		}
	}
	return nil
}
func (p *unionPlan) explain(x *explainer, depth int) {
	x.line(depth, "Union All")
	for _, in := range p.ins {
		in.explain(x, depth+1)
	}
}
