package sql

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// cteDef is a WITH query, planned once and inlined where referenced.
type cteDef struct {
	p    plan
	cols []colDesc
}

// planQuery plans a SELECT (or VALUES / UNION) node.
func (b *binder) planQuery(n *pg.Node) (plan, error) {
	s := n.GetSelectStmt()
	if s == nil {
		return nil, errorf(CodeFeatureNotSupported, "only SELECT is supported here")
	}
	return b.planSelect(s)
}

func (b *binder) planSelect(s *pg.SelectStmt) (plan, error) {
	if s.WithClause != nil {
		if s.WithClause.Recursive {
			return nil, errAt(CodeFeatureNotSupported, s.WithClause.Location, "WITH RECURSIVE is not supported")
		}
		defs := map[string]*cteDef{}
		b.ctes = append(b.ctes, defs)
		defer func() { b.ctes = b.ctes[:len(b.ctes)-1] }()
		for _, c := range s.WithClause.Ctes {
			cte := c.GetCommonTableExpr()
			p, err := b.planQuery(cte.Ctequery)
			if err != nil {
				return nil, err
			}
			cols := append([]colDesc(nil), p.columns()...)
			for i, a := range nameList(cte.Aliascolnames) {
				if i < len(cols) {
					cols[i].name = a
				}
			}
			defs[cte.Ctename] = &cteDef{p: p, cols: cols}
		}
	}
	if len(s.LockingClause) > 0 {
		return nil, errorf(CodeFeatureNotSupported, "SELECT ... FOR UPDATE/SHARE is not supported")
	}
	if s.IntoClause != nil {
		return nil, errorf(CodeFeatureNotSupported, "SELECT INTO is not supported")
	}
	switch s.Op {
	case pg.SetOperation_SETOP_UNION:
		return b.planUnion(s)
	case pg.SetOperation_SETOP_INTERSECT, pg.SetOperation_SETOP_EXCEPT:
		return nil, errorf(CodeFeatureNotSupported, "INTERSECT and EXCEPT are not supported")
	}
	if len(s.ValuesLists) > 0 {
		p, err := b.planValues(s.ValuesLists)
		if err != nil {
			return nil, err
		}
		return b.finishOutput(p, s)
	}
	p, err := b.planBlock(s)
	if err != nil {
		if ep, ok := b.emptyBlock(s); ok {
			return ep, nil
		}
	}
	return p, err
}

func (b *binder) planValues(lists []*pg.Node) (plan, error) {
	vp := &valuesPlan{}
	for _, l := range lists {
		items := l.GetList().GetItems()
		if len(vp.rows) > 0 && len(items) != len(vp.rows[0]) {
			return nil, errorf(CodeSyntaxError, "VALUES lists must all be the same length")
		}
		row := make([]expr, len(items))
		for i, it := range items {
			e, err := b.bindExpr(it, &scope{}, nil)
			if err != nil {
				return nil, err
			}
			row[i] = e
		}
		vp.rows = append(vp.rows, row)
	}
	for c := range vp.rows[0] {
		col := make([]expr, len(vp.rows))
		for r := range vp.rows {
			col[r] = vp.rows[r][c]
		}
		t, err := commonType(col, -1, "VALUES")
		if err != nil {
			return nil, err
		}
		for r := range vp.rows {
			if vp.rows[r][c], err = b.coerce(vp.rows[r][c], t); err != nil {
				return nil, err
			}
		}
		vp.cols = append(vp.cols, colDesc{name: "column" + strconv.Itoa(c+1), typ: t})
	}
	return vp, nil
}

func (b *binder) planUnion(s *pg.SelectStmt) (plan, error) {
	l, err := b.planSelect(s.Larg)
	if err != nil {
		return nil, err
	}
	r, err := b.planSelect(s.Rarg)
	if err != nil {
		return nil, err
	}
	lc, rc := l.columns(), r.columns()
	if len(lc) != len(rc) {
		return nil, errorf(CodeSyntaxError, "each UNION query must have the same number of columns")
	}
	cols := make([]colDesc, len(lc))
	for i := range lc {
		t, err := commonType([]expr{&constExpr{typ: lc[i].typ, null: true}, &constExpr{typ: rc[i].typ, null: true}}, -1, "UNION")
		if err != nil {
			return nil, err
		}
		cols[i] = colDesc{name: lc[i].name, typ: t}
	}
	var p plan = &unionPlan{ins: []plan{l, r}, cols: cols}
	if !s.All {
		p = &distinctPlan{in: p, keys: seq(len(cols))}
	}
	return b.finishOutput(p, s)
}

