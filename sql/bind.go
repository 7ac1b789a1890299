package sql

import (
	"math"
	"regexp"
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// binder turns pg_query parse trees into typed expressions and plans. One
// binder binds one statement; it is not safe for concurrent use.
type binder struct {
	eng      *Engine
	tenant   string
	database string
	query    string
	params   []*Type
	fixed    int // params[:fixed] have types given by the client
	ctes     []map[string]*cteDef

	// Column pruning binds a statement twice: pass 1 records the columns
	// each table reference uses, pass 2 scans only those.
	pass int
	tref int
	used map[int]map[string]bool
}

// scopeCol is one column visible to expressions.
type scopeCol struct {
	table   string // qualifier (alias or table name)
	name    string
	typ     Type
	tref    int    // table reference the column comes from (-1 = none)
	noUnqal bool   // USING join duplicate: only reachable qualified
	hidden  bool   // not expanded by *
	col     string // the table's own column name when aliased
}

type scope struct{ cols []scopeCol }

// block is the per-SELECT state for aggregates and windows.
type block struct {
	allowAgg bool
	allowWin bool
	aggs     []*aggSpec
	wins     []*winSpec
	inAgg    bool
}

func (b *binder) markUsed(c *scopeCol) {
	if c.tref < 0 {
		return
	}
	m := b.used[c.tref]
	if m == nil {
		m = map[string]bool{}
		b.used[c.tref] = m
	}
	if c.col != "" {
		m[c.col] = true
	} else {
		m[c.name] = true
	}
}

func strVal(n *pg.Node) string {
	if s := n.GetString_(); s != nil {
		return s.Sval
	}
	return ""
}

func nameList(ns []*pg.Node) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, strVal(n))
	}
	return out
}

// resolveCol finds a column by optional qualifier and name. Unquoted
// identifiers arrive lower-cased; when there is no exact match, a unique
// case-insensitive match is accepted (line protocol keeps mixed case).
func (b *binder) resolveCol(sc *scope, qual, name string, loc int32) (int, error) {
	find := func(eq func(a, b string) bool) (int, int) {
		found, count := -1, 0
		for i := range sc.cols {
			c := &sc.cols[i]
			if qual == "" && c.noUnqal {
				continue
			}
			if qual != "" && !eq(c.table, qual) {
				continue
			}
			if eq(c.name, name) {
				if found < 0 {
					found = i
				}
				count++
			}
		}
		return found, count
	}
	i, n := find(func(a, b string) bool { return a == b })
	if n == 0 {
		i, n = find(strings.EqualFold)
	}
	switch {
	case n > 1:
		return 0, errAt(CodeAmbiguousColumn, loc, "column reference %q is ambiguous", name)
	case n == 0:
		if qual != "" {
			known := false
			for _, c := range sc.cols {
				if strings.EqualFold(c.table, qual) {
					known = true
				}
			}
			if !known {
				return 0, errAt(CodeUndefinedTable, loc, "missing FROM-clause entry for table %q", qual)
			}
			return 0, errAt(CodeUndefinedColumn, loc, "column %s.%s does not exist", qual, name)
		}
		return 0, errAt(CodeUndefinedColumn, loc, "column %q does not exist", name)
	}
	b.markUsed(&sc.cols[i])
	return i, nil
}

func colName(c *scopeCol) string {
	if c.table != "" {
		return c.table + "." + c.name
	}
	return c.name
}

// coerce converts e to type t: constants are converted now (so a literal
// that does not parse fails at bind time), other expressions get a cast.
// A constant whose conversion depends on the session's time zone ('2016-01-01'
// to timestamptz, timestamptz to text) is checked now and converted when
// the statement runs.
func (b *binder) coerce(e expr, t Type) (expr, error) {
	if e.Type() == t {
		return e, nil
	}
	if p, ok := e.(*paramExpr); ok && *p.typ == TypeUnknown {
		*p.typ = t
		return p, nil
	}
	if c, ok := e.(*constExpr); ok {
		if c.null {
			return &constExpr{typ: t, null: true}, nil
		}
		if t == TypeInterval && isTextType(c.typ) {
			iv, err := parseInterval(c.s)
			if err != nil {
				return nil, err
			}
			return &constExpr{typ: TypeInterval, i: iv.ns + iv.days*nsPerDay, days: iv.days, months: iv.months}, nil
		}
		fc := &execCtx{}
		v, err := castVec(fc, c.vec(), t, 1)
		if err != nil {
			return nil, err
		}
		if fc.zoneUsed {
			return &castExpr{arg: c, to: t}, nil
		}
		return constFromVec(v, 0), nil
	}
	return &castExpr{arg: e, to: t}, nil
}

