package sql

import (
	"math"
	"sort"
	"strings"
)

// aggSpec is one aggregate call: name(args) [FILTER (WHERE filter)].
type aggSpec struct {
	name     string
	args     []expr // bound on the aggregation's input
	star     bool
	distinct bool
	filter   expr
	frac     expr // percentile fraction (stable)
	typ      Type
}

func (s *aggSpec) String() string {
	var sb strings.Builder
	sb.WriteString(s.name + "(")
	if s.distinct {
		sb.WriteString("DISTINCT ")
	}
	if s.star {
		sb.WriteString("*")
	}
	if s.frac != nil {
		sb.WriteString(s.frac.String() + ") WITHIN GROUP (ORDER BY " + exprList(s.args))
	} else {
		sb.WriteString(exprList(s.args))
	}
	sb.WriteString(")")
	if s.filter != nil {
		sb.WriteString(" FILTER (WHERE " + s.filter.String() + ")")
	}
	return sb.String()
}

// aggregate names and their result types.
var aggNames = map[string]bool{
	"count": true, "sum": true, "avg": true, "min": true, "max": true,
	"first": true, "last": true, "stddev": true, "stddev_samp": true, "stddev_pop": true,
	"variance": true, "var_samp": true, "var_pop": true,
	"percentile_cont": true, "percentile_disc": true, "bool_and": true, "bool_or": true, "every": true,
}

// aggResultType checks an aggregate's arguments and returns its type.
func aggResultType(name string, args []Type, star bool) (Type, error) {
	bad := func() (Type, error) {
		p := make([]string, len(args))
		for i, a := range args {
			p[i] = typeName(a)
		}
		return 0, errorf(CodeUndefinedFunction, "function %s(%s) does not exist", name, strings.Join(p, ", "))
	}
	want := 1
	switch name {
	case "count":
		if star {
			return TypeInt8, nil
		}
		if len(args) != 1 {
			return bad()
		}
		return TypeInt8, nil
	case "first", "last":
		want = 2
	}
	if len(args) != want {
		return bad()
	}
	a := args[0]
	switch name {
	case "sum":
		switch {
		case a == TypeInt2 || a == TypeInt4:
			return TypeInt8, nil
		case a == TypeInt8:
			return TypeNumeric, nil
		case isFloatType(a) || a == TypeInterval:
			return a, nil
		}
		return bad()
	case "avg":
		switch {
		case isIntType(a) || a == TypeNumeric:
			return TypeNumeric, nil
		case isFloatType(a):
			return TypeFloat8, nil
		case a == TypeInterval:
			return a, nil
		}
		return bad()
	case "min", "max":
		if a == TypeUnknown {
			return TypeText, nil
		}
		return a, nil
	case "first", "last":
		if !isTimeType(args[1]) && !isNumType(args[1]) {
			return bad()
		}
		if a == TypeUnknown {
			return TypeText, nil
		}
		return a, nil
	case "stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop":
		switch {
		case isIntType(a) || a == TypeNumeric:
			return TypeNumeric, nil
		case isFloatType(a):
			return TypeFloat8, nil
		}
		return bad()
	case "percentile_cont":
		if isNumType(a) {
			return TypeFloat8, nil
		}
		if a == TypeInterval {
			return a, nil
		}
		return bad()
	case "percentile_disc":
		if phys(a) == physStr || phys(a) == physBool {
			return bad()
		}
		return a, nil
	case "bool_and", "bool_or", "every":
		if a != TypeBool {
			return bad()
		}
		return TypeBool, nil
	}
	return bad()
}

// aggState accumulates one aggregate for many groups.
type aggState interface {
	// update adds n rows; gids[i] is row i's group (< ng), -1 = skip.
	update(ng int, gids []int32, args []*Vector, n int) error
	// result returns the value of each of ng groups.
	result(ng int) *Vector
}

