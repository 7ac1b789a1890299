package sql

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// execCtx is the state of one statement execution. Plans are shared
// (cached) and immutable; everything an execution changes lives here.
type execCtx struct {
	ctx    context.Context
	eng    *Engine
	sess   *Session
	params []*constExpr
	now    int64
	subq   map[*subqExpr]*subqResult

	// loc is the session's TimeZone; nil while constants are folded at
	// bind time (timezone.go).
	loc       *time.Location
	zc        *zconv
	zoneUsed  bool
	named     *zconv // the zone last named in an argument
	namedName string
}

func (ec *execCtx) check() error {
	if err := ec.ctx.Err(); err != nil {
		return asError(err)
	}
	return nil
}

// expr is a bound, typed scalar expression evaluated over whole batches.
type expr interface {
	Type() Type
	// eval returns a vector of b.Len rows. It may return one of b's own
	// vectors; callers must not modify the result.
	eval(ec *execCtx, b *Batch) (*Vector, error)
	String() string
	children() []expr
	withChildren(c []expr) expr
}

// colRef reads column idx of the input batch.
type colRef struct {
	idx  int
	typ  Type
	name string
}

func (e *colRef) Type() Type { return e.typ }
func (e *colRef) eval(ec *execCtx, b *Batch) (*Vector, error) {
	return &b.Cols[e.idx], nil
}
func (e *colRef) String() string             { return e.name }
func (e *colRef) children() []expr           { return nil }
func (e *colRef) withChildren(c []expr) expr { return e }

// constExpr is a constant. An interval keeps its months apart from i (ns);
// days tells how many whole days of i are calendar days (added to a
// timestamptz in the session's zone).
type constExpr struct {
	typ    Type
	null   bool
	i      int64
	f      float64
	s      string
	b      bool
	months int64
	days   int64
}

func (e *constExpr) Type() Type { return e.typ }
func (e *constExpr) eval(ec *execCtx, b *Batch) (*Vector, error) {
	return e.fill(b.Len), nil
}

func (e *constExpr) fill(n int) *Vector {
	v := newVec(e.typ, n)
	if e.null {
		v.Null = make([]bool, n)
		for i := range v.Null {
			v.Null[i] = true
		}
		return v
	}
	switch phys(e.typ) {
	case physF64:
		for i := range v.F64 {
			v.F64[i] = e.f
		}
	case physStr:
		for i := range v.Str {
			v.Str[i] = e.s
		}
	case physBool:
		for i := range v.Bool {
			v.Bool[i] = e.b
		}
	default:
		x := e.i
		if e.typ == TypeInterval {
			x += e.months * 30 * nsPerDay
		}
		for i := range v.I64 {
			v.I64[i] = x
		}
	}
	return v
}

func (e *constExpr) vec() *Vector { return e.fill(1) }

func (e *constExpr) String() string {
	if e.null {
		return "NULL"
	}
	v := e.vec()
	s := formatValue(nil, e.typ, v, 0)
	if e.typ == TypeInterval && e.months != 0 {
		s = strconv.FormatInt(e.months, 10) + " mons " + s
	}
	switch {
	case isNumType(e.typ) || e.typ == TypeBool:
		return s
	case e.typ == TypeUnknown || e.typ == TypeText:
		return "'" + strings.ReplaceAll(s, "'", "''") + "'"
	}
	return "'" + s + "'::" + typeName(e.typ)
}
func (e *constExpr) children() []expr           { return nil }
func (e *constExpr) withChildren(c []expr) expr { return e }

// constFromVec makes a constant of row i of v.
func constFromVec(v *Vector, i int) *constExpr {
	c := &constExpr{typ: v.Type}
	if v.isNull(i) {
		c.null = true
		return c
	}
	switch phys(v.Type) {
	case physF64:
		c.f = v.F64[i]
	case physStr:
		c.s = v.Str[i]
	case physBool:
		c.b = v.Bool[i]
	default:
		c.i = v.I64[i]
	}
	return c
}

// paramExpr is $n; its type is fixed when the statement is prepared.
type paramExpr struct {
	n   int // 0-based
	typ *Type
}

func (e *paramExpr) Type() Type { return *e.typ }
func (e *paramExpr) eval(ec *execCtx, b *Batch) (*Vector, error) {
	if e.n >= len(ec.params) {
		return nil, errorf(CodeUndefinedParameter, "there is no parameter $%d", e.n+1)
	}
	return ec.params[e.n].fill(b.Len), nil
}
func (e *paramExpr) String() string             { return "$" + strconv.Itoa(e.n+1) }
func (e *paramExpr) children() []expr           { return nil }
func (e *paramExpr) withChildren(c []expr) expr { return e }