// fold evaluates an expression whose inputs are all constants. One that
// depends on the session (its time zone) is left to run time.
func (b *binder) fold(e expr) (expr, error) {
	if f, ok := e.(*funcExpr); ok && f.volatile {
		return e, nil
	}
	for _, c := range e.children() {
		if _, ok := c.(*constExpr); !ok {
			return e, nil
		}
	}
	if len(e.children()) == 0 {
		return e, nil
	}
	fc := &execCtx{}
	v, err := e.eval(fc, &Batch{Len: 1})
	if err != nil {
		return nil, err
	}
	if fc.zoneUsed {
		return e, nil
	}
	c := constFromVec(v, 0)
	c.typ = e.Type()
	if be, ok := e.(*binExpr); ok && be.typ == TypeInterval {
		// interval arithmetic keeps months and days apart
		lm, ld := constParts(be.l)
		rm, rd := constParts(be.r)
		switch {
		case be.op == "+" && be.mode == modeArithI:
			c.months, c.days = lm+rm, ld+rd
		case be.op == "-" && be.mode == modeArithI:
			c.months, c.days = lm-rm, ld-rd
		case be.mode == modeIvlMulF:
			return foldIvlMul(be, c)
		}
		c.i -= c.months * 30 * nsPerDay
	}
	return c, nil
}

// constParts returns the months and days of a constant interval.
func constParts(e expr) (months, days int64) {
	if c, ok := e.(*constExpr); ok && !c.null && c.typ == TypeInterval {
		return c.months, c.days
	}
	return 0, 0
}

// foldIvlMul folds interval * or / a number as PostgreSQL's interval_mul
// and interval_div do: fractions of months cascade into days (30 each)
// and fractions of days into time.
func foldIvlMul(be *binExpr, c *constExpr) (expr, error) {
	iv, _ := be.l.(*constExpr)
	f, _ := be.r.(*constExpr)
	if iv == nil || f == nil || iv.null || f.null || c.null {
		return c, nil
	}
	factor := f.f
	if be.op == "/" {
		factor = 1 / factor
	}
	m := float64(iv.months) * factor
	months := math.Trunc(m)
	mdays := (m - months) * 30
	d := float64(iv.days)*factor + mdays
	days := math.Trunc(d)
	rest := float64(iv.i-iv.days*nsPerDay)*factor + (d-days)*float64(nsPerDay)
	return &constExpr{typ: TypeInterval, months: int64(months), days: int64(days),
		i: int64(days)*nsPerDay + int64(math.Round(rest/1e3))*1e3}, nil
}

func (b *binder) param(n int) *paramExpr {
	for len(b.params) < n {
		t := TypeUnknown
		b.params = append(b.params, &t)
	}
	return &paramExpr{n: n - 1, typ: b.params[n-1]}
}

// bindExpr binds a parse-tree expression against a scope.
func (b *binder) bindExpr(n *pg.Node, sc *scope, blk *block) (expr, error) {
	e, err := b.bindExpr1(n, sc, blk)
	if err != nil {
		return nil, err
	}
	return b.fold(e)
}