func newAggState(ec *execCtx, s *aggSpec, argTypes []Type) (aggState, error) {
	var st aggState
	switch s.name {
	case "count":
		st = &countState{star: s.star}
	case "sum", "avg":
		st = &sumState{avg: s.name == "avg", in: argTypes[0], typ: s.typ}
	case "min", "max":
		st = &minMaxState{max: s.name == "max", vals: Vector{Type: s.typ}}
	case "first", "last":
		st = &firstLastState{last: s.name == "last", vals: Vector{Type: s.typ}}
	case "stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop":
		st = &varState{name: s.name, typ: s.typ}
	case "percentile_cont", "percentile_disc":
		v, err := evalScalar(ec, s.frac)
		if err != nil {
			return nil, err
		}
		if v.isNull(0) {
			return &constAgg{typ: s.typ}, nil
		}
		f := v.F64[0]
		if f < 0 || f > 1 || math.IsNaN(f) {
			return nil, errorf(CodeNumericOutOfRange, "percentile value %g is not between 0 and 1", f)
		}
		st = &percentileState{cont: s.name == "percentile_cont", frac: f, typ: s.typ}
	case "bool_and", "every", "bool_or":
		st = &boolAggState{or: s.name == "bool_or"}
	default:
		return nil, errorf(CodeUndefinedFunction, "function %s does not exist", s.name)
	}
	if s.distinct && !s.star {
		st = &distinctAgg{inner: st, ht: newHashTable([]Type{TypeInt8, argTypes[0]})}
	}
	return st, nil
}

func growTo[T any](s []T, n int) []T {
	for len(s) < n {
		s = append(s, *new(T))
	}
	return s
}

type constAgg struct{ typ Type }

func (a *constAgg) update(int, []int32, []*Vector, int) error { return nil }
func (a *constAgg) result(ng int) *Vector {
	v := newVec(a.typ, ng)
	v.Null = make([]bool, ng)
	for i := range v.Null {
		v.Null[i] = true
	}
	return v
}

type countState struct {
	star bool
	cnt  []int64
}

func (a *countState) update(ng int, gids []int32, args []*Vector, n int) error {
	a.cnt = growTo(a.cnt, ng)
	if a.star || args[0].Null == nil {
		for _, g := range gids[:n] {
			if g >= 0 {
				a.cnt[g]++
			}
		}
		return nil
	}
	null := args[0].Null
	for i, g := range gids[:n] {
		if g >= 0 && !null[i] {
			a.cnt[g]++
		}
	}
	return nil
}
func (a *countState) result(ng int) *Vector {
	a.cnt = growTo(a.cnt, ng)
	return &Vector{Type: TypeInt8, I64: append([]int64(nil), a.cnt[:ng]...)}
}

// distinctAgg passes each (group, value) pair to inner only once.
type distinctAgg struct {
	inner aggState
	ht    *hashTable
	seen  []bool
}

func (a *distinctAgg) update(ng int, gids []int32, args []*Vector, n int) error {
	gv := &Vector{Type: TypeInt8, I64: make([]int64, n)}
	for i, g := range gids[:n] {
		gv.I64[i] = int64(g)
	}
	ids := make([]int32, n)
	a.ht.lookup([]*Vector{gv, args[0]}, n, ids, true)
	masked := make([]int32, n)
	for i, id := range ids {
		a.seen = growTo(a.seen, int(id)+1)
		if gids[i] < 0 || a.seen[id] {
			masked[i] = -1
			continue
		}
		a.seen[id] = true
		masked[i] = gids[i]
	}
	return a.inner.update(ng, masked, args, n)
}
func (a *distinctAgg) result(ng int) *Vector { return a.inner.result(ng) }

type sumState struct {
	avg     bool
	in, typ Type
	isum    []int64
	fsum    []float64
	cnt     []int64
}

func (a *sumState) update(ng int, gids []int32, args []*Vector, n int) error {
	a.cnt = growTo(a.cnt, ng)
	v := args[0]
	if phys(v.Type) == physF64 {
		a.fsum = growTo(a.fsum, ng)
		for i, g := range gids[:n] {
			if g >= 0 && (v.Null == nil || !v.Null[i]) {
				a.fsum[g] += v.F64[i]
				a.cnt[g]++
			}
		}
		return nil
	}
	a.isum = growTo(a.isum, ng)
	for i, g := range gids[:n] {
		if g >= 0 && (v.Null == nil || !v.Null[i]) {
			a.isum[g] += v.I64[i]
			a.cnt[g]++
		}
	}
	return nil
}