// binary operator modes, fixed at bind time.
const (
	modeArithI = iota
	modeArithF
	modeCmp
	modeConcat
	modeTsIvl // timestamp ± interval (months applied calendar-wise)
	modeIvlMulF
)

type binExpr struct {
	op   string
	mode int
	l, r expr
	typ  Type
}

func (e *binExpr) Type() Type { return e.typ }
func (e *binExpr) String() string {
	return "(" + e.l.String() + " " + e.op + " " + e.r.String() + ")"
}
func (e *binExpr) children() []expr { return []expr{e.l, e.r} }
func (e *binExpr) withChildren(c []expr) expr {
	x := *e
	x.l, x.r = c[0], c[1]
	return &x
}

func mergeNulls(n int, vs ...*Vector) []bool {
	var out []bool
	for _, v := range vs {
		if v.Null == nil {
			continue
		}
		if out == nil {
			out = make([]bool, n)
			copy(out, v.Null[:n])
			continue
		}
		for i := range n {
			out[i] = out[i] || v.Null[i]
		}
	}
	return out
}

func (e *binExpr) eval(ec *execCtx, b *Batch) (*Vector, error) {
	if k, ok := e.r.(*constExpr); ok && !k.null && (e.mode == modeArithI && phys(k.typ) == physI64 && isIntType(k.typ) ||
		e.mode == modeArithF && phys(k.typ) == physF64) {
		return e.evalConst(ec, b, k)
	}
	l, err := e.l.eval(ec, b)
	if err != nil {
		return nil, err
	}
	r, err := e.r.eval(ec, b)
	if err != nil {
		return nil, err
	}
	n := b.Len
	out := newVec(e.typ, n)
	out.Null = mergeNulls(n, l, r)
	switch e.mode {
	case modeArithI:
		return out, arithI(e.op, l.I64[:n], r.I64[:n], out.I64, out.Null)
	case modeArithF:
		return out, arithF(e.op, l.F64[:n], r.F64[:n], out.F64, out.Null)
	case modeIvlMulF:
		// interval * float or interval / float: l is the interval (I64), r float
		for i := range n {
			if e.op == "*" {
				out.I64[i] = int64(math.Round(float64(l.I64[i]) * r.F64[i]))
			} else {
				if r.F64[i] == 0 && !(out.Null != nil && out.Null[i]) {
					return nil, errorf(CodeDivisionByZero, "division by zero")
				}
				out.I64[i] = int64(math.Round(float64(l.I64[i]) / r.F64[i]))
			}
		}
		return out, nil
	case modeTsIvl:
		// months, then days (in the session's zone for timestamptz), then
		// the time part as an absolute duration
		ts, iv, ive := l, r, e.r
		if l.Type == TypeInterval {
			ts, iv, ive = r, l, e.l
		}
		sign := int64(1)
		if e.op == "-" {
			sign = -1
		}
		months, days := intervalParts(ec, ive)
		var z *zconv
		if e.typ == TypeTimestamptz && (months != 0 || days != 0) {
			z = ec.zone()
		}
		for i := range n {
			x := ts.I64[i]
			rest := iv.I64[i] - months*30*nsPerDay - days*nsPerDay
			if z != nil {
				x = addMonthsDaysLocal(x, sign*months, sign*days, z)
			} else {
				x = addMonths(x, sign*months) + sign*days*nsPerDay
			}
			out.I64[i] = x + sign*rest
		}
		return out, nil
	case modeConcat:
		ls, rs := toText(ec, l, n), toText(ec, r, n)
		for i := range n {
			out.Str[i] = ls[i] + rs[i]
		}
		return out, nil
	case modeCmp:
		switch phys(l.Type) {
		case physF64:
			cmpOrd(e.op, l.F64[:n], r.F64[:n], out.Bool)
		case physStr:
			cmpOrd(e.op, l.Str[:n], r.Str[:n], out.Bool)
		case physBool:
			a, c := boolsAsInts(l.Bool[:n]), boolsAsInts(r.Bool[:n])
			cmpOrd(e.op, a, c, out.Bool)
		default:
			cmpOrd(e.op, l.I64[:n], r.I64[:n], out.Bool)
		}
		return out, nil
	}
	return nil, errorf(CodeInternal, "bad operator mode")
}