func (b *binder) bindExpr1(n *pg.Node, sc *scope, blk *block) (expr, error) {
	switch {
	case n.GetColumnRef() != nil:
		cr := n.GetColumnRef()
		var parts []string
		for _, f := range cr.Fields {
			if f.GetAStar() != nil {
				return nil, errAt(CodeSyntaxError, cr.Location, "* is not allowed here")
			}
			parts = append(parts, strVal(f))
		}
		name := parts[len(parts)-1]
		qual := ""
		if len(parts) >= 2 {
			qual = parts[len(parts)-2]
		}
		i, err := b.resolveCol(sc, qual, name, cr.Location)
		if err != nil {
			return nil, err
		}
		c := &sc.cols[i]
		return &colRef{idx: i, typ: c.typ, name: colName(c)}, nil
	case n.GetAConst() != nil:
		return bindConst(n.GetAConst())
	case n.GetParamRef() != nil:
		return b.param(int(n.GetParamRef().Number)), nil
	case n.GetTypeCast() != nil:
		tc := n.GetTypeCast()
		arg, err := b.bindExpr(tc.Arg, sc, blk)
		if err != nil {
			return nil, err
		}
		if reg := regCastType(tc.TypeName); reg != "" {
			return b.bindRegCast(arg, reg, tc.Location)
		}
		t, err := bindTypeName(tc.TypeName)
		if err != nil {
			return nil, err
		}
		if p, ok := arg.(*paramExpr); ok && *p.typ == TypeUnknown {
			*p.typ = t
			return p, nil
		}
		return b.coerce(arg, t)
	case n.GetAExpr() != nil:
		return b.bindAExpr(n.GetAExpr(), sc, blk)
	case n.GetBoolExpr() != nil:
		be := n.GetBoolExpr()
		args := make([]expr, len(be.Args))
		for i, a := range be.Args {
			e, err := b.bindExpr(a, sc, blk)
			if err != nil {
				return nil, err
			}
			if e, err = b.boolArg(e, "argument of "+strings.TrimSuffix(be.Boolop.String(), "_EXPR"), be.Location); err != nil {
				return nil, err
			}
			args[i] = e
		}
		switch be.Boolop {
		case pg.BoolExprType_AND_EXPR:
			return &boolExpr{and: true, args: args}, nil
		case pg.BoolExprType_OR_EXPR:
			return &boolExpr{args: args}, nil
		}
		return &notExpr{arg: args[0]}, nil
	case n.GetNullTest() != nil:
		nt := n.GetNullTest()
		arg, err := b.bindExpr(nt.Arg, sc, blk)
		if err != nil {
			return nil, err
		}
		if nt.Nulltesttype == pg.NullTestType_IS_NULL {
			return &isNullExpr{arg: arg, test: "null"}, nil
		}
		return &isNullExpr{arg: arg, test: "notnull"}, nil
	case n.GetBooleanTest() != nil:
		bt := n.GetBooleanTest()
		arg, err := b.bindExpr(bt.Arg, sc, blk)
		if err != nil {
			return nil, err
		}
		if arg, err = b.boolArg(arg, "argument of IS", bt.Location); err != nil {
			return nil, err
		}
		test := map[pg.BoolTestType]string{
			pg.BoolTestType_IS_TRUE: "true", pg.BoolTestType_IS_NOT_TRUE: "nottrue",
			pg.BoolTestType_IS_FALSE: "false", pg.BoolTestType_IS_NOT_FALSE: "notfalse",
			pg.BoolTestType_IS_UNKNOWN: "null", pg.BoolTestType_IS_NOT_UNKNOWN: "notnull",
		}[bt.Booltesttype]
		return &isNullExpr{arg: arg, test: test}, nil
	case n.GetFuncCall() != nil:
		return b.bindFunc(n.GetFuncCall(), sc, blk)
	case n.GetCaseExpr() != nil:
		return b.bindCase(n.GetCaseExpr(), sc, blk)
	case n.GetCoalesceExpr() != nil:
		ce := n.GetCoalesceExpr()
		return b.bindVariadic("coalesce", ce.Args, sc, blk, ce.Location)
	case n.GetMinMaxExpr() != nil:
		mm := n.GetMinMaxExpr()
		name := "greatest"
		if mm.Op == pg.MinMaxOp_IS_LEAST {
			name = "least"
		}
		return b.bindVariadic(name, mm.Args, sc, blk, mm.Location)
	case n.GetSqlvalueFunction() != nil:
		sv := n.GetSqlvalueFunction()
		var name string
		switch sv.Op {
		case pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP, pg.SQLValueFunctionOp_SVFOP_CURRENT_TIMESTAMP_N:
			name = "current_timestamp"
		case pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP, pg.SQLValueFunctionOp_SVFOP_LOCALTIMESTAMP_N:
			name = "localtimestamp"
		case pg.SQLValueFunctionOp_SVFOP_CURRENT_USER, pg.SQLValueFunctionOp_SVFOP_CURRENT_ROLE:
			name = "current_user"
		case pg.SQLValueFunctionOp_SVFOP_SESSION_USER:
			name = "session_user"
		case pg.SQLValueFunctionOp_SVFOP_USER:
			name = "user"
		case pg.SQLValueFunctionOp_SVFOP_CURRENT_CATALOG:
			name = "current_catalog"
		case pg.SQLValueFunctionOp_SVFOP_CURRENT_SCHEMA:
			name = "current_schema"
		default:
			return nil, errAt(CodeFeatureNotSupported, sv.Location, "date and time types other than timestamp are not supported")
		}
		return scalarFuncs[name](b, name, nil, sv.Location)
	case n.GetSubLink() != nil:
		return b.bindSubLink(n.GetSubLink(), sc, blk)
	case n.GetCollateClause() != nil: // one collation: COLLATE is accepted and ignored
		return b.bindExpr(n.GetCollateClause().Arg, sc, blk)
	case n.GetAIndirection() != nil:
		return b.bindIndirection(n.GetAIndirection(), sc, blk)
	}
	return nil, errorf(CodeFeatureNotSupported, "expression not supported: %s", nodeKind(n))
}

func nodeKind(n *pg.Node) string {
	s := strings.TrimPrefix(strings.SplitN(n.String(), ":", 2)[0], "{")
	return s
}

func (b *binder) boolArg(e expr, what string, loc int32) (expr, error) {
	switch e.Type() {
	case TypeBool:
		return e, nil
	case TypeUnknown:
		return b.coerce(e, TypeBool)
	}
	return nil, errAt(CodeDatatypeMismatch, loc, "%s must be type boolean, not type %s", what, typeName(e.Type()))
}