func (a *sumState) result(ng int) *Vector {
	a.cnt = growTo(a.cnt, ng)
	a.isum = growTo(a.isum, ng)
	a.fsum = growTo(a.fsum, ng)
	out := newVec(a.typ, ng)
	for g := range ng {
		if a.cnt[g] == 0 {
			out.setNull(g, ng)
			continue
		}
		s := a.fsum[g]
		if phys(a.in) == physI64 {
			s = float64(a.isum[g])
		}
		switch {
		case a.avg && phys(a.typ) == physF64:
			out.F64[g] = s / float64(a.cnt[g])
		case a.avg:
			out.I64[g] = int64(math.Round(s / float64(a.cnt[g])))
		case phys(a.typ) == physF64:
			out.F64[g] = s
		default:
			out.I64[g] = a.isum[g]
		}
	}
	return out
}

// setVal writes src[i] into dst[g] (dst long enough).
func setVal(dst *Vector, g int, src *Vector, i int) {
	dst.Null[g] = src.isNull(i)
	switch phys(dst.Type) {
	case physF64:
		dst.F64[g] = src.F64[i]
	case physStr:
		dst.Str[g] = src.Str[i]
	case physBool:
		dst.Bool[g] = src.Bool[i]
	default:
		dst.I64[g] = src.I64[i]
	}
}

// growVec extends v with NULL rows to n rows.
func growVec(v *Vector, n int) {
	for len(v.Null) < n {
		appendNullRow(v)
	}
}

type minMaxState struct {
	max  bool
	vals Vector // NULL = no value yet
}

func (a *minMaxState) update(ng int, gids []int32, args []*Vector, n int) error {
	growVec(&a.vals, ng)
	v := args[0]
	d := &a.vals
	if phys(v.Type) == physF64 && phys(d.Type) == physF64 {
		// the hot path: float min/max
		for i, g := range gids[:n] {
			if g < 0 || (v.Null != nil && v.Null[i]) {
				continue
			}
			x := v.F64[i]
			if d.Null[g] || (a.max && x > d.F64[g]) || (!a.max && x < d.F64[g]) {
				d.F64[g] = x
				d.Null[g] = false
			}
		}
		return nil
	}
	for i, g := range gids[:n] {
		if g < 0 || v.isNull(i) {
			continue
		}
		if d.Null[g] {
			setVal(d, int(g), v, i)
			continue
		}
		c := compareValues(v, i, d, int(g))
		if (a.max && c > 0) || (!a.max && c < 0) {
			setVal(d, int(g), v, i)
		}
	}
	return nil
}
func (a *minMaxState) result(ng int) *Vector {
	growVec(&a.vals, ng)
	v := sliceVec(&a.vals, 0, ng)
	return &v
}

type firstLastState struct {
	last  bool
	vals  Vector
	times []int64
	tf    []float64
	seen  []bool
}

func (a *firstLastState) update(ng int, gids []int32, args []*Vector, n int) error {
	growVec(&a.vals, ng)
	a.times = growTo(a.times, ng)
	a.tf = growTo(a.tf, ng)
	a.seen = growTo(a.seen, ng)
	v, t := args[0], args[1]
	for i, g := range gids[:n] {
		if g < 0 || t.isNull(i) {
			continue
		}
		var better bool
		if phys(t.Type) == physF64 {
			x := t.F64[i]
			better = !a.seen[g] || (a.last && x >= a.tf[g]) || (!a.last && x < a.tf[g])
			if better {
				a.tf[g] = x
			}
		} else {
			x := t.I64[i]
			better = !a.seen[g] || (a.last && x >= a.times[g]) || (!a.last && x < a.times[g])
			if better {
				a.times[g] = x
			}
		}
		if better {
			a.seen[g] = true
			setVal(&a.vals, int(g), v, i)
		}
	}
	return nil
}
func (a *firstLastState) result(ng int) *Vector {
	growVec(&a.vals, ng)
	v := sliceVec(&a.vals, 0, ng)
	return &v
}