func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

// finishOutput applies ORDER BY (by output name or ordinal) and LIMIT to a
// VALUES or UNION result.
func (b *binder) finishOutput(p plan, s *pg.SelectStmt) (plan, error) {
	cols := p.columns()
	sc := &scope{}
	for _, c := range cols {
		sc.cols = append(sc.cols, scopeCol{name: c.name, typ: c.typ, tref: -1})
	}
	var keys []sortKey
	for _, n := range s.SortClause {
		sb := n.GetSortBy()
		idx := -1
		if k, ok := ordinal(sb.Node); ok {
			if k < 1 || k > len(cols) {
				return nil, errorf(CodeInvalidColumnRef, "ORDER BY position %d is not in select list", k)
			}
			idx = k - 1
		} else {
			e, err := b.bindExpr(sb.Node, sc, nil)
			if err != nil {
				return nil, err
			}
			cr, ok := e.(*colRef)
			if !ok {
				return nil, errorf(CodeFeatureNotSupported, "ORDER BY on a UNION or VALUES result must name an output column")
			}
			idx = cr.idx
		}
		keys = append(keys, sortKeyOf(sb, idx))
	}
	return b.applySortLimit(p, keys, s)
}

func sortKeyOf(sb *pg.SortBy, idx int) sortKey {
	k := sortKey{col: idx, desc: sb.SortbyDir == pg.SortByDir_SORTBY_DESC}
	k.nullsFirst = k.desc
	switch sb.SortbyNulls {
	case pg.SortByNulls_SORTBY_NULLS_FIRST:
		k.nullsFirst = true
	case pg.SortByNulls_SORTBY_NULLS_LAST:
		k.nullsFirst = false
	}
	return k
}

// ordinal reports whether n is an integer constant (a column position).
func ordinal(n *pg.Node) (int, bool) {
	c := n.GetAConst()
	if c == nil {
		return 0, false
	}
	if iv, ok := c.Val.(*pg.A_Const_Ival); ok {
		return int(iv.Ival.Ival), true
	}
	return 0, false
}

// applySortLimit adds sort (top-N when limited) and LIMIT/OFFSET.
func (b *binder) applySortLimit(p plan, keys []sortKey, s *pg.SelectStmt) (plan, error) {
	var limit, offset expr
	var err error
	if s.LimitCount != nil {
		if limit, err = b.bindCount(s.LimitCount, "LIMIT"); err != nil {
			return nil, err
		}
	}
	if s.LimitOffset != nil {
		if offset, err = b.bindCount(s.LimitOffset, "OFFSET"); err != nil {
			return nil, err
		}
	}
	if len(keys) > 0 {
		sp := &sortPlan{in: p, keys: keys}
		if limit != nil {
			sp.limit = limit
			if offset != nil {
				if sp.limit, err = b.binary("+", limit, offset, -1); err != nil {
					return nil, err
				}
				if sp.limit, err = b.fold(sp.limit); err != nil {
					return nil, err
				}
			}
		}
		p = sp
	}
	if limit != nil || offset != nil {
		p = &limitPlan{in: p, limit: limit, offset: offset}
	}
	return p, nil
}

func (b *binder) bindCount(n *pg.Node, what string) (expr, error) {
	e, err := b.bindExpr(n, &scope{}, nil)
	if err != nil {
		return nil, err
	}
	if c, ok := e.(*constExpr); ok && c.null {
		return nil, nil // LIMIT ALL / LIMIT NULL
	}
	if !isIntType(e.Type()) && e.Type() != TypeUnknown && !isUnknownParam(e) && !isNumType(e.Type()) {
		return nil, errorf(CodeDatatypeMismatch, "argument of %s must be type bigint, not type %s", what, typeName(e.Type()))
	}
	return b.coerce(e, TypeInt8)
}

// target is one select-list entry.
type target struct {
	e    expr
	name string
}