func bindConst(c *pg.A_Const) (expr, error) {
	if c.Isnull {
		return &constExpr{typ: TypeUnknown, null: true}, nil
	}
	switch v := c.Val.(type) {
	case *pg.A_Const_Ival:
		return &constExpr{typ: TypeInt4, i: int64(v.Ival.Ival)}, nil
	case *pg.A_Const_Fval:
		s := v.Fval.Fval
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return &constExpr{typ: TypeInt8, i: i}, nil
		}
		f, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, errAt(CodeInvalidTextRepr, c.Location, "invalid numeric literal %q", s)
		}
		return &constExpr{typ: TypeNumeric, f: f}, nil
	case *pg.A_Const_Boolval:
		return &constExpr{typ: TypeBool, b: v.Boolval.Boolval}, nil
	case *pg.A_Const_Sval:
		return &constExpr{typ: TypeUnknown, s: v.Sval.Sval}, nil
	}
	return nil, errAt(CodeFeatureNotSupported, c.Location, "bit string literals are not supported")
}

func bindTypeName(tn *pg.TypeName) (Type, error) {
	names := nameList(tn.Names)
	if len(names) == 0 {
		return 0, errorf(CodeSyntaxError, "missing type name")
	}
	if len(tn.ArrayBounds) > 0 {
		return 0, errAt(CodeFeatureNotSupported, tn.Location, "array types are not supported")
	}
	name := names[len(names)-1]
	if t, ok := typeByName(name); ok {
		return t, nil
	}
	return 0, errAt(CodeUndefinedObject, tn.Location, "type %q does not exist", name)
}

var cmpOps = map[string]bool{"=": true, "<>": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true}

func (b *binder) bindAExpr(a *pg.A_Expr, sc *scope, blk *block) (expr, error) {
	op := ""
	if len(a.Name) > 0 {
		op = strVal(a.Name[len(a.Name)-1])
	}
	bind := func(n *pg.Node) (expr, error) { return b.bindExpr(n, sc, blk) }
	switch a.Kind {
	case pg.A_Expr_Kind_AEXPR_OP:
		r, err := bind(a.Rexpr)
		if err != nil {
			return nil, err
		}
		if a.Lexpr == nil { // prefix operator
			switch op {
			case "-":
				if c, ok := r.(*constExpr); ok && isNumType(c.typ) {
					return &constExpr{typ: c.typ, i: -c.i, f: -c.f, null: c.null}, nil
				}
				zero := &constExpr{typ: r.Type()}
				if r.Type() == TypeUnknown {
					zero.typ = TypeInt4
				}
				return b.binary("-", zero, r, a.Location)
			case "+":
				return r, nil
			}
			return nil, errAt(CodeUndefinedFunction, a.Location, "operator does not exist: %s %s", op, typeName(r.Type()))
		}
		l, err := bind(a.Lexpr)
		if err != nil {
			return nil, err
		}
		switch op {
		case "~~", "!~~", "~~*", "!~~*":
			return b.like(l, r, strings.Contains(op, "*"), strings.HasPrefix(op, "!"), true, a.Location)
		case "~", "!~", "~*", "!~*":
			return b.like(l, r, strings.Contains(op, "*"), strings.HasPrefix(op, "!"), false, a.Location)
		}
		return b.binary(op, l, r, a.Location)
	case pg.A_Expr_Kind_AEXPR_LIKE, pg.A_Expr_Kind_AEXPR_ILIKE:
		l, err := bind(a.Lexpr)
		if err != nil {
			return nil, err
		}
		r, err := bind(a.Rexpr)
		if err != nil {
			return nil, err
		}
		return b.like(l, r, a.Kind == pg.A_Expr_Kind_AEXPR_ILIKE, strings.HasPrefix(op, "!"), true, a.Location)
	case pg.A_Expr_Kind_AEXPR_IN:
		l, err := bind(a.Lexpr)
		if err != nil {
			return nil, err
		}
		items := a.Rexpr.GetList().GetItems()
		list := make([]expr, len(items))
		for i, it := range items {
			if list[i], err = bind(it); err != nil {
				return nil, err
			}
		}
		ct, err := commonType(append([]expr{l}, list...), a.Location, "IN")
		if err != nil {
			return nil, err
		}
		if l, err = b.coerce(l, ct); err != nil {
			return nil, err
		}
		for i := range list {
			if list[i], err = b.coerce(list[i], ct); err != nil {
				return nil, err
			}
		}
		return &inListExpr{arg: l, list: list, not: op == "<>"}, nil
	case pg.A_Expr_Kind_AEXPR_BETWEEN, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN, pg.A_Expr_Kind_AEXPR_BETWEEN_SYM, pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM:
		x, err := bind(a.Lexpr)
		if err != nil {
			return nil, err
		}
		items := a.Rexpr.GetList().GetItems()
		lo, err := bind(items[0])
		if err != nil {
			return nil, err
		}
		hi, err := bind(items[1])
		if err != nil {
			return nil, err
		}
		ge, err := b.binary(">=", x, lo, a.Location)
		if err != nil {
			return nil, err
		}
		le, err := b.binary("<=", x, hi, a.Location)
		if err != nil {
			return nil, err
		}
		var e expr = &boolExpr{and: true, args: []expr{ge, le}}
		if a.Kind == pg.A_Expr_Kind_AEXPR_BETWEEN_SYM || a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM {
			ge2, _ := b.binary(">=", x, hi, a.Location)
			le2, _ := b.binary("<=", x, lo, a.Location)
			e = &boolExpr{args: []expr{e, &boolExpr{and: true, args: []expr{ge2, le2}}}}
		}
		if a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN || a.Kind == pg.A_Expr_Kind_AEXPR_NOT_BETWEEN_SYM {
			e = &notExpr{arg: e}
		}
		return e, nil
	case pg.A_Expr_Kind_AEXPR_NULLIF:
		l, err := bind(a.Lexpr)
		if err != nil {
			return nil, err
		}
		r, err := bind(a.Rexpr)
		if err != nil {
			return nil, err
		}
		ct, err := commonType([]expr{l, r}, a.Location, "NULLIF")
		if err != nil {
			return nil, err
		}
		l, _ = b.coerce(l, ct)
		if r, err = b.coerce(r, ct); err != nil {
			return nil, err
		}
		return &coalesceExpr{name: "nullif", args: []expr{l, r}, typ: ct}, nil
	case pg.A_Expr_Kind_AEXPR_DISTINCT, pg.A_Expr_Kind_AEXPR_NOT_DISTINCT:
		l, err := bind(a.Lexpr)
		if err != nil {
			return nil, err
		}
		r, err := bind(a.Rexpr)
		if err != nil {
			return nil, err
		}
		ct, err := commonType([]expr{l, r}, a.Location, "IS DISTINCT FROM")
		if err != nil {
			return nil, err
		}
		l, _ = b.coerce(l, ct)
		if r, err = b.coerce(r, ct); err != nil {
			return nil, err
		}
		not := a.Kind == pg.A_Expr_Kind_AEXPR_NOT_DISTINCT
		name := "is_distinct_from"
		if not {
			name = "is_not_distinct_from"
		}
		return &funcExpr{name: name, args: []expr{l, r}, typ: TypeBool, impl: func(ec *execCtx, v []*Vector, n int) (*Vector, error) {
			out := newVec(TypeBool, n)
			for i := range n {
				out.Bool[i] = sameValue(v[0], i, v[1], i) == not
			}
			return out, nil
		}}, nil
	}
	return nil, errAt(CodeFeatureNotSupported, a.Location, "operator %s (%s) is not supported", op, a.Kind)
}