// varState keeps Welford's running mean and sum of squares.
type varState struct {
	name     string
	typ      Type
	cnt      []int64
	mean, m2 []float64
}

func (a *varState) update(ng int, gids []int32, args []*Vector, n int) error {
	a.cnt = growTo(a.cnt, ng)
	a.mean = growTo(a.mean, ng)
	a.m2 = growTo(a.m2, ng)
	v := args[0]
	for i, g := range gids[:n] {
		if g < 0 || v.isNull(i) {
			continue
		}
		var x float64
		if phys(v.Type) == physF64 {
			x = v.F64[i]
		} else {
			x = float64(v.I64[i])
		}
		a.cnt[g]++
		d := x - a.mean[g]
		a.mean[g] += d / float64(a.cnt[g])
		a.m2[g] += d * (x - a.mean[g])
	}
	return nil
}
func (a *varState) result(ng int) *Vector {
	a.cnt = growTo(a.cnt, ng)
	a.m2 = growTo(a.m2, ng)
	out := newVec(a.typ, ng)
	pop := strings.HasSuffix(a.name, "_pop")
	for g := range ng {
		c := a.cnt[g]
		if c == 0 || (!pop && c < 2) {
			out.setNull(g, ng)
			continue
		}
		d := float64(c - 1)
		if pop {
			d = float64(c)
		}
		x := a.m2[g] / d
		if strings.HasPrefix(a.name, "stddev") {
			x = math.Sqrt(x)
		}
		out.F64[g] = x
	}
	return out
}

type percentileState struct {
	cont bool
	frac float64
	typ  Type
	in   Type
	f    [][]float64
	i    [][]int64
}

func (a *percentileState) update(ng int, gids []int32, args []*Vector, n int) error {
	v := args[0]
	a.in = v.Type
	if phys(v.Type) == physF64 {
		a.f = growTo(a.f, ng)
		for i, g := range gids[:n] {
			if g >= 0 && !v.isNull(i) {
				a.f[g] = append(a.f[g], v.F64[i])
			}
		}
		return nil
	}
	a.i = growTo(a.i, ng)
	for i, g := range gids[:n] {
		if g >= 0 && !v.isNull(i) {
			a.i[g] = append(a.i[g], v.I64[i])
		}
	}
	return nil
}

func (a *percentileState) result(ng int) *Vector {
	out := newVec(a.typ, ng)
	a.f = growTo(a.f, ng)
	a.i = growTo(a.i, ng)
	for g := range ng {
		var xs []float64
		var is []int64
		var cnt int
		if phys(a.in) == physF64 {
			xs = a.f[g]
			sort.Float64s(xs)
			cnt = len(xs)
		} else {
			is = a.i[g]
			sort.Slice(is, func(x, y int) bool { return is[x] < is[y] })
			cnt = len(is)
		}
		if cnt == 0 {
			out.setNull(g, ng)
			continue
		}
		at := func(k int) float64 {
			if xs != nil {
				return xs[k]
			}
			return float64(is[k])
		}
		if a.cont {
			pos := a.frac * float64(cnt-1)
			lo := int(math.Floor(pos))
			hi := int(math.Ceil(pos))
			r := at(lo) + (at(hi)-at(lo))*(pos-float64(lo))
			if phys(a.typ) == physF64 {
				out.F64[g] = r
			} else {
				out.I64[g] = int64(math.Round(r))
			}
			continue
		}
		k := int(math.Ceil(a.frac*float64(cnt))) - 1
		k = max(k, 0)
		if phys(a.typ) == physF64 {
			out.F64[g] = at(k)
		} else {
			out.I64[g] = is[k]
		}
	}
	return out
}