// planBlock plans one SELECT ... FROM ... WHERE ... GROUP BY ... block.
func (b *binder) planBlock(s *pg.SelectStmt) (plan, error) {
	p, sc, err := b.planFrom(s.FromClause)
	if err != nil {
		return nil, err
	}
	if s.WhereClause != nil {
		pred, err := b.bindExpr(s.WhereClause, sc, nil)
		if err != nil {
			return nil, err
		}
		if pred, err = b.boolArg(pred, "argument of WHERE", -1); err != nil {
			return nil, err
		}
		if sp, ok := p.(*scanPlan); ok {
			pred = pushdown(sp, pred)
		}
		if pred != nil {
			p = &filterPlan{in: p, pred: pred}
		}
	}
	blk := &block{allowAgg: true, allowWin: true}

	// select list
	var targets []target
	for _, n := range s.TargetList {
		rt := n.GetResTarget()
		if cr := rt.Val.GetColumnRef(); cr != nil && cr.Fields[len(cr.Fields)-1].GetAStar() != nil {
			qual := ""
			if len(cr.Fields) > 1 {
				qual = strVal(cr.Fields[len(cr.Fields)-2])
			}
			found := false
			for i := range sc.cols {
				c := &sc.cols[i]
				if c.hidden || c.noUnqal || (qual != "" && c.table != qual && !strings.EqualFold(c.table, qual)) {
					continue
				}
				found = true
				b.markUsed(c)
				targets = append(targets, target{e: &colRef{idx: i, typ: c.typ, name: colName(c)}, name: c.name})
			}
			if qual != "" && !found {
				return nil, errAt(CodeUndefinedTable, cr.Location, "missing FROM-clause entry for table %q", qual)
			}
			if qual == "" && len(s.FromClause) == 0 {
				return nil, errAt(CodeSyntaxError, cr.Location, "SELECT * with no tables specified is not valid")
			}
			continue
		}
		e, err := b.bindExpr(rt.Val, sc, blk)
		if err != nil {
			return nil, err
		}
		name := rt.Name
		if name == "" {
			name = b.derivedName(rt.Val, e)
		}
		targets = append(targets, target{e: e, name: name})
	}

	// GROUP BY
	var keys []expr
	for _, g := range s.GroupClause {
		if k, ok := ordinal(g); ok {
			if k < 1 || k > len(targets) {
				return nil, errorf(CodeInvalidColumnRef, "GROUP BY position %d is not in select list", k)
			}
			keys = append(keys, targets[k-1].e)
			continue
		}
		if g.GetGroupingSet() != nil {
			return nil, errorf(CodeFeatureNotSupported, "GROUPING SETS, ROLLUP and CUBE are not supported")
		}
		if cr := g.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
			name := strVal(cr.Fields[0])
			if _, err := b.resolveCol(sc, "", name, cr.Location); err != nil {
				matched := false
				for _, t := range targets {
					if t.name == name {
						keys = append(keys, t.e)
						matched = true
						break
					}
				}
				if matched {
					continue
				}
			}
		}
		e, err := b.bindExpr(g, sc, nil)
		if err != nil {
			return nil, err
		}
		keys = append(keys, e)
	}

	// HAVING
	var having expr
	if s.HavingClause != nil {
		if having, err = b.bindExpr(s.HavingClause, sc, blk); err != nil {
			return nil, err
		}
		if having, err = b.boolArg(having, "argument of HAVING", -1); err != nil {
			return nil, err
		}
	}

	// ORDER BY and DISTINCT ON: output positions or extra expressions
	type orderItem struct {
		target int // -1: expr
		e      expr
		sb     *pg.SortBy
	}
	resolveOut := func(n *pg.Node, what string) (int, expr, error) {
		if k, ok := ordinal(n); ok {
			if k < 1 || k > len(targets) {
				return 0, nil, errorf(CodeInvalidColumnRef, "%s position %d is not in select list", what, k)
			}
			return k - 1, nil, nil
		}
		if cr := n.GetColumnRef(); cr != nil && len(cr.Fields) == 1 {
			name := strVal(cr.Fields[0])
			for i, t := range targets {
				if t.name == name {
					return i, nil, nil
				}
			}
		}
		e, err := b.bindExpr(n, sc, blk)
		if err != nil {
			return 0, nil, err
		}
		for i, t := range targets {
			if t.e.String() == e.String() {
				return i, nil, nil
			}
		}
		return -1, e, nil
	}
	var order []orderItem
	for _, n := range s.SortClause {
		sb := n.GetSortBy()
		i, e, err := resolveOut(sb.Node, "ORDER BY")
		if err != nil {
			return nil, err
		}
		order = append(order, orderItem{target: i, e: e, sb: sb})
	}
	distinct := len(s.DistinctClause) > 0
	var distinctOn []orderItem
	for _, n := range s.DistinctClause {
		if n == nil || n.Node == nil {
			continue
		}
		i, e, err := resolveOut(n, "DISTINCT ON")
		if err != nil {
			return nil, err
		}
		distinctOn = append(distinctOn, orderItem{target: i, e: e})
	}

	// aggregation
	if len(blk.aggs) > 0 || len(keys) > 0 {
		ap := &aggPlan{in: p, keys: keys, aggs: blk.aggs}
		keyStr := make([]string, len(keys))
		for i, k := range keys {
			keyStr[i] = k.String()
			ap.cols = append(ap.cols, colDesc{name: keyStr[i], typ: k.Type()})
		}
		for _, a := range blk.aggs {
			ap.cols = append(ap.cols, colDesc{name: a.String(), typ: a.typ})
		}
		post := func(e expr) (expr, error) { return postAgg(e, keys, keyStr, blk.aggs) }
		for i := range targets {
			if targets[i].e, err = post(targets[i].e); err != nil {
				return nil, err
			}
		}
		if having != nil {
			if having, err = post(having); err != nil {
				return nil, err
			}
		}
		for i := range order {
			if order[i].e != nil {
				if order[i].e, err = post(order[i].e); err != nil {
					return nil, err
				}
			}
		}
		for i := range distinctOn {
			if distinctOn[i].e != nil {
				if distinctOn[i].e, err = post(distinctOn[i].e); err != nil {
					return nil, err
				}
			}
		}
		for _, w := range blk.wins {
			if err := w.rewrite(post); err != nil {
				return nil, err
			}
		}
		p = ap
		if having != nil {
			p = &filterPlan{in: p, pred: having}
		}
	} else if having != nil {
		return nil, errorf(CodeGroupingError, "HAVING requires GROUP BY or an aggregate")
	}

	// windows
	if len(blk.wins) > 0 {
		wp := &windowPlan{in: p, specs: blk.wins}
		base := len(p.columns())
		wp.cols = append([]colDesc(nil), p.columns()...)
		for _, w := range blk.wins {
			wp.cols = append(wp.cols, colDesc{name: w.String(), typ: w.typ})
		}
		post := func(e expr) (expr, error) {
			return rewriteExpr(e, func(x expr) (expr, bool, error) {
				if wr, ok := x.(*winRef); ok {
					for k, w := range blk.wins {
						if w == wr.spec {
							return &colRef{idx: base + k, typ: w.typ, name: w.String()}, true, nil
						}
					}
				}
				return x, false, nil
			})
		}
		for i := range targets {
			if targets[i].e, err = post(targets[i].e); err != nil {
				return nil, err
			}
		}
		for i := range order {
			if order[i].e != nil {
				if order[i].e, err = post(order[i].e); err != nil {
					return nil, err
				}
			}
		}
		p = wp
	}

	// projection: the targets, then hidden sort / distinct-on columns
	pp := &projectPlan{in: p}
	for _, t := range targets {
		e := t.e
		if e.Type() == TypeUnknown {
			if e, err = b.coerce(e, TypeText); err != nil {
				return nil, err
			}
		}
		pp.exprs = append(pp.exprs, e)
		pp.cols = append(pp.cols, colDesc{name: t.name, typ: e.Type()})
	}
	visible := len(targets)
	addHidden := func(e expr) int {
		pp.exprs = append(pp.exprs, e)
		pp.cols = append(pp.cols, colDesc{name: e.String(), typ: e.Type()})
		return len(pp.exprs) - 1
	}
	var sortKeys []sortKey
	for _, o := range order {
		idx := o.target
		if idx < 0 {
			if distinct && len(distinctOn) == 0 {
				return nil, errorf(CodeInvalidColumnRef, "for SELECT DISTINCT, ORDER BY expressions must appear in select list")
			}
			idx = addHidden(o.e)
		}
		sortKeys = append(sortKeys, sortKeyOf(o.sb, idx))
	}
	var donKeys []int
	for _, d := range distinctOn {
		idx := d.target
		if idx < 0 {
			idx = addHidden(d.e)
		}
		donKeys = append(donKeys, idx)
	}
	p = pp
	switch {
	case len(donKeys) > 0:
		markLastPerSeries(pp, donKeys, sortKeys)
		if len(sortKeys) > 0 {
			p = &sortPlan{in: p, keys: sortKeys}
		}
		p = &distinctPlan{in: p, keys: donKeys}
		if p, err = b.applySortLimit(p, nil, s); err != nil {
			return nil, err
		}
	case distinct:
		p = &distinctPlan{in: p, keys: seq(visible)}
		if p, err = b.applySortLimit(p, sortKeys, s); err != nil {
			return nil, err
		}
	default:
		if p, err = b.applySortLimit(p, sortKeys, s); err != nil {
			return nil, err
		}
	}
	if len(pp.exprs) > visible {
		strip := &projectPlan{in: p, cols: pp.cols[:visible]}
		for i := range visible {
			strip.exprs = append(strip.exprs, &colRef{idx: i, typ: pp.cols[i].typ, name: pp.cols[i].name})
		}
		p = strip
	}
	return p, nil
}