// evalConst is l op k for a numeric constant k (v * 9, v + 32), without
// spreading k into a vector.
func (e *binExpr) evalConst(ec *execCtx, b *Batch, k *constExpr) (*Vector, error) {
	l, err := e.l.eval(ec, b)
	if err != nil {
		return nil, err
	}
	n := b.Len
	var out *Vector
	if _, owned := e.l.(*binExpr); owned && phys(l.Type) == phys(e.typ) {
		// an operator's result is its parent's alone: compute in place
		// (v * 9 / 5 + 32 fills one vector)
		out = l
		out.Type = e.typ
	} else {
		out = newVec(e.typ, n)
		out.Null = mergeNulls(n, l)
	}
	if e.mode == modeArithI {
		return out, arithK(e.op, l.I64[:n], k.i, out.I64, out.Null, func(x, y int64) int64 { return x % y })
	}
	return out, arithK(e.op, l.F64[:n], k.f, out.F64, out.Null, math.Mod)
}

// arithK is arithI / arithF with a constant right operand.
func arithK[T int64 | float64](op string, a []T, k T, o []T, null []bool, mod func(x, y T) T) error {
	a = a[:len(o)]
	switch op {
	case "+":
		for i := range o {
			o[i] = a[i] + k
		}
	case "-":
		for i := range o {
			o[i] = a[i] - k
		}
	case "*":
		for i := range o {
			o[i] = a[i] * k
		}
	case "/", "%":
		if k == 0 {
			for i := range o {
				if null == nil || !null[i] {
					return errorf(CodeDivisionByZero, "division by zero")
				}
			}
			return nil
		}
		if op == "/" {
			for i := range o {
				o[i] = a[i] / k
			}
		} else {
			for i := range o {
				o[i] = mod(a[i], k)
			}
		}
	case "^":
		for i := range o {
			o[i] = T(math.Pow(float64(a[i]), float64(k)))
		}
	default:
		var zero T
		if _, isInt := any(zero).(int64); isInt {
			return errorf(CodeUndefinedFunction, "operator does not exist: bigint %s bigint", op)
		}
		return errorf(CodeUndefinedFunction, "operator does not exist: double precision %s double precision", op)
	}
	return nil
}

func toText(ec *execCtx, v *Vector, n int) []string {
	if phys(v.Type) == physStr {
		return v.Str[:n]
	}
	out := make([]string, n)
	for i := range n {
		if !v.isNull(i) {
			out[i] = formatValue(ec, v.Type, v, i)
		}
	}
	return out
}

// intervalParts returns the months and days of an interval operand known
// apart (a constant or a parameter); other intervals are all time.
func intervalParts(ec *execCtx, e expr) (months, days int64) {
	switch x := e.(type) {
	case *constExpr:
		if !x.null {
			return x.months, x.days
		}
	case *paramExpr:
		if ec != nil && x.n < len(ec.params) && !ec.params[x.n].null {
			return ec.params[x.n].months, ec.params[x.n].days
		}
	}
	return 0, 0
}

func boolsAsInts(b []bool) []int64 {
	out := make([]int64, len(b))
	for i, x := range b {
		if x {
			out[i] = 1
		}
	}
	return out
}

func arithI(op string, a, b, o []int64, null []bool) error {
	switch op {
	case "+":
		for i := range o {
			o[i] = a[i] + b[i]
		}
	case "-":
		for i := range o {
			o[i] = a[i] - b[i]
		}
	case "*":
		for i := range o {
			o[i] = a[i] * b[i]
		}
	case "/", "%":
		for i := range o {
			if b[i] == 0 {
				if null != nil && null[i] {
					continue
				}
				return errorf(CodeDivisionByZero, "division by zero")
			}
			if op == "/" {
				o[i] = a[i] / b[i]
			} else {
				o[i] = a[i] % b[i]
			}
		}
	default:
		return errorf(CodeUndefinedFunction, "operator does not exist: bigint %s bigint", op)
	}
	return nil
}