// commonType finds the type a set of expressions is compared or combined
// in (UNION, CASE, IN, COALESCE): unknown literals take the others' type,
// integers widen, integers and floats meet in double precision.
func commonType(es []expr, loc int32, what string) (Type, error) {
	t := TypeUnknown
	for _, e := range es {
		et := e.Type()
		if et == TypeUnknown {
			continue
		}
		switch {
		case t == TypeUnknown || t == et:
			t = et
		case isIntType(t) && isIntType(et):
			t = TypeInt8
		case isNumType(t) && isNumType(et):
			if t == TypeNumeric && (isIntType(et) || et == TypeNumeric) || et == TypeNumeric && isIntType(t) {
				t = TypeNumeric
			} else {
				t = TypeFloat8
			}
		case isTextType(t) && isTextType(et):
			t = TypeText
		case isTimeType(t) && isTimeType(et):
			t = TypeTimestamptz
		default:
			return 0, errAt(CodeDatatypeMismatch, loc, "%s types %s and %s cannot be matched", what, typeName(t), typeName(et))
		}
	}
	if t == TypeUnknown {
		t = TypeText
	}
	return t, nil
}

// binary binds l op r.
func (b *binder) binary(op string, l, r expr, loc int32) (expr, error) {
	lt, rt := l.Type(), r.Type()
	if op == "!=" {
		op = "<>"
	}
	noOp := func() error {
		return &Error{Code: CodeUndefinedFunction, Message: "operator does not exist: " + typeName(l.Type()) + " " + op + " " + typeName(r.Type()),
			Hint: "No operator matches the given name and argument types. You might need to add explicit type casts.", Position: int(loc) + 1}
	}
	var err error
	if op == "||" {
		if l, err = b.coerce(l, TypeText); err != nil {
			return nil, err
		}
		if r, err = b.coerce(r, TypeText); err != nil {
			return nil, err
		}
		return &binExpr{op: op, mode: modeConcat, l: l, r: r, typ: TypeText}, nil
	}
	// unknown literals and untyped parameters take the other side's type
	// (an interval next to a timestamp in + and -).
	resolve := func(x expr, other Type) (expr, error) {
		if other == TypeUnknown {
			other = TypeText
		}
		if isTimeType(other) && (op == "+" || op == "-") {
			other = TypeInterval
		}
		return b.coerce(x, other)
	}
	if lt == TypeUnknown || isUnknownParam(l) {
		if l, err = resolve(l, rt); err != nil {
			return nil, err
		}
	}
	if rt == TypeUnknown || isUnknownParam(r) {
		if r, err = resolve(r, l.Type()); err != nil {
			return nil, err
		}
	}
	lt, rt = l.Type(), r.Type()
	if isTimeType(lt) && isTimeType(rt) && lt != rt && (cmpOps[op] || op == "-") {
		// timestamp meets timestamptz in the session's time zone
		if l, err = b.coerce(l, TypeTimestamptz); err != nil {
			return nil, err
		}
		if r, err = b.coerce(r, TypeTimestamptz); err != nil {
			return nil, err
		}
		lt, rt = TypeTimestamptz, TypeTimestamptz
	}
	if cmpOps[op] {
		switch {
		case isNumType(lt) && isNumType(rt):
			if phys(lt) != phys(rt) || lt == TypeFloat4 || rt == TypeFloat4 {
				if l, err = b.coerce(l, TypeFloat8); err != nil {
					return nil, err
				}
				if r, err = b.coerce(r, TypeFloat8); err != nil {
					return nil, err
				}
			}
		case isTextType(lt) && isTextType(rt), isTimeType(lt) && isTimeType(rt), lt == rt:
		default:
			return nil, noOp()
		}
		return &binExpr{op: op, mode: modeCmp, l: l, r: r, typ: TypeBool}, nil
	}
	if op == "^" && isNumType(lt) && isNumType(rt) {
		if l, err = b.coerce(l, TypeFloat8); err != nil {
			return nil, err
		}
		if r, err = b.coerce(r, TypeFloat8); err != nil {
			return nil, err
		}
		return &binExpr{op: op, mode: modeArithF, l: l, r: r, typ: TypeFloat8}, nil
	}
	switch {
	case isIntType(lt) && isIntType(rt):
		t := TypeInt4
		if lt == TypeInt8 || rt == TypeInt8 {
			t = TypeInt8
		}
		return &binExpr{op: op, mode: modeArithI, l: l, r: r, typ: t}, nil
	case isNumType(lt) && isNumType(rt):
		t := TypeFloat8
		if (lt == TypeNumeric || isIntType(lt)) && (rt == TypeNumeric || isIntType(rt)) {
			t = TypeNumeric
		}
		if l, err = b.coerce(l, t); err != nil {
			return nil, err
		}
		if r, err = b.coerce(r, t); err != nil {
			return nil, err
		}
		return &binExpr{op: op, mode: modeArithF, l: l, r: r, typ: t}, nil
	case isTimeType(lt) && rt == TypeInterval && (op == "+" || op == "-"),
		lt == TypeInterval && isTimeType(rt) && op == "+":
		t := lt
		if lt == TypeInterval {
			t = rt
		}
		return &binExpr{op: op, mode: modeTsIvl, l: l, r: r, typ: t}, nil
	case isTimeType(lt) && isTimeType(rt) && op == "-":
		return &binExpr{op: op, mode: modeArithI, l: l, r: r, typ: TypeInterval}, nil
	case lt == TypeInterval && rt == TypeInterval && (op == "+" || op == "-"):
		return &binExpr{op: op, mode: modeArithI, l: l, r: r, typ: TypeInterval}, nil
	case lt == TypeInterval && isNumType(rt) && (op == "*" || op == "/"):
		if r, err = b.coerce(r, TypeFloat8); err != nil {
			return nil, err
		}
		return &binExpr{op: op, mode: modeIvlMulF, l: l, r: r, typ: TypeInterval}, nil
	case isNumType(lt) && rt == TypeInterval && op == "*":
		if l, err = b.coerce(l, TypeFloat8); err != nil {
			return nil, err
		}
		return &binExpr{op: op, mode: modeIvlMulF, l: r, r: l, typ: TypeInterval}, nil
	}
	return nil, noOp()
}