// markLastPerSeries recognises "the newest row of each group of series":
//
//	SELECT DISTINCT ON (tag, ...) ... FROM t [WHERE pushed-down predicates]
//	ORDER BY tag, ... (any order and direction), time DESC, ...
//
// Every DISTINCT ON key is a tag, so each group is a union of whole
// series, and the row DISTINCT ON keeps is the group's newest; that row is
// the newest row of one of its series. So the scan may return only the
// newest row of each series, and the sort and DISTINCT ON above it give the
// same answer. It applies only when nothing filters between the scan and
// the projection (every WHERE conjunct was pushed down).
func markLastPerSeries(pp *projectPlan, donKeys []int, sortKeys []sortKey) {
	sp, ok := pp.in.(*scanPlan)
	if !ok || len(sortKeys) <= len(donKeys) {
		return
	}
	colOf := func(idx int) (ColumnKind, int, bool) {
		cr, ok := pp.exprs[idx].(*colRef)
		if !ok || cr.idx >= len(sp.kinds) {
			return 0, 0, false
		}
		return sp.kinds[cr.idx], cr.idx, true
	}
	keyCols := map[int]bool{}
	for _, k := range donKeys {
		kind, c, ok := colOf(k)
		if !ok || kind != KindTag {
			return
		}
		keyCols[c] = true
	}
	for _, sk := range sortKeys[:len(donKeys)] {
		_, c, ok := colOf(sk.col)
		if !ok || !keyCols[c] {
			return
		}
		delete(keyCols, c)
	}
	if len(keyCols) != 0 {
		return
	}
	if kind, _, ok := colOf(sortKeys[len(donKeys)].col); !ok || kind != KindTime || !sortKeys[len(donKeys)].desc {
		return
	}
	sp.lastPerSeries = true
}