func arithF(op string, a, b, o []float64, null []bool) error {
	switch op {
	case "+":
		for i := range o {
			o[i] = a[i] + b[i]
		}
	case "-":
		for i := range o {
			o[i] = a[i] - b[i]
		}
	case "*":
		for i := range o {
			o[i] = a[i] * b[i]
		}
	case "/", "%":
		for i := range o {
			if b[i] == 0 {
				if null != nil && null[i] {
					continue
				}
				return errorf(CodeDivisionByZero, "division by zero")
			}
			if op == "/" {
				o[i] = a[i] / b[i]
			} else {
				o[i] = math.Mod(a[i], b[i])
			}
		}
	case "^":
		for i := range o {
			o[i] = math.Pow(a[i], b[i])
		}
	default:
		return errorf(CodeUndefinedFunction, "operator does not exist: double precision %s double precision", op)
	}
	return nil
}

func cmpOrd[T int64 | float64 | string](op string, a, b []T, o []bool) {
	switch op {
	case "=":
		for i := range o {
			o[i] = a[i] == b[i]
		}
	case "<>", "!=":
		for i := range o {
			o[i] = a[i] != b[i]
		}
	case "<":
		for i := range o {
			o[i] = a[i] < b[i]
		}
	case "<=":
		for i := range o {
			o[i] = a[i] <= b[i]
		}
	case ">":
		for i := range o {
			o[i] = a[i] > b[i]
		}
	case ">=":
		for i := range o {
			o[i] = a[i] >= b[i]
		}
	}
}

// boolExpr is AND / OR with SQL three-valued logic.
type boolExpr struct {
	and  bool
	args []expr
}

func (e *boolExpr) Type() Type { return TypeBool }
func (e *boolExpr) String() string {
	parts := make([]string, len(e.args))
	for i, a := range e.args {
		parts[i] = a.String()
	}
	op := " OR "
	if e.and {
		op = " AND "
	}
	return "(" + strings.Join(parts, op) + ")"
}
func (e *boolExpr) children() []expr { return e.args }
func (e *boolExpr) withChildren(c []expr) expr {
	return &boolExpr{and: e.and, args: c}
}

func (e *boolExpr) eval(ec *execCtx, b *Batch) (*Vector, error) {
	n := b.Len
	out := newVec(TypeBool, n)
	// dominant value: false for AND, true for OR
	dom := !e.and
	for i := range out.Bool {
		out.Bool[i] = e.and
	}
	var null []bool
	for _, a := range e.args {
		v, err := a.eval(ec, b)
		if err != nil {
			return nil, err
		}
		for i := range n {
			if v.Null != nil && v.Null[i] {
				if out.Bool[i] != dom {
					if null == nil {
						null = make([]bool, n)
					}
					null[i] = true
				}
				continue
			}
			if v.Bool[i] == dom {
				out.Bool[i] = dom
				if null != nil {
					null[i] = false
				}
			}
		}
	}
	out.Null = null
	return out, nil
}

type notExpr struct{ arg expr }

func (e *notExpr) Type() Type                 { return TypeBool }
func (e *notExpr) String() string             { return "(NOT " + e.arg.String() + ")" }
func (e *notExpr) children() []expr           { return []expr{e.arg} }
func (e *notExpr) withChildren(c []expr) expr { return &notExpr{c[0]} }
func (e *notExpr) eval(ec *execCtx, b *Batch) (*Vector, error) {
	v, err := e.arg.eval(ec, b)
	if err != nil {
		return nil, err
	}
	out := newVec(TypeBool, b.Len)
	for i := range out.Bool {
		out.Bool[i] = !v.Bool[i]
	}
	out.Null = mergeNulls(b.Len, v)
	return out, nil
}

// isNullExpr is IS [NOT] NULL, and IS [NOT] TRUE/FALSE/UNKNOWN (test).
type isNullExpr struct {
	arg  expr
	test string // "null", "notnull", "true", "nottrue", "false", "notfalse"
}

func (e *isNullExpr) Type() Type { return TypeBool }
func (e *isNullExpr) String() string {
	m := map[string]string{"null": "IS NULL", "notnull": "IS NOT NULL", "true": "IS TRUE", "nottrue": "IS NOT TRUE", "false": "IS FALSE", "notfalse": "IS NOT FALSE"}
	return "(" + e.arg.String() + " " + m[e.test] + ")"
}
func (e *isNullExpr) children() []expr { return []expr{e.arg} }
func (e *isNullExpr) withChildren(c []expr) expr {
	return &isNullExpr{arg: c[0], test: e.test}
}
func (e *isNullExpr) eval(ec *execCtx, b *Batch) (*Vector, error) {
	v, err := e.arg.eval(ec, b)
	if err != nil {
		return nil, err
	}
	out := newVec(TypeBool, b.Len)
	for i := range out.Bool {
		null := v.isNull(i)
		switch e.test {
		case "null":
			out.Bool[i] = null
		case "notnull":
			out.Bool[i] = !null
		case "true":
			out.Bool[i] = !null && v.Bool[i]
		case "nottrue":
			out.Bool[i] = null || !v.Bool[i]
		case "false":
			out.Bool[i] = !null && !v.Bool[i]
		case "notfalse":
			out.Bool[i] = null || v.Bool[i]
		}
	}
	return out, nil
}