func isUnknownParam(e expr) bool {
	p, ok := e.(*paramExpr)
	return ok && *p.typ == TypeUnknown
}

// arith is binary for function forms (mod).
func (b *binder) arith(op string, l, r expr, loc int32) (expr, error) {
	return b.binary(op, l, r, loc)
}

// likeExpr is LIKE / ILIKE / regular expression match.
type likeExpr struct {
	arg, pat expr
	ci, not  bool
	like     bool // LIKE pattern (else POSIX regular expression)
	re       *regexp.Regexp
}

func (e *likeExpr) Type() Type { return TypeBool }
func (e *likeExpr) String() string {
	op := "~"
	if e.like {
		op = "LIKE"
		if e.ci {
			op = "ILIKE"
		}
	} else if e.ci {
		op = "~*"
	}
	if e.not {
		op = "NOT " + op
	}
	return "(" + e.arg.String() + " " + op + " " + e.pat.String() + ")"
}
func (e *likeExpr) children() []expr { return []expr{e.arg, e.pat} }
func (e *likeExpr) withChildren(c []expr) expr {
	x := *e
	x.arg, x.pat = c[0], c[1]
	return &x
}
func (e *likeExpr) eval(ec *execCtx, b *Batch) (*Vector, error) {
	v, err := e.arg.eval(ec, b)
	if err != nil {
		return nil, err
	}
	p, err := e.pat.eval(ec, b)
	if err != nil {
		return nil, err
	}
	n := b.Len
	out := newVec(TypeBool, n)
	out.Null = mergeNulls(n, v, p)
	re := e.re
	last := ""
	for i := range n {
		if out.Null != nil && out.Null[i] {
			continue
		}
		if e.re == nil && (re == nil || p.Str[i] != last) {
			if re, err = compilePattern(p.Str[i], e.like, e.ci); err != nil {
				return nil, err
			}
			last = p.Str[i]
		}
		out.Bool[i] = re.MatchString(v.Str[i]) != e.not
	}
	return out, nil
}