// postAgg rewrites an expression bound on an aggregation's input into one
// over its output (group keys, then aggregates).
func postAgg(e expr, keys []expr, keyStr []string, aggs []*aggSpec) (expr, error) {
	return rewriteExpr(e, func(x expr) (expr, bool, error) {
		switch v := x.(type) {
		case *constExpr, *paramExpr:
			return x, true, nil
		case *aggRef:
			for j, a := range aggs {
				if a == v.spec {
					return &colRef{idx: len(keys) + j, typ: a.typ, name: a.String()}, true, nil
				}
			}
		case *winRef:
			return x, true, nil
		}
		s := x.String()
		for i, k := range keyStr {
			if s == k {
				return &colRef{idx: i, typ: keys[i].Type(), name: s}, true, nil
			}
		}
		if cr, ok := x.(*colRef); ok {
			return nil, true, errorf(CodeGroupingError, "column %q must appear in the GROUP BY clause or be used in an aggregate function", cr.name)
		}
		return x, false, nil
	})
}

// derivedName is the output column name PostgreSQL gives an expression.
func (b *binder) derivedName(n *pg.Node, e expr) string {
	switch {
	case n.GetColumnRef() != nil:
		f := n.GetColumnRef().Fields
		return strVal(f[len(f)-1])
	case n.GetFuncCall() != nil:
		f := nameList(n.GetFuncCall().Funcname)
		name := f[len(f)-1]
		if name == "date_part" && len(f) > 1 {
			return "extract"
		}
		return name
	case n.GetTypeCast() != nil:
		tc := n.GetTypeCast()
		if inner := b.derivedName(tc.Arg, nil); inner != "?column?" {
			return inner
		}
		if reg := regCastType(tc.TypeName); reg != "" {
			return reg
		}
		t, err := bindTypeName(tc.TypeName)
		if err != nil {
			return "?column?"
		}
		if t == TypeInterval || t == TypeNumeric || t == TypeText {
			return typeName(t)
		}
		return shortTypeName(t)
	case n.GetCaseExpr() != nil:
		return "case"
	case n.GetAExpr() != nil && n.GetAExpr().Kind == pg.A_Expr_Kind_AEXPR_NULLIF:
		return "nullif"
	case n.GetCoalesceExpr() != nil:
		return "coalesce"
	case n.GetMinMaxExpr() != nil:
		if n.GetMinMaxExpr().Op == pg.MinMaxOp_IS_LEAST {
			return "least"
		}
		return "greatest"
	case n.GetSqlvalueFunction() != nil:
		if f, ok := e.(*funcExpr); ok {
			return f.name
		}
	case n.GetSubLink() != nil:
		sl := n.GetSubLink()
		if sl.SubLinkType == pg.SubLinkType_EXISTS_SUBLINK {
			return "exists"
		}
		if sq, ok := e.(*subqExpr); ok && sl.SubLinkType == pg.SubLinkType_EXPR_SUBLINK {
			return sq.p.columns()[0].name
		}
	}
	return "?column?"
}

