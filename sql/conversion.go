package sql

import (
	"context"
	"strings"
	"time"

	"github.com/fineod/fineod/schema"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// This file compiles the conversions of late-binding columns for the
// engine's scan. A logical column reads its sources through an optional
// conversion, an SQL scalar expression over one column, recorded by
// ALTER TABLE ... ALTER COLUMN c TYPE t USING expr (alter.go):
//
//	conv, err := sql.CompileConversion("(temp - 32) * 5 / 9", "temp", sql.TypeFloat8, sql.TypeFloat8)
//	out, failed, err := conv.EvalReport(vec) // vec: the source's values, of type in
//
// The expression is bound as a select-list expression whose only column
// is ref, of type in; its result is cast to out with the casts the rest
// of the package uses (text '71.2' reads as 71.2; 'abc' fails). It may use
// operators, casts, CASE, COALESCE and the immutable functions of
// funcs.go; parameters, subqueries, aggregates, window functions and
// functions whose value depends on the execution (now(), current_user,
// current_setting, catalog functions) are refused. Time-zone dependent
// conversions (text to timestamptz, date_trunc) use UTC.
//
// CompileCast is the same without an expression: a cast alone, for
// values stored with a type other than their column's ("21.5" written to
// a double precision column).
//
// A value that cannot be converted (a cast or an arithmetic error on that
// row, such as 'abc'::double precision or division by zero) reads as NULL;
// EvalReport says which rows failed and why, so that the engine can record
// one error per physical value. NULL inputs give NULL outputs (unless the
// expression maps NULL to a value, as COALESCE does).

// Conversion is a compiled conversion. It is immutable and safe for
// concurrent use: Eval and EvalReport may be called from any number of
// goroutines at once.
type Conversion struct {
	text    string // the expression as given
	ref     string
	in, out Type
	e       expr // reads column 0 of a one-column batch
}

// ConversionFailure is one value a conversion could not convert: the row
// of the input vector and the error (an *Error with a SQLSTATE, class 22).
type ConversionFailure struct {
	Row int
	Err error
}

// convEngine is the engine conversions are bound with: no tables, so a
// subquery in a conversion binds against nothing (and is then refused).
var convEngine = NewEngine(emptyCatalog{}, nil, nil, &Options{PlanCacheSize: -1})

type emptyCatalog struct{}

func (emptyCatalog) Tables(string, string) []TableInfo              { return nil }
func (emptyCatalog) Table(string, string, string) (TableInfo, bool) { return TableInfo{}, false }
func (emptyCatalog) Databases(string) []string                      { return nil }

// CompileConversion parses expr (an SQL scalar expression), binds it with
// the single column ref of type in, and casts its result to type out. It
// fails with an *Error when the expression does not parse, references
// another column, uses something a conversion may not (see above), or
// cannot produce out (42846: no cast from the expression's type).
func CompileConversion(expr, ref string, in, out Type) (*Conversion, error) {
	c, err := compileConversion(expr, ref, in, out)
	return c, asError(err)
}

func compileConversion(text, ref string, in, out Type) (*Conversion, error) {
	if !knownType(in) {
		return nil, errorf(CodeInvalidParameter, "conversion input type %d is not a known type", int(in))
	}
	if !knownType(out) {
		return nil, errorf(CodeInvalidParameter, "conversion output type %d is not a known type", int(out))
	}
	node, err := parseScalar(text)
	if err != nil {
		return nil, err
	}
	s := convEngine.NewSession("", "", "")
	b := s.newBinder("SELECT "+text, nil)
	sc := &scope{cols: []scopeCol{{name: ref, typ: in, tref: -1}}}
	e, err := b.bindExpr(node, sc, nil)
	if err != nil {
		return nil, shiftPosition(err)
	}
	if err := checkConversion(e); err != nil {
		return nil, err
	}
	return newConversion(b, text, ref, in, out, e)
}

// CompileCast is the conversion of values of type in to type out alone
// (a cast, as CAST(v AS out) does): what a value written with a type other
// than its column's reads through. Its String is "".
func CompileCast(in, out Type) (*Conversion, error) {
	if !knownType(in) || !knownType(out) {
		return nil, errorf(CodeInvalidParameter, "cannot cast type %s to %s: unknown type", typeName(in), typeName(out))
	}
	b := convEngine.NewSession("", "", "").newBinder("", nil)
	c, err := newConversion(b, "", "", in, out, &colRef{idx: 0, typ: in})
	return c, asError(err)
}

// newConversion casts bound expression e to out and checks that the
// result can be computed at all.
func newConversion(b *binder, text, ref string, in, out Type, e expr) (*Conversion, error) {
	e, err := b.coerce(e, out)
	if err != nil {
		return nil, err
	}
	c := &Conversion{text: text, ref: ref, in: in, out: out, e: e}
	// A zero value and a NULL show casts that can never work (42846)
	// now; errors of class 22 depend on the value and are the scan's.
	zero, null := newVec(in, 1), newVec(in, 1)
	null.Null = []bool{true}
	for _, probe := range []*Vector{zero, null} {
		if _, err := c.e.eval(c.execCtx(), &Batch{Len: 1, Cols: []Vector{*probe}}); err != nil && !isDataError(err) {
			return nil, err
		}
	}
	return c, nil
}

// parseScalar parses text as one scalar expression (the select-list item
// of SELECT text).
func parseScalar(text string) (*pg.Node, error) {
	tree, err := pg.Parse("SELECT " + text)
	if err != nil {
		return nil, shiftPosition(parseError(err))
	}
	bad := errorf(CodeSyntaxError, "a conversion must be one scalar expression: %q", text)
	if len(tree.Stmts) != 1 {
		return nil, bad
	}
	sel := tree.Stmts[0].Stmt.GetSelectStmt()
	if sel == nil || len(sel.TargetList) != 1 || len(sel.FromClause) > 0 || sel.WhereClause != nil ||
		len(sel.GroupClause) > 0 || sel.HavingClause != nil || len(sel.SortClause) > 0 || sel.LimitCount != nil ||
		sel.LimitOffset != nil || len(sel.DistinctClause) > 0 || sel.WithClause != nil || sel.IntoClause != nil ||
		len(sel.WindowClause) > 0 || len(sel.LockingClause) > 0 || sel.Op != pg.SetOperation_SETOP_NONE {
		return nil, bad
	}
	rt := sel.TargetList[0].GetResTarget()
	if rt == nil || rt.Name != "" || rt.Val == nil {
		return nil, bad
	}
	if cr := rt.Val.GetColumnRef(); cr != nil && cr.Fields[len(cr.Fields)-1].GetAStar() != nil {
		return nil, bad
	}
	return rt.Val, nil
}

// shiftPosition makes an error position relative to the expression
// rather than to the "SELECT " it was parsed in.
func shiftPosition(err error) error {
	if e, ok := err.(*Error); ok && e.Position > len("SELECT ") {
		e.Position -= len("SELECT ")
	}
	return err
}

// checkConversion refuses what a conversion may not use.
func checkConversion(e expr) error {
	var err error
	walkExpr(e, func(x expr) {
		if err != nil {
			return
		}
		switch x := x.(type) {
		case *paramExpr:
			err = errorf(CodeFeatureNotSupported, "parameters are not allowed in a conversion")
		case *subqExpr:
			err = errorf(CodeFeatureNotSupported, "subqueries are not allowed in a conversion")
		case *aggRef, *winRef:
			err = errorf(CodeGroupingError, "aggregate and window functions are not allowed in a conversion")
		case *funcExpr:
			if x.volatile {
				err = errorf(CodeFeatureNotSupported, "function %s is not allowed in a conversion: its value depends on when and where it runs", x.name)
			}
		}
	})
	return err
}

// isDataError reports whether err is a data exception (SQLSTATE class 22):
// a value that cannot be converted, as opposed to a conversion that cannot
// work at all.
func isDataError(err error) bool {
	e, ok := err.(*Error)
	return ok && strings.HasPrefix(e.Code, "22")
}

func knownType(t Type) bool {
	return t != TypeUnknown && !strings.HasPrefix(typeName(t), "type ")
}

// String returns the expression as given.
func (c *Conversion) String() string { return c.text }

// Ref returns the column the expression reads.
func (c *Conversion) Ref() string { return c.ref }

// In returns the type of the input vectors.
func (c *Conversion) In() Type { return c.in }

// Out returns the type of the output vectors.
func (c *Conversion) Out() Type { return c.out }

func (c *Conversion) execCtx() *execCtx {
	return &execCtx{ctx: context.Background(), loc: time.UTC}
}

// Eval converts the values of in (of the conversion's input type; any
// length) and returns a new vector of as many values of the output type.
// Values that fail to convert read as NULL (EvalReport says which).
func (c *Conversion) Eval(in *Vector) (*Vector, error) {
	out, _, err := c.EvalReport(in)
	return out, err
}

// EvalReport is Eval that also returns the rows whose values failed to
// convert, in row order. The error is for a vector that does not fit (the
// wrong physical type, or slices shorter than each other).
func (c *Conversion) EvalReport(in *Vector) (*Vector, []ConversionFailure, error) {
	if phys(in.Type) != phys(c.in) {
		return nil, nil, errorf(CodeDatatypeMismatch, "conversion input is %s, not %s", typeName(in.Type), typeName(c.in))
	}
	n := vecLen(in)
	if in.Null != nil && len(in.Null) < n {
		return nil, nil, errorf(CodeInternal, "conversion input has %d NULL flags for %d values", len(in.Null), n)
	}
	src := *in
	src.Type = c.in
	ec := c.execCtx()
	v, err := c.e.eval(ec, &Batch{Len: n, Cols: []Vector{src}})
	if err == nil {
		if sharesMemory(v, in) {
			cp := newVec(c.out, n)
			if v.Null != nil {
				cp.Null = make([]bool, n)
			}
			copyRows(cp, 0, v, n)
			v = cp
		}
		v.Type = c.out
		return v, nil, nil
	}
	if !isDataError(err) {
		return nil, nil, err
	}
	// Some values failed: find them by halving (failures are rare, so
	// few rows are evaluated more than twice).
	out := newVec(c.out, n)
	out.Null = make([]bool, n)
	var failed []ConversionFailure
	var split func(lo, hi int, err error) error
	split = func(lo, hi int, err error) error {
		if hi-lo == 1 {
			out.Null[lo] = true
			failed = append(failed, ConversionFailure{Row: lo, Err: err})
			return nil
		}
		mid := (lo + hi) / 2
		for _, r := range [2][2]int{{lo, mid}, {mid, hi}} {
			part := sliceVec(&src, r[0], r[1])
			v, err := c.e.eval(ec, &Batch{Len: r[1] - r[0], Cols: []Vector{part}})
			switch {
			case err == nil:
				copyRows(out, r[0], v, r[1]-r[0])
			case isDataError(err):
				if err := split(r[0], r[1], err); err != nil {
					return err
				}
			default:
				return err
			}
		}
		return nil
	}
	if err := split(0, n, err); err != nil {
		return nil, nil, err
	}
	return out, failed, nil
}

// vecLen is the number of values v holds.
func vecLen(v *Vector) int {
	switch phys(v.Type) {
	case physF64:
		return len(v.F64)
	case physStr:
		return len(v.Str)
	case physBool:
		return len(v.Bool)
	}
	return len(v.I64)
}

// sharesMemory reports whether a and b share a value or NULL array.
func sharesMemory(a, b *Vector) bool {
	return sameArray(a.F64, b.F64) || sameArray(a.I64, b.I64) || sameArray(a.Str, b.Str) ||
		sameArray(a.Bool, b.Bool) || sameArray(a.Null, b.Null)
}

func sameArray[T any](a, b []T) bool { return len(a) > 0 && len(b) > 0 && &a[0] == &b[0] }

// copyRows copies n rows of src into dst from row off (dst has a Null
// slice).
func copyRows(dst *Vector, off int, src *Vector, n int) {
	switch phys(dst.Type) {
	case physF64:
		copy(dst.F64[off:off+n], src.F64[:n])
	case physStr:
		copy(dst.Str[off:off+n], src.Str[:n])
	case physBool:
		copy(dst.Bool[off:off+n], src.Bool[:n])
	default:
		copy(dst.I64[off:off+n], src.I64[:n])
	}
	if src.Null != nil {
		copy(dst.Null[off:off+n], src.Null[:n])
	}
}

// ParseType resolves a type name as SQL writes it in a cast or a column
// definition: "double precision", "float8", "bigint", "varchar(20)",
// "timestamp with time zone", "text".
func ParseType(name string) (Type, error) {
	bad := errorf(CodeSyntaxError, "invalid type name %q", name)
	if strings.TrimSpace(name) == "" {
		return 0, bad
	}
	tree, err := pg.Parse("SELECT NULL::" + name)
	if err != nil || len(tree.Stmts) != 1 {
		return 0, bad
	}
	sel := tree.Stmts[0].Stmt.GetSelectStmt()
	if sel == nil || len(sel.TargetList) != 1 || len(sel.FromClause) > 0 || sel.WhereClause != nil {
		return 0, bad
	}
	tc := sel.TargetList[0].GetResTarget().GetVal().GetTypeCast()
	if tc == nil || tc.Arg.GetAConst() == nil || !tc.Arg.GetAConst().Isnull {
		return 0, bad
	}
	t, err := bindTypeName(tc.TypeName)
	if err != nil {
		e := err.(*Error)
		e.Position = 0
		return 0, e
	}
	return t, nil
}

// SchemaType is the physical type a field column of SQL type t is
// declared as (what CREATE TABLE and ALTER TABLE store): double precision,
// real and numeric are float, the integer types int, text and varchar
// string, boolean bool. Other types are 0A000.
func SchemaType(t Type) (schema.Type, error) {
	ft, ok := fieldType(t)
	if !ok {
		return 0, errorf(CodeFeatureNotSupported, "type %s is not supported for a field (use double precision, bigint, text or boolean)", typeName(t))
	}
	return ft, nil
}

// columnType is the SQL type a field column of physical type t reads as.
func columnType(t schema.Type) Type {
	switch t {
	case schema.TypeFloat:
		return TypeFloat8
	case schema.TypeInt:
		return TypeInt8
	case schema.TypeUint:
		return TypeNumeric
	case schema.TypeBool:
		return TypeBool
	}
	return TypeText
}
