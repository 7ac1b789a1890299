package sql

import (
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// winSpec is one window function call.
type winSpec struct {
	name  string
	args  []expr
	part  []expr
	order []expr
	keys  []sortKey // direction of each order expression (col unused)
	frame frame
	agg   *aggSpec // aggregate used as a window function
	typ   Type
}

func (w *winSpec) String() string {
	var sb strings.Builder
	if w.agg != nil {
		sb.WriteString(w.agg.String())
	} else {
		sb.WriteString(w.name + "(" + exprList(w.args) + ")")
	}
	sb.WriteString(" OVER (")
	if len(w.part) > 0 {
		sb.WriteString("PARTITION BY " + exprList(w.part))
	}
	if len(w.order) > 0 {
		if len(w.part) > 0 {
			sb.WriteString(" ")
		}
		sb.WriteString("ORDER BY ")
		for i, o := range w.order {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString(o.String())
			if w.keys[i].desc {
				sb.WriteString(" DESC")
			}
		}
	}
	sb.WriteString(")")
	return sb.String()
}

// rewrite applies fn to every expression of the spec.
func (w *winSpec) rewrite(fn func(expr) (expr, error)) error {
	var err error
	for _, l := range [][]expr{w.args, w.part, w.order} {
		for i := range l {
			if l[i], err = fn(l[i]); err != nil {
				return err
			}
		}
	}
	if w.agg != nil {
		for i := range w.agg.args {
			if w.agg.args[i], err = fn(w.agg.args[i]); err != nil {
				return err
			}
		}
		if w.agg.filter != nil {
			if w.agg.filter, err = fn(w.agg.filter); err != nil {
				return err
			}
		}
	}
	return nil
}

// frame is the window frame: rows from start to end relative to the
// current row. The default (RANGE UNBOUNDED PRECEDING .. CURRENT ROW)
// includes the current row's peers.
type frame struct {
	rows     bool // ROWS (else RANGE: peers count as the current row)
	startUnb bool
	endUnb   bool
	startOff int64 // ROWS n PRECEDING (negative) / FOLLOWING (positive); used when !startUnb
	endOff   int64 // used when !endUnb
	startCur bool
	endCur   bool
}

// PostgreSQL frame option bits (parsenodes.h).
const (
	frameRange        = 0x00002
	frameRows         = 0x00004
	frameGroups       = 0x00008
	frameStartUnbPrec = 0x00020
	frameEndUnbFoll   = 0x00100
	frameStartCur     = 0x00200
	frameEndCur       = 0x00400
	frameStartOffPrec = 0x00800
	frameEndOffPrec   = 0x01000
	frameStartOffFoll = 0x02000
	frameEndOffFoll   = 0x04000
	frameExcludeAny   = 0x08000 | 0x10000 | 0x20000
	frameNonDefault   = 0x00001
)

var winFuncs = map[string]bool{
	"row_number": true, "rank": true, "dense_rank": true, "lag": true, "lead": true,
	"first_value": true, "last_value": true, "ntile": false,
}

func (b *binder) bindWindow(name string, f *pg.FuncCall, sc *scope, blk *block) (expr, error) {
	if blk == nil || !blk.allowWin {
		return nil, errAt(CodeWindowingError, f.Location, "window functions are not allowed here")
	}
	wd := f.Over
	if wd.Refname != "" || wd.Name != "" {
		return nil, errAt(CodeFeatureNotSupported, f.Location, "named windows are not supported")
	}
	w := &winSpec{name: name}
	var err error
	if aggNames[name] {
		saved := blk.aggs
		blk.allowAgg, blk.inAgg = true, false
		ae, err := b.bindAgg(name, f, sc, blk)
		if err != nil {
			return nil, err
		}
		blk.aggs = saved
		w.agg = ae.(*aggRef).spec
		w.typ = w.agg.typ
	} else if winFuncs[name] {
		for _, a := range f.Args {
			e, err := b.bindExpr(a, sc, blk)
			if err != nil {
				return nil, err
			}
			w.args = append(w.args, e)
		}
		switch name {
		case "row_number", "rank", "dense_rank":
			if len(w.args) != 0 {
				return nil, noFunc(name, w.args, f.Location)
			}
			w.typ = TypeInt8
		case "lag", "lead":
			if len(w.args) < 1 || len(w.args) > 3 {
				return nil, noFunc(name, w.args, f.Location)
			}
			if w.args[0].Type() == TypeUnknown {
				w.args[0], _ = b.coerce(w.args[0], TypeText)
			}
			w.typ = w.args[0].Type()
			if len(w.args) >= 2 {
				if w.args[1], err = b.coerce(w.args[1], TypeInt8); err != nil {
					return nil, err
				}
			}
			if len(w.args) == 3 {
				if w.args[2], err = b.coerce(w.args[2], w.typ); err != nil {
					return nil, err
				}
			}
		default:
			if len(w.args) != 1 {
				return nil, noFunc(name, w.args, f.Location)
			}
			if w.args[0].Type() == TypeUnknown {
				w.args[0], _ = b.coerce(w.args[0], TypeText)
			}
			w.typ = w.args[0].Type()
		}
	} else {
		return nil, errAt(CodeUndefinedFunction, f.Location, "function %s is not a window function", name)
	}
	for _, p := range wd.PartitionClause {
		e, err := b.bindExpr(p, sc, blk)
		if err != nil {
			return nil, err
		}
		w.part = append(w.part, e)
	}
	for _, o := range wd.OrderClause {
		sb := o.GetSortBy()
		e, err := b.bindExpr(sb.Node, sc, blk)
		if err != nil {
			return nil, err
		}
		w.order = append(w.order, e)
		w.keys = append(w.keys, sortKeyOf(sb, 0))
	}
	if w.frame, err = b.bindFrame(wd); err != nil {
		return nil, err
	}
	blk.wins = append(blk.wins, w)
	return &winRef{spec: w}, nil
}

// CodeWindowingError is SQLSTATE windowing_error.
const CodeWindowingError = "42P20"

func (b *binder) bindFrame(wd *pg.WindowDef) (frame, error) {
	o := wd.FrameOptions
	fr := frame{startUnb: true, endCur: true}
	if o&frameNonDefault == 0 {
		return fr, nil
	}
	if o&frameGroups != 0 || o&frameExcludeAny != 0 {
		return fr, errorf(CodeFeatureNotSupported, "GROUPS frames and EXCLUDE are not supported")
	}
	fr = frame{rows: o&frameRows != 0}
	offset := func(n *pg.Node) (int64, error) {
		e, err := b.bindExpr(n, &scope{}, nil)
		if err != nil {
			return 0, err
		}
		c, ok := e.(*constExpr)
		if !ok || !isIntType(c.typ) || c.i < 0 {
			return 0, errorf(CodeFeatureNotSupported, "frame offsets must be non-negative integer constants")
		}
		return c.i, nil
	}
	var err error
	switch {
	case o&frameStartUnbPrec != 0:
		fr.startUnb = true
	case o&frameStartCur != 0:
		fr.startCur = true
	case o&(frameStartOffPrec|frameStartOffFoll) != 0:
		if !fr.rows {
			return fr, errorf(CodeFeatureNotSupported, "RANGE with offsets is not supported")
		}
		if fr.startOff, err = offset(wd.StartOffset); err != nil {
			return fr, err
		}
		if o&frameStartOffPrec != 0 {
			fr.startOff = -fr.startOff
		}
	}
	switch {
	case o&frameEndUnbFoll != 0:
		fr.endUnb = true
	case o&frameEndCur != 0:
		fr.endCur = true
	case o&(frameEndOffPrec|frameEndOffFoll) != 0:
		if !fr.rows {
			return fr, errorf(CodeFeatureNotSupported, "RANGE with offsets is not supported")
		}
		if fr.endOff, err = offset(wd.EndOffset); err != nil {
			return fr, err
		}
		if o&frameEndOffPrec != 0 {
			fr.endOff = -fr.endOff
		}
	default:
		fr.endCur = true
	}
	return fr, nil
}