// planFrom plans the FROM list (comma-separated items are cross joined).
func (b *binder) planFrom(items []*pg.Node) (plan, *scope, error) {
	if len(items) == 0 {
		return &valuesPlan{rows: [][]expr{{}}}, &scope{}, nil
	}
	var p plan
	var sc *scope
	for _, it := range items {
		ip, isc, err := b.planFromItem(it)
		if err != nil {
			return nil, nil, err
		}
		if p == nil {
			p, sc = ip, isc
			continue
		}
		p = newJoin(p, ip, false, nil, nil, nil)
		sc = &scope{cols: append(append([]scopeCol{}, sc.cols...), isc.cols...)}
	}
	return p, sc, nil
}

func (b *binder) planFromItem(n *pg.Node) (plan, *scope, error) {
	switch {
	case n.GetRangeVar() != nil:
		return b.planRangeVar(n.GetRangeVar())
	case n.GetRangeSubselect() != nil:
		rs := n.GetRangeSubselect()
		if rs.Lateral {
			return nil, nil, errorf(CodeFeatureNotSupported, "LATERAL is not supported")
		}
		p, err := b.planQuery(rs.Subquery)
		if err != nil {
			return nil, nil, err
		}
		alias := ""
		var colnames []string
		if rs.Alias != nil {
			alias = rs.Alias.Aliasname
			colnames = nameList(rs.Alias.Colnames)
		}
		sc := &scope{}
		for i, c := range p.columns() {
			name := c.name
			if i < len(colnames) {
				name = colnames[i]
			}
			sc.cols = append(sc.cols, scopeCol{table: alias, name: name, typ: c.typ, tref: -1})
		}
		return p, sc, nil
	case n.GetJoinExpr() != nil:
		return b.planJoin(n.GetJoinExpr())
	case n.GetRangeFunction() != nil:
		return nil, nil, errorf(CodeFeatureNotSupported, "functions in FROM are not supported")
	}
	return nil, nil, errorf(CodeFeatureNotSupported, "FROM item not supported: %s", nodeKind(n))
}