type boolAggState struct {
	or   bool
	val  []bool
	seen []bool
}

func (a *boolAggState) update(ng int, gids []int32, args []*Vector, n int) error {
	a.val = growTo(a.val, ng)
	a.seen = growTo(a.seen, ng)
	v := args[0]
	for i, g := range gids[:n] {
		if g < 0 || v.isNull(i) {
			continue
		}
		if !a.seen[g] {
			a.seen[g], a.val[g] = true, v.Bool[i]
		} else if a.or {
			a.val[g] = a.val[g] || v.Bool[i]
		} else {
			a.val[g] = a.val[g] && v.Bool[i]
		}
	}
	return nil
}
func (a *boolAggState) result(ng int) *Vector {
	a.val = growTo(a.val, ng)
	a.seen = growTo(a.seen, ng)
	out := newVec(TypeBool, ng)
	for g := range ng {
		if !a.seen[g] {
			out.setNull(g, ng)
		} else {
			out.Bool[g] = a.val[g]
		}
	}
	return out
}

// aggPlan is a hash aggregation: its output is the group keys followed by
// the aggregates. Without keys it returns exactly one row.
type aggPlan struct {
	in   plan
	keys []expr
	aggs []*aggSpec
	cols []colDesc
}

func (p *aggPlan) columns() []colDesc { return p.cols }

func (p *aggPlan) run(ec *execCtx, emit func(*Batch) error) error {
	kt := make([]Type, len(p.keys))
	for i, k := range p.keys {
		kt[i] = k.Type()
	}
	ht := newHashTable(kt)
	states := make([]aggState, len(p.aggs))
	for i, a := range p.aggs {
		at := make([]Type, len(a.args))
		for j, e := range a.args {
			at[j] = e.Type()
		}
		st, err := newAggState(ec, a, at)
		if err != nil {
			return err
		}
		states[i] = st
	}
	var gids, masked []int32
	keyVecs := make([]*Vector, len(p.keys))
	ng := 0
	if len(p.keys) == 0 {
		ng = 1
	}
	err := p.in.run(ec, func(b *Batch) error {
		n := b.Len
		if cap(gids) < n {
			gids = make([]int32, n)
			masked = make([]int32, n)
		}
		gids = gids[:n]
		if len(p.keys) == 0 {
			for i := range gids {
				gids[i] = 0
			}
		} else {
			for i, k := range p.keys {
				v, err := k.eval(ec, b)
				if err != nil {
					return err
				}
				keyVecs[i] = v
			}
			ht.lookup(keyVecs, n, gids, true)
			ng = ht.n
		}
		for i, a := range p.aggs {
			args := make([]*Vector, len(a.args))
			for j, e := range a.args {
				v, err := e.eval(ec, b)
				if err != nil {
					return err
				}
				args[j] = v
			}
			g := gids
			if a.filter != nil {
				f, err := a.filter.eval(ec, b)
				if err != nil {
					return err
				}
				g = masked[:n]
				for r := range n {
					g[r] = gids[r]
					if f.isNull(r) || !f.Bool[r] {
						g[r] = -1
					}
				}
			}
			if err := states[i].update(ng, g, args, n); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if ng == 0 {
		return nil
	}
	t := &rowTable{n: ng, cols: make([]Vector, 0, len(p.cols))}
	for i := range p.keys {
		t.cols = append(t.cols, sliceVec(&ht.keys[i], 0, ng))
	}
	for i, st := range states {
		v := st.result(ng)
		v.Type = p.aggs[i].typ
		t.cols = append(t.cols, *v)
	}
	return t.emitAll(emit)
}

func (p *aggPlan) explain(x *explainer, depth int) {
	var as []string
	for _, a := range p.aggs {
		as = append(as, a.String())
	}
	if len(p.keys) == 0 {
		x.line(depth, "Aggregate %s", strings.Join(as, ", "))
	} else {
		x.line(depth, "HashAggregate keys: %s; aggs: %s", exprList(p.keys), strings.Join(as, ", "))
	}
	p.in.explain(x, depth+1)
}