// compilePattern turns a LIKE pattern (% _ and \ escapes) or a POSIX
// regular expression into a Go regexp.
func compilePattern(p string, like, ci bool) (*regexp.Regexp, error) {
	var sb strings.Builder
	sb.WriteString("(?s)")
	if ci {
		sb.WriteString("(?i)")
	}
	if !like {
		sb.WriteString(p)
	} else {
		sb.WriteString("^")
		for i := 0; i < len(p); i++ {
			switch c := p[i]; c {
			case '%':
				sb.WriteString(".*")
			case '_':
				sb.WriteString(".")
			case '\\':
				if i+1 < len(p) {
					i++
					sb.WriteString(regexp.QuoteMeta(p[i : i+1]))
				}
			default:
				sb.WriteString(regexp.QuoteMeta(p[i : i+1]))
			}
		}
		sb.WriteString("$")
	}
	re, err := regexp.Compile(sb.String())
	if err != nil {
		return nil, errorf("2201B", "invalid regular expression: %v", err)
	}
	return re, nil
}

func (b *binder) like(l, r expr, ci, not, like bool, loc int32) (expr, error) {
	var err error
	if !isTextType(l.Type()) && !isUnknownParam(l) {
		return nil, errAt(CodeUndefinedFunction, loc, "operator does not exist: %s ~~ %s", typeName(l.Type()), typeName(r.Type()))
	}
	if l, err = b.coerce(l, TypeText); err != nil {
		return nil, err
	}
	if r, err = b.coerce(r, TypeText); err != nil {
		return nil, err
	}
	e := &likeExpr{arg: l, pat: r, ci: ci, not: not, like: like}
	if c, ok := r.(*constExpr); ok && !c.null {
		if e.re, err = compilePattern(c.s, like, ci); err != nil {
			return nil, err
		}
	}
	return e, nil
}

func (b *binder) bindCase(c *pg.CaseExpr, sc *scope, blk *block) (expr, error) {
	var arg expr
	var err error
	if c.Arg != nil {
		if arg, err = b.bindExpr(c.Arg, sc, blk); err != nil {
			return nil, err
		}
	}
	ce := &caseExpr{}
	for _, w := range c.Args {
		cw := w.GetCaseWhen()
		cond, err := b.bindExpr(cw.Expr, sc, blk)
		if err != nil {
			return nil, err
		}
		if arg != nil {
			if cond, err = b.binary("=", arg, cond, cw.Location); err != nil {
				return nil, err
			}
		} else if cond, err = b.boolArg(cond, "argument of CASE/WHEN", cw.Location); err != nil {
			return nil, err
		}
		v, err := b.bindExpr(cw.Result, sc, blk)
		if err != nil {
			return nil, err
		}
		ce.conds = append(ce.conds, cond)
		ce.vals = append(ce.vals, v)
	}
	if c.Defresult != nil {
		if ce.els, err = b.bindExpr(c.Defresult, sc, blk); err != nil {
			return nil, err
		}
	}
	all := append([]expr{}, ce.vals...)
	if ce.els != nil {
		all = append(all, ce.els)
	}
	t, err := commonType(all, c.Location, "CASE")
	if err != nil {
		return nil, err
	}
	ce.typ = t
	for i := range ce.vals {
		if ce.vals[i], err = b.coerce(ce.vals[i], t); err != nil {
			return nil, err
		}
	}
	if ce.els != nil {
		if ce.els, err = b.coerce(ce.els, t); err != nil {
			return nil, err
		}
	}
	return ce, nil
}