// castExpr converts its argument to another type.
type castExpr struct {
	arg expr
	to  Type
}

func (e *castExpr) Type() Type                 { return e.to }
func (e *castExpr) String() string             { return e.arg.String() + "::" + typeName(e.to) }
func (e *castExpr) children() []expr           { return []expr{e.arg} }
func (e *castExpr) withChildren(c []expr) expr { return &castExpr{arg: c[0], to: e.to} }
func (e *castExpr) eval(ec *execCtx, b *Batch) (*Vector, error) {
	v, err := e.arg.eval(ec, b)
	if err != nil {
		return nil, err
	}
	return castVec(ec, v, e.to, b.Len)
}

// castVec converts n rows of v to type to. Conversions that depend on the
// time zone use ec's (UTC when ec is nil).
func castVec(ec *execCtx, v *Vector, to Type, n int) (*Vector, error) {
	from := v.Type
	if sameRepr(from, to) {
		out := *v
		out.Type = to
		return &out, nil
	}
	out := newVec(to, n)
	out.Null = mergeNulls(n, v)
	for i := range n {
		if out.Null != nil && out.Null[i] {
			continue
		}
		if err := castOne(ec, v, i, out, i); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// sameRepr reports whether values of from are valid values of to as they are.
func sameRepr(from, to Type) bool {
	if from == to {
		return true
	}
	if phys(from) != phys(to) {
		return false
	}
	switch phys(from) {
	case physStr, physBool:
		return true
	case physF64:
		return to != TypeFloat4
	}
	if isIntType(from) && isIntType(to) {
		return to == TypeInt8 || to == TypeOID || (to == TypeInt4 && from == TypeInt2)
	}
	return false
}

func cannotCast(from, to Type) error {
	return errorf("42846", "cannot cast type %s to %s", typeName(from), typeName(to))
}

// castOne converts v[i] into out[j]; v[i] is not NULL.
func castOne(ec *execCtx, v *Vector, i int, out *Vector, j int) error {
	from, to := v.Type, out.Type
	if isTextType(to) {
		out.Str[j] = formatValue(ec, from, v, i)
		return nil
	}
	if isTextType(from) {
		return parseInto(ec, v.Str[i], out, j)
	}
	switch {
	case isNumType(from) && isNumType(to):
		var f float64
		if phys(from) == physF64 {
			f = v.F64[i]
		} else {
			f = float64(v.I64[i])
		}
		if phys(to) == physF64 {
			if to == TypeFloat4 {
				f = float64(float32(f)) // real keeps float32 precision
			}
			out.F64[j] = f
			return nil
		}
		var x int64
		if phys(from) == physI64 {
			x = v.I64[i]
		} else {
			if math.IsNaN(f) || f >= 9.223372036854776e18 || f < -9.223372036854776e18 {
				return errorf(CodeNumericOutOfRange, "%s out of range", typeName(to))
			}
			if from == TypeNumeric {
				x = int64(math.Round(f))
			} else {
				x = int64(math.RoundToEven(f))
			}
		}
		if (to == TypeInt4 && (x > math.MaxInt32 || x < math.MinInt32)) || (to == TypeInt2 && (x > math.MaxInt16 || x < math.MinInt16)) {
			return errorf(CodeNumericOutOfRange, "%s out of range", typeName(to))
		}
		out.I64[j] = x
		return nil
	case from == TypeBool && isIntType(to):
		if v.Bool[i] {
			out.I64[j] = 1
		} else {
			out.I64[j] = 0
		}
		return nil
	case isIntType(from) && to == TypeBool:
		out.Bool[j] = v.I64[i] != 0
		return nil
	case from == TypeTimestamptz && to == TypeTimestamp:
		out.I64[j] = ec.zone().toLocal(v.I64[i])
		return nil
	case from == TypeTimestamp && to == TypeTimestamptz:
		out.I64[j] = ec.zone().fromLocal(v.I64[i])
		return nil
	}
	return cannotCast(from, to)
}

// parseInto reads text s as out's type into out[j]; a timestamptz without
// a zone is in ec's time zone (UTC when ec is nil).
func parseInto(ec *execCtx, s string, out *Vector, j int) error {
	to := out.Type
	bad := func() error {
		return errorf(CodeInvalidTextRepr, "invalid input syntax for type %s: %q", typeName(to), s)
	}
	switch {
	case isIntType(to):
		x, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return errorf(CodeNumericOutOfRange, "value %q is out of range for type %s", s, typeName(to))
			}
			return bad()
		}
		if (to == TypeInt4 && (x > math.MaxInt32 || x < math.MinInt32)) || (to == TypeInt2 && (x > math.MaxInt16 || x < math.MinInt16)) {
			return errorf(CodeNumericOutOfRange, "value %q is out of range for type %s", s, typeName(to))
		}
		out.I64[j] = x
	case isFloatType(to):
		t := strings.TrimSpace(s)
		switch strings.ToLower(t) {
		case "infinity", "+infinity", "inf":
			out.F64[j] = math.Inf(1)
			return nil
		case "-infinity", "-inf":
			out.F64[j] = math.Inf(-1)
			return nil
		case "nan":
			out.F64[j] = math.NaN()
			return nil
		}
		x, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return bad()
		}
		if to == TypeFloat4 {
			x = float64(float32(x))
		}
		out.F64[j] = x
	case to == TypeBool:
		x, ok := parseBool(s)
		if !ok {
			return bad()
		}
		out.Bool[j] = x
	case isTimeType(to):
		t, err := parseTimeText(s)
		if err != nil {
			return err
		}
		if to == TypeTimestamp {
			out.I64[j] = t.wall // a zone in the text is ignored
		} else {
			out.I64[j] = t.instant(ec.zone)
		}
	case to == TypeInterval:
		x, err := parseInterval(s)
		if err != nil {
			return err
		}
		out.I64[j] = x.approxNs()
	default:
		return cannotCast(TypeText, to)
	}
	return nil
}