func (b *binder) planRangeVar(rv *pg.RangeVar) (plan, *scope, error) {
	alias := rv.Relname
	var colnames []string
	if rv.Alias != nil {
		alias = rv.Alias.Aliasname
		colnames = nameList(rv.Alias.Colnames)
	}
	if rv.Schemaname == "" {
		for i := len(b.ctes) - 1; i >= 0; i-- {
			if c, ok := b.ctes[i][rv.Relname]; ok {
				sc := &scope{}
				for k, col := range c.cols {
					name := col.name
					if k < len(colnames) {
						name = colnames[k]
					}
					sc.cols = append(sc.cols, scopeCol{table: alias, name: name, typ: col.typ, tref: -1})
				}
				return c.p, sc, nil
			}
		}
	}
	if p, sc, ok, err := b.planSysTable(rv); ok || err != nil {
		return p, sc, err
	}
	t, err := b.lookupTable(rv)
	if err != nil {
		return nil, nil, err
	}
	tref := b.tref
	b.tref++
	sp := &scanPlan{table: t, alias: alias}
	sc := &scope{}
	used := b.used[tref]
	timeIdx := -1
	for i, c := range t.Columns {
		if c.Kind == KindTime {
			timeIdx = i
		}
	}
	if timeIdx < 0 {
		return nil, nil, errorf(CodeInternal, "table %q has no time column", t.Name)
	}
	add := func(c ColumnInfo, k int, hidden bool) {
		name := c.Name
		if k >= 0 && k < len(colnames) {
			name = colnames[k]
		}
		sp.cols = append(sp.cols, colDesc{name: c.Name, typ: c.Type})
		sp.kinds = append(sp.kinds, c.Kind)
		sc.cols = append(sc.cols, scopeCol{table: alias, name: name, typ: c.Type, tref: tref, col: c.Name, hidden: hidden})
	}
	add(t.Columns[timeIdx], timeIdx, false)
	for k, c := range t.Columns {
		if k == timeIdx {
			continue
		}
		if b.pass == 2 && !used[c.Name] {
			continue
		}
		add(c, k, false)
		sp.fetch = append(sp.fetch, c.Name)
	}
	// A column's aliases (old names after a rename) are columns of their
	// own that * does not show; the scanner reads the column for them.
	taken := map[string]bool{}
	for _, c := range t.Columns {
		taken[c.Name] = true
	}
	for _, c := range t.Columns {
		for _, a := range c.Aliases {
			if taken[a] || (b.pass == 2 && !used[a]) {
				continue
			}
			taken[a] = true
			add(ColumnInfo{Name: a, Type: c.Type, Kind: c.Kind}, -1, true)
			sp.fetch = append(sp.fetch, a)
		}
	}
	return sp, sc, nil
}

// lookupTable resolves a table name. Unquoted names arrive lower-cased
// from the parser and must match exactly; failing that, a unique
// case-insensitive match is used (line protocol writers often use mixed
// case). Quoted names must match exactly.
func (b *binder) lookupTable(rv *pg.RangeVar) (TableInfo, error) {
	db := b.database
	switch rv.Schemaname {
	case "", "public":
	case "pg_catalog", "information_schema":
		return TableInfo{}, errAt(CodeFeatureNotSupported, rv.Location, "%s.%s is not supported", rv.Schemaname, rv.Relname)
	default:
		found := false
		for _, d := range b.eng.cat.Databases(b.tenant) {
			if d == rv.Schemaname {
				db, found = d, true
			}
		}
		if !found {
			return TableInfo{}, errAt("3F000", rv.Location, "schema %q does not exist", rv.Schemaname)
		}
	}
	if t, ok := b.eng.cat.Table(b.tenant, db, rv.Relname); ok {
		return t, nil
	}
	if !quotedAt(b.query, int(rv.Location), rv.Relname) {
		var match []TableInfo
		for _, t := range b.eng.cat.Tables(b.tenant, db) {
			if strings.EqualFold(t.Name, rv.Relname) {
				match = append(match, t)
			}
		}
		if len(match) == 1 {
			return match[0], nil
		}
		if len(match) > 1 {
			return TableInfo{}, &Error{Code: CodeUndefinedTable, Message: "relation \"" + rv.Relname + "\" does not exist",
				Hint: "Several tables differ only in case; quote the name.", Position: int(rv.Location) + 1}
		}
	}
	return TableInfo{}, errAt(CodeUndefinedTable, rv.Location, "relation %q does not exist", rv.Relname)
}

// quotedAt reports whether the identifier name appears double-quoted in
// the query at or after loc.
func quotedAt(q string, loc int, name string) bool {
	if loc < 0 || loc >= len(q) {
		return false
	}
	rest := q[loc:]
	i := strings.Index(strings.ToLower(rest), strings.ToLower(name))
	return i > 0 && rest[i-1] == '"'
}