func (b *binder) bindVariadic(name string, nodes []*pg.Node, sc *scope, blk *block, loc int32) (expr, error) {
	args := make([]expr, len(nodes))
	for i, n := range nodes {
		e, err := b.bindExpr(n, sc, blk)
		if err != nil {
			return nil, err
		}
		args[i] = e
	}
	t, err := commonType(args, loc, strings.ToUpper(name))
	if err != nil {
		return nil, err
	}
	for i := range args {
		if args[i], err = b.coerce(args[i], t); err != nil {
			return nil, err
		}
	}
	return &coalesceExpr{name: name, args: args, typ: t}, nil
}

// bindFunc binds a function call: aggregate, window or scalar.
func (b *binder) bindFunc(f *pg.FuncCall, sc *scope, blk *block) (expr, error) {
	names := nameList(f.Funcname)
	name := strings.ToLower(names[len(names)-1])
	if f.Over != nil {
		return b.bindWindow(name, f, sc, blk)
	}
	if len(names) == 2 && names[0] == "fineo" {
		if _, ok := schemaFuncs[name]; ok {
			return nil, errAt(CodeFeatureNotSupported, f.Location, "fineo.%s changes a table's schema: call it alone, as the only item of a SELECT without FROM", name)
		}
	}
	if aggNames[name] {
		return b.bindAgg(name, f, sc, blk)
	}
	if f.AggStar || f.AggDistinct || f.AggFilter != nil || len(f.AggOrder) > 0 {
		return nil, errAt(CodeWrongObjectType, f.Location, "%s is not an aggregate function", name)
	}
	fb, ok := scalarFuncs[name]
	if !ok {
		fb, ok = catalogFuncs[name]
	}
	if !ok {
		args := make([]expr, 0, len(f.Args))
		for _, a := range f.Args {
			if e, err := b.bindExpr(a, sc, blk); err == nil {
				args = append(args, e)
			}
		}
		return nil, noFunc(name, args, f.Location)
	}
	args := make([]expr, len(f.Args))
	for i, a := range f.Args {
		e, err := b.bindExpr(a, sc, blk)
		if err != nil {
			return nil, err
		}
		args[i] = e
	}
	return fb(b, name, args, f.Location)
}

// CodeWrongObjectType is SQLSTATE wrong_object_type.
const CodeWrongObjectType = "42809"

func (b *binder) bindAgg(name string, f *pg.FuncCall, sc *scope, blk *block) (expr, error) {
	if blk == nil || !blk.allowAgg {
		return nil, errAt(CodeGroupingError, f.Location, "aggregate functions are not allowed here")
	}
	if blk.inAgg {
		return nil, errAt(CodeGroupingError, f.Location, "aggregate function calls cannot be nested")
	}
	blk.inAgg = true
	defer func() { blk.inAgg = false }()
	spec := &aggSpec{name: name, star: f.AggStar, distinct: f.AggDistinct}
	argNodes := f.Args
	if f.AggWithinGroup {
		if name != "percentile_cont" && name != "percentile_disc" || len(f.Args) != 1 || len(f.AggOrder) != 1 {
			return nil, errAt(CodeFeatureNotSupported, f.Location, "WITHIN GROUP is supported for percentile_cont and percentile_disc with one fraction")
		}
		frac, err := b.bindExpr(f.Args[0], &scope{}, nil)
		if err != nil {
			return nil, err
		}
		if spec.frac, err = b.coerce(frac, TypeFloat8); err != nil {
			return nil, err
		}
		argNodes = []*pg.Node{f.AggOrder[0].GetSortBy().Node}
	} else if name == "percentile_cont" || name == "percentile_disc" {
		return nil, errAt(CodeWrongObjectType, f.Location, "WITHIN GROUP is required for ordered-set aggregate %s", name)
	} else if len(f.AggOrder) > 0 && name != "first" && name != "last" {
		// ORDER BY inside an aggregate does not change these results
	}
	var types []Type
	for _, a := range argNodes {
		e, err := b.bindExpr(a, sc, blk)
		if err != nil {
			return nil, err
		}
		if e.Type() == TypeUnknown {
			if e, err = b.coerce(e, TypeText); err != nil {
				return nil, err
			}
		}
		spec.args = append(spec.args, e)
		types = append(types, e.Type())
	}
	t, err := aggResultType(name, types, f.AggStar)
	if err != nil {
		if e, ok := err.(*Error); ok {
			e.Position = int(f.Location) + 1
		}
		return nil, err
	}
	spec.typ = t
	if f.AggFilter != nil {
		fe, err := b.bindExpr(f.AggFilter, sc, nil)
		if err != nil {
			return nil, err
		}
		if spec.filter, err = b.boolArg(fe, "argument of FILTER", f.Location); err != nil {
			return nil, err
		}
	}
	blk.aggs = append(blk.aggs, spec)
	return &aggRef{spec: spec}, nil
}