// caseExpr is CASE WHEN c THEN v ... ELSE d END; branches are evaluated
// only on the rows that reach them.
type caseExpr struct {
	conds, vals []expr
	els         expr // nil = NULL
	typ         Type
}

func (e *caseExpr) Type() Type { return e.typ }
func (e *caseExpr) String() string {
	var sb strings.Builder
	sb.WriteString("CASE")
	for i := range e.conds {
		sb.WriteString(" WHEN " + e.conds[i].String() + " THEN " + e.vals[i].String())
	}
	if e.els != nil {
		sb.WriteString(" ELSE " + e.els.String())
	}
	sb.WriteString(" END")
	return sb.String()
}
func (e *caseExpr) children() []expr {
	c := append(append([]expr{}, e.conds...), e.vals...)
	if e.els != nil {
		c = append(c, e.els)
	}
	return c
}
func (e *caseExpr) withChildren(c []expr) expr {
	k := len(e.conds)
	x := &caseExpr{conds: c[:k], vals: c[k : 2*k], typ: e.typ}
	if e.els != nil {
		x.els = c[2*k]
	}
	return x
}

// evalOn evaluates e on rows sel of b (all rows when sel is nil).
func evalOn(ec *execCtx, e expr, b *Batch, sel []int32) (*Vector, error) {
	if sel == nil {
		return e.eval(ec, b)
	}
	return e.eval(ec, gatherBatch(b, sel))
}

func allRows(n int) []int32 {
	s := make([]int32, n)
	for i := range s {
		s[i] = int32(i)
	}
	return s
}

func (e *caseExpr) eval(ec *execCtx, b *Batch) (*Vector, error) {
	n := b.Len
	out := newVec(e.typ, n)
	out.Null = make([]bool, n)
	for i := range out.Null {
		out.Null[i] = true
	}
	var rest []int32 // nil = all rows
	for k := range e.conds {
		if rest != nil && len(rest) == 0 {
			return out, nil
		}
		c, err := evalOn(ec, e.conds[k], b, rest)
		if err != nil {
			return nil, err
		}
		var hit, miss []int32
		for j := range c.Bool {
			row := int32(j)
			if rest != nil {
				row = rest[j]
			}
			if !c.isNull(j) && c.Bool[j] {
				hit = append(hit, row)
			} else {
				miss = append(miss, row)
			}
		}
		if len(hit) > 0 {
			v, err := evalOn(ec, e.vals[k], b, hit)
			if err != nil {
				return nil, err
			}
			scatter(out, v, hit)
		}
		rest = miss
		if rest == nil {
			rest = []int32{}
		}
	}
	if e.els != nil && len(rest) > 0 {
		v, err := evalOn(ec, e.els, b, rest)
		if err != nil {
			return nil, err
		}
		scatter(out, v, rest)
	}
	return out, nil
}

