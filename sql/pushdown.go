package sql

// Pushdown moves what storage can do into the ScanSpec:
//
//  1. the time range: conjuncts `time op X` (op one of < <= > >= =, also
//     from BETWEEN) where X has no column references — constants,
//     parameters, now() and arithmetic on them. X is evaluated when the
//     statement runs, so a cached plan with now() or $1 stays correct.
//  2. tag predicates: `tag = X`, `tag <> X`, `tag IN (...)`,
//     `tag NOT IN (...)` with constants or parameters, and an OR of `=` and
//     IN on one tag (`host = 'a' OR host = 'b'`, as TSBS and BI tools
//     write host lists), which is pushed as IN.
//
// 3. field hints: `numeric field op constant` (op < <= > >= =) is handed to
//    the scan as a FieldFilter so it can skip rows before building them;
//    unlike 1 and 2 it also stays in the filter.
//
// A pushed conjunct is implied by the scan's contract (ScanSpec returns only
// rows in [MinTime, MaxTime] whose series pass every TagFilter; a series
// without the tag fails =, IN, <> and NOT IN alike, as NULL does in SQL),
// so it is removed from the filter. Everything else stays in the filter.

// tagPush is a tag predicate whose values are evaluated at run time.
type tagPush struct {
	key  string
	op   TagFilterOp
	vals []expr
}

// conjuncts splits an AND tree.
func conjuncts(e expr) []expr {
	if b, ok := e.(*boolExpr); ok && b.and {
		var out []expr
		for _, a := range b.args {
			out = append(out, conjuncts(a)...)
		}
		return out
	}
	return []expr{e}
}

// pushable reports whether e can be evaluated once before the scan.
func pushable(e expr) bool {
	ok := isStable(e)
	walkExpr(e, func(x expr) {
		if _, sub := x.(*subqExpr); sub {
			ok = false
		}
	})
	return ok
}

var flipOp = map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<=", "=": "="}

// pushdown moves implied conjuncts of pred into sp and returns the rest
// (nil when nothing is left).
func pushdown(sp *scanPlan, pred expr) expr {
	var rest []expr
	for _, c := range conjuncts(pred) {
		if pushOne(sp, c) {
			continue
		}
		rest = append(rest, c)
	}
	switch len(rest) {
	case 0:
		return nil
	case 1:
		return rest[0]
	}
	return &boolExpr{and: true, args: rest}
}

func (sp *scanPlan) colKind(e expr) (ColumnKind, string, bool) {
	cr, ok := e.(*colRef)
	if !ok {
		return 0, "", false
	}
	return sp.kinds[cr.idx], sp.cols[cr.idx].name, true
}

// widenedCol returns the column of e when e is a column, or a numeric
// widening cast of one (bigint to double precision or numeric, as
// comparing a bigint field with 90.0 binds); otherwise nil.
func widenedCol(e expr) *colRef {
	switch x := e.(type) {
	case *colRef:
		return x
	case *castExpr:
		if cr, ok := x.arg.(*colRef); ok && isIntType(cr.Type()) && (isFloatType(x.to) || x.to == TypeNumeric) {
			return cr
		}
	}
	return nil
}

