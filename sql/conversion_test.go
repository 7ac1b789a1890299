package sql

import (
	"context"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func f64Vec(vals []float64, nulls ...int) *Vector {
	v := &Vector{Type: TypeFloat8, F64: vals}
	if len(nulls) > 0 {
		v.Null = make([]bool, len(vals))
		for _, i := range nulls {
			v.Null[i] = true
		}
	}
	return v
}

func TestConversionArithmetic(t *testing.T) {
	c, err := CompileConversion("temp * 9 / 5 + 32", "temp", TypeFloat8, TypeFloat8)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Eval(f64Vec([]float64{0, 100, -40, 37}))
	if err != nil {
		t.Fatal(err)
	}
	if want := []float64{32, 212, -40, 98.6}; !reflect.DeepEqual(out.F64, want) || out.Type != TypeFloat8 || out.hasNulls() {
		t.Fatalf("got %v %v nulls %v", out.Type, out.F64, out.Null)
	}
	// integers in, bigint out: integer arithmetic, then the cast
	c, err = CompileConversion("(v - 32) * 5 / 9", "v", TypeInt8, TypeInt8)
	if err != nil {
		t.Fatal(err)
	}
	out, err = c.Eval(&Vector{Type: TypeInt8, I64: []int64{212, 50}})
	if err != nil || !reflect.DeepEqual(out.I64, []int64{100, 10}) {
		t.Fatalf("got %v, %v", out, err)
	}
	// a double rounds to bigint as PostgreSQL's cast does
	c, err = CompileConversion("v / 2", "v", TypeFloat8, TypeInt8)
	if err != nil {
		t.Fatal(err)
	}
	out, err = c.Eval(f64Vec([]float64{5, 3, 7}))
	if err != nil || !reflect.DeepEqual(out.I64, []int64{2, 2, 4}) {
		t.Fatalf("got %v, %v", out, err)
	}
	if c.In() != TypeFloat8 || c.Out() != TypeInt8 || c.Ref() != "v" || c.String() != "v / 2" {
		t.Fatalf("accessors: %v %v %q %q", c.In(), c.Out(), c.Ref(), c)
	}
}

func TestConversionTextToDouble(t *testing.T) {
	c, err := CompileConversion("raw", "raw", TypeText, TypeFloat8)
	if err != nil {
		t.Fatal(err)
	}
	in := &Vector{Type: TypeText, Str: []string{"71.2", " 3 ", "abc", "", "1e3", "x"}, Null: []bool{false, false, false, true, false, false}}
	out, failed, err := c.EvalReport(in)
	if err != nil {
		t.Fatal(err)
	}
	if out.F64[0] != 71.2 || out.F64[1] != 3 || out.F64[4] != 1000 {
		t.Fatalf("values %v", out.F64)
	}
	if want := []bool{false, false, true, true, false, true}; !reflect.DeepEqual(out.Null, want) {
		t.Fatalf("nulls %v, want %v", out.Null, want)
	}
	var rows []int
	for _, f := range failed {
		rows = append(rows, f.Row)
		if errCode(f.Err) != CodeInvalidTextRepr {
			t.Fatalf("row %d: %v (%s)", f.Row, f.Err, errCode(f.Err))
		}
	}
	if !reflect.DeepEqual(rows, []int{2, 5}) { // row 3 is NULL, not a failure
		t.Fatalf("failed rows %v", rows)
	}
	if got := failed[0].Err.Error(); got != `invalid input syntax for type double precision: "abc"` {
		t.Fatalf("message %q", got)
	}
	// Eval: the same values, without the report
	out2, err := c.Eval(in)
	if err != nil || !reflect.DeepEqual(out2.Null, out.Null) {
		t.Fatalf("Eval: %v %v", out2, err)
	}
}

func TestConversionFailures(t *testing.T) {
	// division by zero fails only that row; many rows, few failures
	c, err := CompileConversion("100 / v", "v", TypeInt8, TypeFloat8)
	if err != nil {
		t.Fatal(err)
	}
	n := 1000
	in := &Vector{Type: TypeInt8, I64: make([]int64, n)}
	for i := range in.I64 {
		in.I64[i] = int64(i%300 + 1)
	}
	in.I64[17], in.I64[999] = 0, 0
	out, failed, err := c.EvalReport(in)
	if err != nil {
		t.Fatal(err)
	}
	if len(failed) != 2 || failed[0].Row != 17 || failed[1].Row != 999 || errCode(failed[0].Err) != CodeDivisionByZero {
		t.Fatalf("failed %+v", failed)
	}
	for i := range n {
		switch {
		case i == 17 || i == 999:
			if !out.Null[i] {
				t.Fatalf("row %d not NULL", i)
			}
		case out.Null[i] || out.F64[i] != float64(100/in.I64[i]):
			t.Fatalf("row %d: %v", i, out.F64[i])
		}
	}
	// every row fails
	c, err = CompileConversion("v::bigint", "v", TypeText, TypeInt8)
	if err != nil {
		t.Fatal(err)
	}
	out, failed, err = c.EvalReport(&Vector{Type: TypeText, Str: []string{"a", "b", "99999999999999999999"}})
	if err != nil || len(failed) != 3 || !out.Null[0] || !out.Null[2] || errCode(failed[2].Err) != CodeNumericOutOfRange {
		t.Fatalf("got %v %+v %v", out, failed, err)
	}
	// out of range for the output type
	c, err = CompileConversion("v", "v", TypeFloat8, TypeInt8)
	if err != nil {
		t.Fatal(err)
	}
	_, failed, err = c.EvalReport(f64Vec([]float64{1, math.NaN(), 1e300}))
	if err != nil || len(failed) != 2 || failed[0].Row != 1 {
		t.Fatalf("got %+v %v", failed, err)
	}
}

func TestConversionNulls(t *testing.T) {
	c, err := CompileConversion("temp * 2", "temp", TypeFloat8, TypeFloat8)
	if err != nil {
		t.Fatal(err)
	}
	in := f64Vec([]float64{1, 0, 3}, 1)
	out, err := c.Eval(in)
	if err != nil || !reflect.DeepEqual(out.Null, []bool{false, true, false}) || out.F64[2] != 6 {
		t.Fatalf("got %v %v", out, err)
	}
	// COALESCE maps NULL to a value
	c, err = CompileConversion("coalesce(temp, -1)", "temp", TypeFloat8, TypeText)
	if err != nil {
		t.Fatal(err)
	}
	out, err = c.Eval(in)
	if err != nil || !reflect.DeepEqual(out.Str, []string{"1", "-1", "3"}) || out.hasNulls() {
		t.Fatalf("got %v %v", out, err)
	}
	// empty input
	out, err = c.Eval(&Vector{Type: TypeFloat8})
	if err != nil || len(out.Str) != 0 {
		t.Fatalf("got %v %v", out, err)
	}
}

func TestConversionDoesNotAliasInput(t *testing.T) {
	c, err := CompileConversion("v", "v", TypeFloat8, TypeFloat8)
	if err != nil {
		t.Fatal(err)
	}
	in := f64Vec([]float64{1, 2}, 1)
	out, err := c.Eval(in)
	if err != nil {
		t.Fatal(err)
	}
	out.F64[0], out.Null[1] = 9, false
	if in.F64[0] != 1 || !in.Null[1] {
		t.Fatal("the result shares memory with the input")
	}
}

func TestConversionCompileErrors(t *testing.T) {
	for _, tc := range []struct {
		expr    string
		in, out Type
		code    string
	}{
		{"temp + other", TypeFloat8, TypeFloat8, CodeUndefinedColumn},
		{"temp +", TypeFloat8, TypeFloat8, CodeSyntaxError},
		{"temp; DROP TABLE t", TypeFloat8, TypeFloat8, CodeSyntaxError},
		{"temp FROM t", TypeFloat8, TypeFloat8, CodeSyntaxError},
		{"temp AS x", TypeFloat8, TypeFloat8, CodeSyntaxError},
		{"*", TypeFloat8, TypeFloat8, CodeSyntaxError},
		{"temp + $1", TypeFloat8, TypeFloat8, CodeFeatureNotSupported},
		{"temp + (SELECT 1)", TypeFloat8, TypeFloat8, CodeFeatureNotSupported},
		{"temp + (SELECT count(*) FROM t)", TypeFloat8, TypeFloat8, CodeUndefinedTable},
		{"sum(temp)", TypeFloat8, TypeFloat8, CodeGroupingError},
		{"extract(epoch from now()) + temp", TypeFloat8, TypeFloat8, CodeFeatureNotSupported},
		{"current_setting('TimeZone')", TypeFloat8, TypeText, CodeFeatureNotSupported},
		{"temp", TypeFloat8, TypeBool, "42846"},
		{"temp", TypeFloat8, TypeTimestamptz, "42846"},
		{"'abc'", TypeFloat8, TypeFloat8, CodeInvalidTextRepr},
		{"temp", TypeUnknown, TypeFloat8, CodeInvalidParameter},
		{"temp", TypeFloat8, Type(4242), CodeInvalidParameter},
	} {
		_, err := CompileConversion(tc.expr, "temp", tc.in, tc.out)
		if errCode(err) != tc.code {
			t.Errorf("%q %v->%v: %v (%s), want %s", tc.expr, tc.in, tc.out, err, errCode(err), tc.code)
		}
	}
	// division by zero depends on the values: not a compile error
	if _, err := CompileConversion("1 / temp", "temp", TypeFloat8, TypeFloat8); err != nil {
		t.Fatal(err)
	}
	// a wrong input vector is an error, not a failed value
	c, _ := CompileConversion("temp", "temp", TypeFloat8, TypeFloat8)
	if _, err := c.Eval(&Vector{Type: TypeText, Str: []string{"1"}}); errCode(err) != CodeDatatypeMismatch {
		t.Fatalf("got %v", err)
	}
}

// TestConversionConcurrent runs one Conversion from several goroutines
// (go test -race checks the shared state).
func TestConversionConcurrent(t *testing.T) {
	c, err := CompileConversion("CASE WHEN raw ~ '^[0-9.]+$' THEN raw::float8 * 2 ELSE raw::float8 END", "raw", TypeText, TypeFloat8)
	if err != nil {
		t.Fatal(err)
	}
	in := &Vector{Type: TypeText, Str: []string{"1.5", "x", "-2", "4"}}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 200 {
				out, failed, err := c.EvalReport(in)
				if err != nil || len(failed) != 1 || failed[0].Row != 1 || out.F64[0] != 3 || out.F64[2] != -2 || out.F64[3] != 8 {
					t.Errorf("got %v %+v %v", out, failed, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestParseType(t *testing.T) {
	for name, want := range map[string]Type{
		"double precision": TypeFloat8, "float8": TypeFloat8, "BIGINT": TypeInt8, "varchar(20)": TypeVarchar,
		"character varying": TypeVarchar, "timestamp with time zone": TypeTimestamptz, "text": TypeText,
		"boolean": TypeBool, "real": TypeFloat4, "numeric(10,2)": TypeNumeric, "pg_catalog.int4": TypeInt4,
	} {
		got, err := ParseType(name)
		if err != nil || got != want {
			t.Errorf("ParseType(%q) = %v, %v; want %v", name, got, err, want)
		}
	}
	for name, code := range map[string]string{
		"": CodeSyntaxError, "nosuchtype": CodeUndefinedObject, "int; DROP TABLE t": CodeSyntaxError,
		"int, 1": CodeSyntaxError, "int[]": CodeFeatureNotSupported, "int FROM t": CodeSyntaxError,
	} {
		if _, err := ParseType(name); errCode(err) != code {
			t.Errorf("ParseType(%q): %v (%s), want %s", name, err, errCode(err), code)
		}
	}
	if ft, err := SchemaType(TypeInt4); err != nil || ft.SQLName() != "bigint" {
		t.Fatalf("SchemaType: %v %v", ft, err)
	}
	if _, err := SchemaType(TypeInterval); errCode(err) != CodeFeatureNotSupported {
		t.Fatalf("SchemaType(interval): %v", err)
	}
}

func BenchmarkConversion(b *testing.B) {
	c, err := CompileConversion("temp * 9 / 5 + 32", "temp", TypeFloat8, TypeFloat8)
	if err != nil {
		b.Fatal(err)
	}
	in := &Vector{Type: TypeFloat8, F64: make([]float64, 4096)}
	for i := range in.F64 {
		in.F64[i] = float64(i%400) / 10
	}
	b.SetBytes(4096 * 8)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Eval(in); err != nil {
			b.Fatal(err)
		}
	}
}

// TestAlterWithoutSchemaAlterer: a Writer that cannot alter schemas makes
// ALTER TABLE and the fineo functions 0A000.
func TestAlterWithoutSchemaAlterer(t *testing.T) {
	db, _, _ := testEngine(t)
	eng := NewEngine(db, db, plainWriter{db}, nil)
	s := eng.NewSession("default", "fineo", "u")
	ctx := context.Background()
	for _, q := range []string{"ALTER TABLE cpu ADD COLUMN x bigint", "SELECT fineo.set_strict('cpu', true)"} {
		st, err := s.Prepare(ctx, q, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := st.Execute(ctx, make([]any, len(st.ParamTypes()))); errCode(err) != CodeFeatureNotSupported {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

type plainWriter struct{ Writer }

// TestAlterPlans: ALTER TABLE checks the catalog when it runs, so a cached
// ALTER re-checks; a cached SELECT is bound again (from its kept parse
// tree) once the catalog's version changes; a fineo function with
// parameters runs its change on every execution.
func TestAlterPlans(t *testing.T) {
	db, eng, s := testEngine(t)
	ctx := context.Background()
	exec := func(q string, params ...any) error {
		st, err := s.Prepare(ctx, q, nil)
		if err != nil {
			return err
		}
		_, err = st.Execute(ctx, params)
		return err
	}
	if got := queryRows(t, s, "SELECT requests FROM cpu WHERE requests > 5 ORDER BY time"); len(got) != 3 {
		t.Fatalf("got %v", got)
	}
	parses := eng.parses.Load()
	if err := exec("ALTER TABLE cpu RENAME requests TO reqs"); err != nil {
		t.Fatal(err)
	}
	if err := exec("ALTER TABLE cpu RENAME requests TO reqs"); errCode(err) != CodeUndefinedColumn {
		t.Fatalf("second rename: %v", err)
	}
	if err := exec("SELECT requests FROM cpu WHERE requests > 5 ORDER BY time"); errCode(err) != CodeUndefinedColumn {
		t.Fatalf("stale plan: %v", err)
	}
	if got := queryRows(t, s, "SELECT reqs FROM cpu WHERE reqs > 5 ORDER BY time"); len(got) != 3 || got[0][0] != int64(10) {
		t.Fatalf("got %v", got)
	}
	// the old SELECT was parsed once: only the new texts were parsed again
	if got := eng.parses.Load() - parses; got != 2 {
		t.Fatalf("%d parses, want 2 (the ALTER and the new SELECT)", got)
	}
	st, err := s.Prepare(ctx, "SELECT fineo.add_alias('cpu', $1, $2)", nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.ParamTypes(); !reflect.DeepEqual(got, []Type{TypeText, TypeText}) {
		t.Fatalf("param types %v", got)
	}
	for _, f := range []string{"req", "requests_total"} {
		res, err := st.Execute(ctx, []any{"reqs", f})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Next() || res.Row()[0] != `column "reqs" of table "cpu" now also reads field "`+f+`"` {
			t.Fatalf("row %v", res.Row())
		}
	}
	if n := len(db.alters); n != 3 || db.alters[2].Ops[0].Name != "requests_total" || db.alters[2].Statement != "SELECT fineo.add_alias('cpu', $1, $2)" {
		t.Fatalf("alters %+v", db.alters)
	}
}

// TestConstantOperands covers binExpr.evalConst: a constant right
// operand, computed in place along a chain of operators.
func TestConstantOperands(t *testing.T) {
	for _, tc := range []struct {
		expr string
		in   Type
		want []any
	}{
		{"(v + 1) * 2 - 3 / 1", TypeInt8, []any{int64(1), nil, int64(5), int64(-5)}},
		{"v % 3 + v / 2", TypeInt8, []any{int64(1), nil, int64(1), int64(-3)}},
		{"(v * 1.5 - 0.5) / 2", TypeFloat8, []any{0.5, nil, 2.0, -1.75}},
		{"v ^ 2 + 0", TypeFloat8, []any{1.0, nil, 9.0, 4.0}},
		{"(v + 1) / 0", TypeFloat8, []any{nil, nil, nil, nil}},
	} {
		c, err := CompileConversion(tc.expr, "v", tc.in, tc.in)
		if err != nil {
			t.Fatal(err)
		}
		in := &Vector{Type: tc.in, Null: []bool{false, true, false, false}}
		for _, x := range []int64{1, 0, 3, -2} {
			in.I64 = append(in.I64, x)
			in.F64 = append(in.F64, float64(x))
		}
		if tc.in == TypeInt8 {
			in.F64 = nil
		} else {
			in.I64 = nil
		}
		out, failed, err := c.EvalReport(in)
		if err != nil {
			t.Fatal(err)
		}
		var got []any
		for i := range 4 {
			got = append(got, rowValue(tc.in, out, i))
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.expr, got, tc.want)
		}
		if strings.Contains(tc.expr, "/ 0") && len(failed) != 3 {
			t.Errorf("%s: failed %+v", tc.expr, failed)
		}
		if in.isNull(0) || !in.isNull(1) {
			t.Errorf("%s: the input changed", tc.expr)
		}
	}
	// the engine's queries: a NULL row does not divide
	_, _, s := testEngine(t)
	if got := queryRows(t, s, "SELECT count(*) FROM cpu WHERE (usage_user * 2 + 1) / 2 > 1"); got[0][0] != int64(3) {
		t.Fatalf("got %v", got)
	}
}

func TestCompileCast(t *testing.T) {
	c, err := CompileCast(TypeText, TypeFloat8)
	if err != nil {
		t.Fatal(err)
	}
	out, failed, err := c.EvalReport(&Vector{Type: TypeText, Str: []string{"21.5", "warm", "-3"}})
	if err != nil || out.F64[0] != 21.5 || out.F64[2] != -3 || len(failed) != 1 || failed[0].Row != 1 || c.String() != "" {
		t.Fatalf("got %v %+v %v", out, failed, err)
	}
	c, err = CompileCast(TypeInt8, TypeText)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := c.Eval(&Vector{Type: TypeInt8, I64: []int64{42}}); err != nil || out.Str[0] != "42" {
		t.Fatalf("got %v %v", out, err)
	}
	c, err = CompileCast(TypeBool, TypeBool)
	if err != nil {
		t.Fatal(err)
	}
	in := &Vector{Type: TypeBool, Bool: []bool{true}}
	if out, err := c.Eval(in); err != nil || !out.Bool[0] || sharesMemory(out, in) {
		t.Fatalf("got %v %v", out, err)
	}
	for _, tc := range [][2]Type{{TypeFloat8, TypeBool}, {TypeBool, TypeFloat8}, {TypeFloat8, TypeInterval}} {
		if _, err := CompileCast(tc[0], tc[1]); errCode(err) != "42846" {
			t.Errorf("%v -> %v: %v", tc[0], tc[1], err)
		}
	}
}