// scatter writes v's rows to out at rows sel.
func scatter(out, v *Vector, sel []int32) {
	for j, i := range sel {
		out.Null[i] = v.isNull(j)
		switch phys(out.Type) {
		case physF64:
			out.F64[i] = v.F64[j]
		case physStr:
			out.Str[i] = v.Str[j]
		case physBool:
			out.Bool[i] = v.Bool[j]
		default:
			out.I64[i] = v.I64[j]
		}
	}
}

// coalesceExpr returns its first non-NULL argument.
type coalesceExpr struct {
	args []expr
	typ  Type
	name string // "coalesce", "greatest", "least", "nullif"
}

func (e *coalesceExpr) Type() Type { return e.typ }
func (e *coalesceExpr) String() string {
	p := make([]string, len(e.args))
	for i, a := range e.args {
		p[i] = a.String()
	}
	return e.name + "(" + strings.Join(p, ", ") + ")"
}
func (e *coalesceExpr) children() []expr { return e.args }
func (e *coalesceExpr) withChildren(c []expr) expr {
	return &coalesceExpr{args: c, typ: e.typ, name: e.name}
}
func (e *coalesceExpr) eval(ec *execCtx, b *Batch) (*Vector, error) {
	n := b.Len
	out := newVec(e.typ, n)
	out.Null = make([]bool, n)
	switch e.name {
	case "coalesce":
		for i := range out.Null {
			out.Null[i] = true
		}
		var rest []int32
		for _, a := range e.args {
			if rest != nil && len(rest) == 0 {
				break
			}
			v, err := evalOn(ec, a, b, rest)
			if err != nil {
				return nil, err
			}
			sel := rest
			if sel == nil {
				sel = allRows(n)
			}
			var miss []int32
			for j, row := range sel {
				if v.isNull(j) {
					miss = append(miss, row)
					continue
				}
				scatter(out, sliceRow(v, j), []int32{row})
			}
			rest = miss
			if rest == nil {
				rest = []int32{}
			}
		}
		return out, nil
	case "nullif":
		a, err := e.args[0].eval(ec, b)
		if err != nil {
			return nil, err
		}
		c, err := e.args[1].eval(ec, b)
		if err != nil {
			return nil, err
		}
		for i := range n {
			scatter(out, sliceRow(a, i), []int32{int32(i)})
			if !a.isNull(i) && !c.isNull(i) && compareValues(a, i, c, i) == 0 {
				out.Null[i] = true
			}
		}
		return out, nil
	}
	// greatest / least: NULLs ignored
	for i := range out.Null {
		out.Null[i] = true
	}
	for _, a := range e.args {
		v, err := a.eval(ec, b)
		if err != nil {
			return nil, err
		}
		for i := range n {
			if v.isNull(i) {
				continue
			}
			c := 0
			if !out.Null[i] {
				c = compareValues(v, i, out, i)
			}
			if out.Null[i] || (e.name == "greatest" && c > 0) || (e.name == "least" && c < 0) {
				scatter(out, sliceRow(v, i), []int32{int32(i)})
			}
		}
	}
	return out, nil
}

func sliceRow(v *Vector, i int) *Vector {
	s := sliceVec(v, i, i+1)
	return &s
}

// inListExpr is x [NOT] IN (a, b, ...).
type inListExpr struct {
	arg  expr
	list []expr
	not  bool
}

func (e *inListExpr) Type() Type { return TypeBool }
func (e *inListExpr) String() string {
	p := make([]string, len(e.list))
	for i, a := range e.list {
		p[i] = a.String()
	}
	op := " IN ("
	if e.not {
		op = " NOT IN ("
	}
	return "(" + e.arg.String() + op + strings.Join(p, ", ") + "))"
}
func (e *inListExpr) children() []expr { return append([]expr{e.arg}, e.list...) }
func (e *inListExpr) withChildren(c []expr) expr {
	return &inListExpr{arg: c[0], list: c[1:], not: e.not}
}
func (e *inListExpr) eval(ec *execCtx, b *Batch) (*Vector, error) {
	v, err := e.arg.eval(ec, b)
	if err != nil {
		return nil, err
	}
	items := make([]*Vector, len(e.list))
	for k, it := range e.list {
		if items[k], err = it.eval(ec, b); err != nil {
			return nil, err
		}
	}
	return inResult(v, b.Len, e.not, func(i int, found, sawNull *bool) {
		for _, it := range items {
			if it.isNull(i) {
				*sawNull = true
			} else if compareValues(v, i, it, i) == 0 {
				*found = true
				return
			}
		}
	}), nil
}