func pushOne(sp *scanPlan, c expr) bool {
	switch e := c.(type) {
	case *binExpr:
		if e.mode != modeCmp {
			return false
		}
		col, val, op := e.l, e.r, e.op
		if widenedCol(col) == nil {
			col, val, op = e.r, e.l, flipOp[e.op]
		}
		bare := col
		if wc := widenedCol(col); wc != nil {
			bare = wc
		}
		kind, name, ok := sp.colKind(bare)
		if !ok || !pushable(val) {
			return false
		}
		if bare != col && kind != KindField {
			return false // a cast of time or a tag changes what it compares
		}
		switch kind {
		case KindField:
			// A numeric comparison with a constant goes to the scan as a
			// hint; it also stays in the filter (return false).
			if (op == "<" || op == "<=" || op == ">" || op == ">=" || op == "=") &&
				isNumType(col.Type()) && isNumType(val.Type()) {
				sp.fieldPush = append(sp.fieldPush, fieldPush{col: name, op: op, e: val})
			}
			return false
		case KindTime:
			// Only comparisons that bound a range (not <> or !=).
			if !(op == "<" || op == "<=" || op == ">" || op == ">=" || op == "=") || !isTimeType(val.Type()) {
				return false
			}
			sp.bounds = append(sp.bounds, timeBound{op: op, e: val})
			return true
		case KindTag:
			if !isTextType(val.Type()) {
				return false
			}
			switch e.op {
			case "=":
				sp.tagPush = append(sp.tagPush, tagPush{key: name, op: TagEq, vals: []expr{val}})
				return true
			case "<>":
				sp.tagPush = append(sp.tagPush, tagPush{key: name, op: TagNe, vals: []expr{val}})
				return true
			}
		}
	case *boolExpr:
		if e.and {
			return false
		}
		name, vals, ok := sp.tagDisjunction(e)
		if !ok {
			return false
		}
		sp.tagPush = append(sp.tagPush, tagPush{key: name, op: TagIn, vals: vals})
		return true
	case *inListExpr:
		kind, name, ok := sp.colKind(e.arg)
		if !ok || kind != KindTag {
			return false
		}
		for _, v := range e.list {
			if !pushable(v) || !isTextType(v.Type()) {
				return false
			}
		}
		op := TagIn
		if e.not {
			op = TagNotIn
		}
		sp.tagPush = append(sp.tagPush, tagPush{key: name, op: op, vals: e.list})
		return true
	}
	return false
}

// tagDisjunction reports whether or is an OR (nested ORs included) whose
// every branch is `tag = X` or `tag IN (...)` on the same tag with pushable
// text values, and returns the tag and all the values. Such an OR is
// exactly `tag IN (values)`, NULLs included: a NULL value makes its branch
// NULL, which OR ignores unless every branch is NULL or false — as IN does.
func (sp *scanPlan) tagDisjunction(or *boolExpr) (string, []expr, bool) {
	var name string
	var vals []expr
	var walk func(e expr) bool
	walk = func(e expr) bool {
		var col expr
		var branch []expr
		switch x := e.(type) {
		case *boolExpr:
			if x.and {
				return false
			}
			for _, a := range x.args {
				if !walk(a) {
					return false
				}
			}
			return true
		case *binExpr:
			if x.mode != modeCmp || x.op != "=" {
				return false
			}
			col, branch = x.l, []expr{x.r}
			if _, ok := col.(*colRef); !ok {
				col, branch = x.r, []expr{x.l}
			}
		case *inListExpr:
			if x.not {
				return false
			}
			col, branch = x.arg, x.list
		default:
			return false
		}
		kind, n, ok := sp.colKind(col)
		if !ok || kind != KindTag || (name != "" && n != name) {
			return false
		}
		for _, v := range branch {
			if !pushable(v) || !isTextType(v.Type()) {
				return false
			}
		}
		name = n
		vals = append(vals, branch...)
		return true
	}
	if !walk(or) || name == "" {
		return "", nil, false
	}
	return name, vals, true
}

// tagFilters evaluates the pushed tag predicates; ok is false when no row
// can pass (tag = NULL, NOT IN with a NULL).
func (sp *scanPlan) tagFilters(ec *execCtx) ([]TagFilter, bool, error) {
	var out []TagFilter
	for _, t := range sp.tagPush {
		f := TagFilter{Key: t.key, Op: t.op}
		for _, e := range t.vals {
			v, err := evalScalar(ec, e)
			if err != nil {
				return nil, false, err
			}
			if v.isNull(0) {
				if t.op == TagIn {
					continue // x IN (a, NULL) is true only for a
				}
				return nil, false, nil
			}
			f.Values = append(f.Values, v.Str[0])
		}
		if len(f.Values) == 0 {
			return nil, false, nil
		}
		out = append(out, f)
	}
	return out, true, nil
}