// inResult applies IN's NULL rules given a per-row membership probe.
func inResult(v *Vector, n int, not bool, probe func(i int, found, sawNull *bool)) *Vector {
	out := newVec(TypeBool, n)
	for i := range n {
		if v.isNull(i) {
			out.setNull(i, n)
			continue
		}
		found, sawNull := false, false
		probe(i, &found, &sawNull)
		switch {
		case found:
			out.Bool[i] = !not
		case sawNull:
			out.setNull(i, n)
		default:
			out.Bool[i] = not
		}
	}
	return out
}

// funcExpr is a scalar function call.
type funcExpr struct {
	name     string
	args     []expr
	typ      Type
	impl     func(ec *execCtx, args []*Vector, n int) (*Vector, error)
	volatile bool // depends on the execution (now(), settings): never folded
}

func (e *funcExpr) Type() Type { return e.typ }
func (e *funcExpr) String() string {
	p := make([]string, len(e.args))
	for i, a := range e.args {
		p[i] = a.String()
	}
	return e.name + "(" + strings.Join(p, ", ") + ")"
}
func (e *funcExpr) children() []expr { return e.args }
func (e *funcExpr) withChildren(c []expr) expr {
	x := *e
	x.args = c
	return &x
}
func (e *funcExpr) eval(ec *execCtx, b *Batch) (*Vector, error) {
	args := make([]*Vector, len(e.args))
	for i, a := range e.args {
		v, err := a.eval(ec, b)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	return e.impl(ec, args, b.Len)
}

// aggRef stands for an aggregate while its query block is being bound; the
// planner replaces it with a column of the aggregation's output.
type aggRef struct{ spec *aggSpec }

func (e *aggRef) Type() Type { return e.spec.typ }
func (e *aggRef) eval(*execCtx, *Batch) (*Vector, error) {
	return nil, errorf(CodeGroupingError, "aggregate functions are not allowed here")
}
func (e *aggRef) String() string             { return e.spec.String() }
func (e *aggRef) children() []expr           { return nil }
func (e *aggRef) withChildren(c []expr) expr { return e }

// winRef stands for a window function until the window operator's output
// column replaces it.
type winRef struct{ spec *winSpec }

func (e *winRef) Type() Type { return e.spec.typ }
func (e *winRef) eval(*execCtx, *Batch) (*Vector, error) {
	return nil, errorf(CodeFeatureNotSupported, "window functions are not allowed here")
}
func (e *winRef) String() string             { return e.spec.String() }
func (e *winRef) children() []expr           { return nil }
func (e *winRef) withChildren(c []expr) expr { return e }

// walkExpr calls fn on e and every sub-expression (pre-order).
func walkExpr(e expr, fn func(expr)) {
	fn(e)
	for _, c := range e.children() {
		walkExpr(c, fn)
	}
}

// rewriteExpr rebuilds e bottom-up... top-down: fn may replace a node
// (returning true to stop descending).
func rewriteExpr(e expr, fn func(expr) (expr, bool, error)) (expr, error) {
	r, done, err := fn(e)
	if err != nil || done {
		return r, err
	}
	cs := e.children()
	if len(cs) == 0 {
		return e, nil
	}
	nc := make([]expr, len(cs))
	for i, c := range cs {
		if nc[i], err = rewriteExpr(c, fn); err != nil {
			return nil, err
		}
	}
	return e.withChildren(nc), nil
}

// isStable reports whether e has no column references, aggregates or
// windows: its value is the same for every row of one execution.
func isStable(e expr) bool {
	ok := true
	walkExpr(e, func(x expr) {
		switch x.(type) {
		case *colRef, *aggRef, *winRef:
			ok = false
		}
	})
	return ok
}

// evalScalar evaluates a stable expression once.
func evalScalar(ec *execCtx, e expr) (*Vector, error) {
	return e.eval(ec, &Batch{Len: 1})
}

var _ = fmt.Sprintf
var _ = time.Now
