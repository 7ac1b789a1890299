package sql

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// vecFn is a vectorised function body.
type vecFn func(ec *execCtx, args []*Vector, n int) (*Vector, error)

// strict builds a row-at-a-time body that returns NULL when any argument
// is NULL.
func strict(typ Type, fn func(args []*Vector, i int, out *Vector) error) vecFn {
	return func(ec *execCtx, args []*Vector, n int) (*Vector, error) {
		out := newVec(typ, n)
		out.Null = mergeNulls(n, args...)
		for i := range n {
			if out.Null != nil && out.Null[i] {
				continue
			}
			if err := fn(args, i, out); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
}

func f64At(v *Vector, i int) float64 {
	if phys(v.Type) == physF64 {
		return v.F64[i]
	}
	return float64(v.I64[i])
}

// math1 is a float8 -> float8 function.
func math1(fn func(float64) float64) vecFn {
	return strict(TypeFloat8, func(a []*Vector, i int, out *Vector) error {
		out.F64[i] = fn(a[0].F64[i])
		return nil
	})
}

type funcBinder func(b *binder, name string, args []expr, loc int32) (expr, error)

var scalarFuncs map[string]funcBinder

func init() {
	scalarFuncs = map[string]funcBinder{
		"now": bindNow, "current_timestamp": bindNow, "transaction_timestamp": bindNow,
		"statement_timestamp": bindNow, "clock_timestamp": bindNow, "localtimestamp": bindNow,
		"date_trunc": bindDateTrunc, "date_bin": bindDateBin, "time_bucket": bindTimeBucket,
		"date_part": bindExtract, "extract": bindExtract, "to_timestamp": bindToTimestamp,
		"timezone": bindTimezone,
		"abs":      bindAbs, "round": bindRound, "trunc": bindRound,
		"floor": bindMath1(math.Floor), "ceil": bindMath1(math.Ceil), "ceiling": bindMath1(math.Ceil),
		"sqrt": bindMath1(math.Sqrt), "cbrt": bindMath1(math.Cbrt), "exp": bindMath1(math.Exp),
		"ln": bindMath1(math.Log), "log10": bindMath1(math.Log10), "sign": bindMath1(sign),
		"degrees": bindMath1(func(x float64) float64 { return x * 180 / math.Pi }),
		"radians": bindMath1(func(x float64) float64 { return x * math.Pi / 180 }),
		"log":     bindLog, "power": bindPower, "pow": bindPower, "mod": bindMod, "pi": bindPi,
		"lower": bindText1(strings.ToLower), "upper": bindText1(strings.ToUpper),
		"btrim": bindText1(strings.TrimSpace), "trim": bindText1(func(s string) string { return strings.Trim(s, " ") }),
		"ltrim": bindText1(func(s string) string { return strings.TrimLeft(s, " ") }),
		"rtrim": bindText1(func(s string) string { return strings.TrimRight(s, " ") }),
		"reverse": bindText1(func(s string) string {
			r := []rune(s)
			for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
				r[i], r[j] = r[j], r[i]
			}
			return string(r)
		}),
		"length": bindLength, "char_length": bindLength, "character_length": bindLength,
		"concat": bindConcat, "substr": bindSubstr, "substring": bindSubstr,
		"replace": bindReplace, "split_part": bindSplitPart, "starts_with": bindStartsWith,
		"left": bindLeftRight, "right": bindLeftRight, "strpos": bindStrpos,
		"version": bindSession, "current_database": bindSession, "current_schema": bindSession,
		"current_user": bindSession, "session_user": bindSession, "user": bindSession,
		"current_catalog": bindSession, "current_setting": bindCurrentSetting,
		"pg_backend_pid": bindSession,
	}
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return x
}

func argCount(name string, args []expr, lo, hi int, loc int32) error {
	if len(args) < lo || len(args) > hi {
		p := make([]string, len(args))
		for i, a := range args {
			p[i] = typeName(a.Type())
		}
		return errAt(CodeUndefinedFunction, loc, "function %s(%s) does not exist", name, strings.Join(p, ", "))
	}
	return nil
}

func noFunc(name string, args []expr, loc int32) error {
	p := make([]string, len(args))
	for i, a := range args {
		p[i] = typeName(a.Type())
	}
	return &Error{Code: CodeUndefinedFunction, Message: "function " + name + "(" + strings.Join(p, ", ") + ") does not exist",
		Hint: "No function matches the given name and argument types. You might need to add explicit type casts.", Position: int(loc) + 1}
}

func bindNow(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 0, 0, loc); err != nil {
		return nil, err
	}
	typ := TypeTimestamptz
	if name == "localtimestamp" {
		typ = TypeTimestamp
	}
	return &funcExpr{name: name, typ: typ, volatile: true, impl: func(ec *execCtx, _ []*Vector, n int) (*Vector, error) {
		now := ec.now
		if typ == TypeTimestamp {
			now = ec.zone().toLocal(now)
		}
		return (&constExpr{typ: typ, i: now}).fill(n), nil
	}}, nil
}

// timeArg coerces an argument to a timestamp type (unknown literals become
// timestamptz).
func (b *binder) timeArg(name string, e expr, args []expr, loc int32) (expr, error) {
	if isTimeType(e.Type()) {
		return e, nil
	}
	if e.Type() == TypeUnknown || isTextType(e.Type()) {
		return b.coerce(e, TypeTimestamptz)
	}
	return nil, noFunc(name, args, loc)
}

func (b *binder) ivlArg(name string, e expr, args []expr, loc int32) (expr, error) {
	if e.Type() == TypeInterval {
		return e, nil
	}
	if e.Type() == TypeUnknown {
		return b.coerce(e, TypeInterval)
	}
	return nil, noFunc(name, args, loc)
}

// constMonths returns the month part of a constant interval.
func constMonths(e expr) (int64, bool) {
	if c, ok := e.(*constExpr); ok && !c.null {
		return c.months, true
	}
	return 0, false
}

// bindDateTrunc binds date_trunc(unit, ts [, zone]): a timestamptz is
// truncated in the session's time zone, or in zone.
func bindDateTrunc(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 2, 3, loc); err != nil {
		return nil, err
	}
	unit, err := b.coerce(args[0], TypeText)
	if err != nil {
		return nil, err
	}
	ts, err := b.timeArg(name, args[1], args, loc)
	if err != nil {
		return nil, err
	}
	typ := ts.Type()
	bound := []expr{unit, ts}
	if len(args) == 3 {
		if typ != TypeTimestamptz || !(isTextType(args[2].Type()) || isUnknownParam(args[2])) {
			return nil, noFunc(name, args, loc)
		}
		zone, err := b.coerce(args[2], TypeText)
		if err != nil {
			return nil, err
		}
		bound = append(bound, zone)
	}
	impl := func(ec *execCtx, a []*Vector, n int) (*Vector, error) {
		out := newVec(typ, n)
		out.Null = mergeNulls(n, a...)
		var z *zconv
		if typ == TypeTimestamptz && len(a) == 2 {
			z = ec.zone()
		}
		var step int64
		if n > 0 && !a[0].isNull(0) && (z == nil || z.utc) && len(a) == 2 {
			switch strings.ToLower(a[0].Str[0]) {
			case "second":
				step = 1e9
			case "minute":
				step = 60e9
			case "hour":
				step = 3600e9
			case "day":
				step = nsPerDay
			}
		}
		for i := range n {
			if out.Null != nil && out.Null[i] {
				continue
			}
			if step != 0 && a[0].Str[i] == a[0].Str[0] {
				out.I64[i] = floorDiv(a[1].I64[i], step) * step
				continue
			}
			zi := z
			if len(a) == 3 {
				var err error
				if zi, err = ec.zoneByName(a[2].Str[i]); err != nil {
					return nil, err
				}
			}
			var x int64
			var err error
			if zi == nil || zi.utc {
				x, err = truncTime(a[0].Str[i], a[1].I64[i])
			} else {
				x, err = truncLocal(a[0].Str[i], a[1].I64[i], zi)
			}
			if err != nil {
				return nil, err
			}
			out.I64[i] = x
		}
		return out, nil
	}
	return &funcExpr{name: name, args: bound, typ: typ, impl: impl}, nil
}

// bindTimezone binds timezone(zone, ts), which is ts AT TIME ZONE zone:
// a timestamptz becomes the wall clock in zone (a timestamp), a
// timestamp is read as a wall clock in zone (a timestamptz). zone is a
// name or an interval east of Greenwich.
func bindTimezone(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 2, 2, loc); err != nil {
		return nil, err
	}
	zone := args[0]
	var err error
	if zone.Type() != TypeInterval {
		if !isTextType(zone.Type()) && !isUnknownParam(zone) {
			return nil, noFunc(name, args, loc)
		}
		if zone, err = b.coerce(zone, TypeText); err != nil {
			return nil, err
		}
	}
	ts, err := b.timeArg(name, args[1], args, loc)
	if err != nil {
		return nil, err
	}
	typ := TypeTimestamp
	if ts.Type() == TypeTimestamp {
		typ = TypeTimestamptz
	}
	return &funcExpr{name: name, args: []expr{zone, ts}, typ: typ, impl: func(ec *execCtx, a []*Vector, n int) (*Vector, error) {
		out := newVec(typ, n)
		out.Null = mergeNulls(n, a...)
		var z *zconv
		for i := range n {
			if out.Null != nil && out.Null[i] {
				continue
			}
			if a[0].Type == TypeInterval {
				off := a[0].I64[i]
				if off <= -nsPerDay || off >= nsPerDay {
					return nil, errorf(CodeInvalidParameter, "interval time zone %q must not include months or days", formatInterval(off))
				}
				z = newZconv(time.FixedZone("", int(off/1e9)))
			} else {
				var err error
				if z, err = ec.zoneByName(a[0].Str[i]); err != nil {
					return nil, err
				}
			}
			if typ == TypeTimestamp {
				out.I64[i] = z.toLocal(a[1].I64[i])
			} else {
				out.I64[i] = z.fromLocal(a[1].I64[i])
			}
		}
		return out, nil
	}}, nil
}

// binTimes buckets a vector of timestamps by a stride from an origin.
func binTimes(typ Type, a []*Vector, ts, stride, origin int, months int64, n int, defOrigin int64) (*Vector, error) {
	out := newVec(typ, n)
	var vs []*Vector
	for _, k := range []int{ts, stride, origin} {
		if k >= 0 {
			vs = append(vs, a[k])
		}
	}
	out.Null = mergeNulls(n, vs...)
	for i := range n {
		if out.Null != nil && out.Null[i] {
			continue
		}
		o := defOrigin
		if origin >= 0 {
			o = a[origin].I64[i]
		}
		x := a[ts].I64[i]
		if months != 0 {
			out.I64[i] = bucketMonths(x, months, o)
			continue
		}
		s := a[stride].I64[i]
		if s <= 0 {
			return nil, errorf(CodeInvalidParameter, "stride must be greater than zero")
		}
		out.I64[i] = o + floorDiv(x-o, s)*s
	}
	return out, nil
}

// bucketInZone is time_bucket(width, timestamptz, zone) as TimescaleDB
// computes it: the wall clock in zone is bucketed (origin 2000-01-03, or
// 2000-01-01 for months, as wall clocks) and read back in zone.
func bucketInZone(ec *execCtx, a []*Vector, months int64, n int, defOrigin int64) (*Vector, error) {
	local := newVec(TypeTimestamp, n)
	local.Null = mergeNulls(n, a[1], a[2])
	zs := make([]*zconv, n)
	for i := range n {
		if local.Null != nil && local.Null[i] {
			continue
		}
		z, err := ec.zoneByName(a[2].Str[i])
		if err != nil {
			return nil, err
		}
		zs[i] = z
		local.I64[i] = z.toLocal(a[1].I64[i])
	}
	out, err := binTimes(TypeTimestamptz, []*Vector{a[0], local}, 1, 0, -1, months, n, defOrigin)
	if err != nil {
		return nil, err
	}
	for i := range n {
		if zs[i] != nil && !out.isNull(i) {
			out.I64[i] = zs[i].fromLocal(out.I64[i])
		}
	}
	return out, nil
}

func bindDateBin(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 3, 3, loc); err != nil {
		return nil, err
	}
	stride, err := b.ivlArg(name, args[0], args, loc)
	if err != nil {
		return nil, err
	}
	ts, err := b.timeArg(name, args[1], args, loc)
	if err != nil {
		return nil, err
	}
	origin, err := b.timeArg(name, args[2], args, loc)
	if err != nil {
		return nil, err
	}
	if m, _ := constMonths(stride); m != 0 {
		return nil, errorf(CodeFeatureNotSupported, "timestamps cannot be binned into intervals containing months or years")
	}
	typ := ts.Type()
	return &funcExpr{name: name, args: []expr{stride, ts, origin}, typ: typ, impl: func(ec *execCtx, a []*Vector, n int) (*Vector, error) {
		return binTimes(typ, a, 1, 0, 2, 0, n, 0)
	}}, nil
}

func bindTimeBucket(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 2, 3, loc); err != nil {
		return nil, err
	}
	width, err := b.ivlArg(name, args[0], args, loc)
	if err != nil {
		return nil, err
	}
	ts, err := b.timeArg(name, args[1], args, loc)
	if err != nil {
		return nil, err
	}
	months, _ := constMonths(width)
	if _, isConst := width.(*constExpr); !isConst && width.Type() == TypeInterval {
		// a parameter or expression: months cannot be told apart
		months = 0
	}
	defOrigin := tsbOrigin
	if months != 0 {
		defOrigin = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	}
	typ := ts.Type()
	bound := []expr{width, ts}
	var third expr
	if len(args) == 3 {
		third = args[2]
		if c, ok := third.(*constExpr); ok && third.Type() == TypeUnknown && !c.null {
			// an offset when it reads as an interval, else a time zone
			if _, err := parseInterval(c.s); err != nil {
				third = &constExpr{typ: TypeText, s: c.s}
			}
		}
		if third.Type() == TypeUnknown {
			third, err = b.coerce(third, TypeInterval)
			if err != nil {
				return nil, err
			}
		}
		if isTextType(third.Type()) && typ != TypeTimestamptz {
			return nil, noFunc(name, args, loc)
		}
		if third.Type() != TypeInterval && !isTimeType(third.Type()) && !isTextType(third.Type()) {
			return nil, noFunc(name, args, loc)
		}
		bound = append(bound, third)
	}
	return &funcExpr{name: name, args: bound, typ: typ, impl: func(ec *execCtx, a []*Vector, n int) (*Vector, error) {
		if third == nil {
			return binTimes(typ, a, 1, 0, -1, months, n, defOrigin)
		}
		if isTextType(a[2].Type) {
			return bucketInZone(ec, a, months, n, defOrigin)
		}
		if isTimeType(a[2].Type) {
			return binTimes(typ, a, 1, 0, 2, months, n, defOrigin)
		}
		// offset: shift the origin
		orig := newVec(TypeTimestamptz, n)
		for i := range n {
			if !a[2].isNull(i) {
				orig.I64[i] = defOrigin + a[2].I64[i]
			}
		}
		orig.Null = a[2].Null
		return binTimes(typ, []*Vector{a[0], a[1], orig}, 1, 0, 2, months, n, defOrigin)
	}}, nil
}

func bindExtract(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 2, 2, loc); err != nil {
		return nil, err
	}
	field, err := b.coerce(args[0], TypeText)
	if err != nil {
		return nil, err
	}
	src := args[1]
	typ := TypeFloat8
	if name == "extract" {
		typ = TypeNumeric
	}
	if src.Type() == TypeInterval {
		return &funcExpr{name: name, args: []expr{field, src}, typ: typ, impl: strict(typ, func(a []*Vector, i int, out *Vector) error {
			ns := a[1].I64[i]
			switch strings.ToLower(a[0].Str[i]) {
			case "epoch":
				out.F64[i] = float64(ns) / 1e9
			case "day", "days":
				out.F64[i] = float64(ns / nsPerDay)
			case "hour", "hours":
				out.F64[i] = float64(ns % nsPerDay / 3600e9)
			case "minute", "minutes":
				out.F64[i] = float64(ns % 3600e9 / 60e9)
			case "second", "seconds":
				out.F64[i] = float64(ns%60e9) / 1e9
			default:
				return errorf(CodeInvalidParameter, "unit %q not supported for type interval", a[0].Str[i])
			}
			return nil
		})}, nil
	}
	src, err = b.timeArg(name, src, args, loc)
	if err != nil {
		return nil, err
	}
	if src.Type() == TypeTimestamp {
		return &funcExpr{name: name, args: []expr{field, src}, typ: typ, impl: strict(typ, func(a []*Vector, i int, out *Vector) error {
			switch f := strings.ToLower(a[0].Str[i]); f {
			case "timezone", "timezone_hour", "timezone_minute":
				return errorf(CodeFeatureNotSupported, "unit %q not supported for type timestamp without time zone", f)
			}
			x, err := extractField(a[0].Str[i], a[1].I64[i])
			out.F64[i] = x
			return err
		})}, nil
	}
	// a timestamptz: fields of the wall clock in the session's time zone
	return &funcExpr{name: name, args: []expr{field, src}, typ: typ, impl: func(ec *execCtx, a []*Vector, n int) (*Vector, error) {
		z := ec.zone()
		return strict(typ, func(a []*Vector, i int, out *Vector) error {
			x, err := extractLocal(a[0].Str[i], a[1].I64[i], z)
			out.F64[i] = x
			return err
		})(ec, a, n)
	}}, nil
}

func bindToTimestamp(b *binder, name string, args []expr, loc int32) (expr, error) {
	if len(args) != 1 || !(isNumType(args[0].Type()) || args[0].Type() == TypeUnknown) {
		if len(args) == 2 {
			return nil, errAt(CodeFeatureNotSupported, loc, "to_timestamp(text, text) is not supported")
		}
		return nil, noFunc(name, args, loc)
	}
	a, err := b.coerce(args[0], TypeFloat8)
	if err != nil {
		return nil, err
	}
	return &funcExpr{name: name, args: []expr{a}, typ: TypeTimestamptz, impl: strict(TypeTimestamptz, func(a []*Vector, i int, out *Vector) error {
		f := a[0].F64[i]
		if math.IsNaN(f) || math.Abs(f) > 9.2e9 {
			return errorf(CodeDatetimeOverflow, "timestamp out of range")
		}
		out.I64[i] = int64(math.Round(f*1e6)) * 1000
		return nil
	})}, nil
}

func bindMath1(fn func(float64) float64) funcBinder {
	return func(b *binder, name string, args []expr, loc int32) (expr, error) {
		if err := argCount(name, args, 1, 1, loc); err != nil {
			return nil, err
		}
		if !isNumType(args[0].Type()) && args[0].Type() != TypeUnknown {
			return nil, noFunc(name, args, loc)
		}
		a, err := b.coerce(args[0], TypeFloat8)
		if err != nil {
			return nil, err
		}
		typ := TypeFloat8
		if args[0].Type() == TypeNumeric {
			typ = TypeNumeric
		}
		f := &funcExpr{name: name, args: []expr{a}, typ: typ, impl: math1(fn)}
		if (name == "floor" || name == "ceil" || name == "ceiling" || name == "sign") && isIntType(args[0].Type()) {
			return b.coerce(f, TypeFloat8)
		}
		return f, nil
	}
}

func bindAbs(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 1, 1, loc); err != nil {
		return nil, err
	}
	a := args[0]
	switch {
	case isIntType(a.Type()):
		return &funcExpr{name: name, args: args, typ: a.Type(), impl: strict(a.Type(), func(v []*Vector, i int, out *Vector) error {
			x := v[0].I64[i]
			if x < 0 {
				x = -x
			}
			out.I64[i] = x
			return nil
		})}, nil
	case isFloatType(a.Type()):
		return &funcExpr{name: name, args: args, typ: a.Type(), impl: strict(a.Type(), func(v []*Vector, i int, out *Vector) error {
			out.F64[i] = math.Abs(v[0].F64[i])
			return nil
		})}, nil
	}
	return nil, noFunc(name, args, loc)
}

func bindRound(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 1, 2, loc); err != nil {
		return nil, err
	}
	if !isNumType(args[0].Type()) && args[0].Type() != TypeUnknown {
		return nil, noFunc(name, args, loc)
	}
	typ := TypeFloat8
	if args[0].Type() == TypeNumeric || isIntType(args[0].Type()) || len(args) == 2 {
		typ = TypeNumeric
	}
	x, err := b.coerce(args[0], TypeFloat8)
	if err != nil {
		return nil, err
	}
	bound := []expr{x}
	if len(args) == 2 {
		d, err := b.coerce(args[1], TypeInt4)
		if err != nil {
			return nil, err
		}
		bound = append(bound, d)
	}
	trunc := name == "trunc"
	num := typ == TypeNumeric
	return &funcExpr{name: name, args: bound, typ: typ, impl: strict(typ, func(a []*Vector, i int, out *Vector) error {
		f := a[0].F64[i]
		scale := 1.0
		if len(a) == 2 {
			scale = math.Pow(10, float64(a[1].I64[i]))
		}
		switch {
		case trunc:
			out.F64[i] = math.Trunc(f*scale) / scale
		case num:
			out.F64[i] = math.Round(f*scale) / scale // numeric rounds half away from zero
		default:
			out.F64[i] = math.RoundToEven(f*scale) / scale
		}
		return nil
	})}, nil
}

func bindLog(b *binder, name string, args []expr, loc int32) (expr, error) {
	if len(args) == 1 {
		return bindMath1(math.Log10)(b, name, args, loc)
	}
	return bindPower(b, name, args, loc)
}

func bindPower(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 2, 2, loc); err != nil {
		return nil, err
	}
	x, err := b.coerce(args[0], TypeFloat8)
	if err != nil {
		return nil, err
	}
	y, err := b.coerce(args[1], TypeFloat8)
	if err != nil {
		return nil, err
	}
	isLog := name == "log"
	return &funcExpr{name: name, args: []expr{x, y}, typ: TypeFloat8, impl: strict(TypeFloat8, func(a []*Vector, i int, out *Vector) error {
		if isLog {
			out.F64[i] = math.Log(a[1].F64[i]) / math.Log(a[0].F64[i])
		} else {
			out.F64[i] = math.Pow(a[0].F64[i], a[1].F64[i])
		}
		return nil
	})}, nil
}

func bindMod(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 2, 2, loc); err != nil {
		return nil, err
	}
	return b.arith("%", args[0], args[1], loc)
}

func bindPi(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 0, 0, loc); err != nil {
		return nil, err
	}
	return &constExpr{typ: TypeFloat8, f: math.Pi}, nil
}

func (b *binder) textArgs(args []expr) ([]expr, error) {
	out := make([]expr, len(args))
	for i, a := range args {
		c, err := b.coerce(a, TypeText)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

func bindText1(fn func(string) string) funcBinder {
	return func(b *binder, name string, args []expr, loc int32) (expr, error) {
		if err := argCount(name, args, 1, 1, loc); err != nil {
			return nil, err
		}
		a, err := b.textArgs(args)
		if err != nil {
			return nil, err
		}
		return &funcExpr{name: name, args: a, typ: TypeText, impl: strict(TypeText, func(v []*Vector, i int, out *Vector) error {
			out.Str[i] = fn(v[0].Str[i])
			return nil
		})}, nil
	}
}

func bindLength(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 1, 1, loc); err != nil {
		return nil, err
	}
	a, err := b.textArgs(args)
	if err != nil {
		return nil, err
	}
	return &funcExpr{name: name, args: a, typ: TypeInt4, impl: strict(TypeInt4, func(v []*Vector, i int, out *Vector) error {
		out.I64[i] = int64(utf8.RuneCountInString(v[0].Str[i]))
		return nil
	})}, nil
}

func bindConcat(b *binder, name string, args []expr, loc int32) (expr, error) {
	a, err := b.textArgs(args)
	if err != nil {
		return nil, err
	}
	return &funcExpr{name: name, args: a, typ: TypeText, impl: func(ec *execCtx, v []*Vector, n int) (*Vector, error) {
		out := newVec(TypeText, n)
		for i := range n {
			var sb strings.Builder
			for _, x := range v {
				if !x.isNull(i) {
					sb.WriteString(x.Str[i])
				}
			}
			out.Str[i] = sb.String()
		}
		return out, nil
	}}, nil
}

func bindSubstr(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 2, 3, loc); err != nil {
		return nil, err
	}
	s, err := b.coerce(args[0], TypeText)
	if err != nil {
		return nil, err
	}
	bound := []expr{s}
	for _, a := range args[1:] {
		x, err := b.coerce(a, TypeInt8)
		if err != nil {
			return nil, err
		}
		bound = append(bound, x)
	}
	return &funcExpr{name: name, args: bound, typ: TypeText, impl: strict(TypeText, func(v []*Vector, i int, out *Vector) error {
		r := []rune(v[0].Str[i])
		start := v[1].I64[i] - 1
		end := int64(len(r))
		if len(v) == 3 {
			if v[2].I64[i] < 0 {
				return errorf(CodeSubstringError, "negative substring length not allowed")
			}
			end = start + v[2].I64[i]
		}
		start = max(start, 0)
		end = min(end, int64(len(r)))
		if start < end {
			out.Str[i] = string(r[start:end])
		}
		return nil
	})}, nil
}

// CodeSubstringError is SQLSTATE substring_error.
const CodeSubstringError = "22011"

func bindReplace(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 3, 3, loc); err != nil {
		return nil, err
	}
	a, err := b.textArgs(args)
	if err != nil {
		return nil, err
	}
	return &funcExpr{name: name, args: a, typ: TypeText, impl: strict(TypeText, func(v []*Vector, i int, out *Vector) error {
		out.Str[i] = strings.ReplaceAll(v[0].Str[i], v[1].Str[i], v[2].Str[i])
		return nil
	})}, nil
}

func bindSplitPart(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 3, 3, loc); err != nil {
		return nil, err
	}
	a, err := b.textArgs(args[:2])
	if err != nil {
		return nil, err
	}
	k, err := b.coerce(args[2], TypeInt8)
	if err != nil {
		return nil, err
	}
	return &funcExpr{name: name, args: append(a, k), typ: TypeText, impl: strict(TypeText, func(v []*Vector, i int, out *Vector) error {
		parts := strings.Split(v[0].Str[i], v[1].Str[i])
		n := v[2].I64[i]
		if n < 0 {
			n = int64(len(parts)) + n + 1
		}
		if n >= 1 && n <= int64(len(parts)) {
			out.Str[i] = parts[n-1]
		}
		return nil
	})}, nil
}

func bindStartsWith(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 2, 2, loc); err != nil {
		return nil, err
	}
	a, err := b.textArgs(args)
	if err != nil {
		return nil, err
	}
	return &funcExpr{name: name, args: a, typ: TypeBool, impl: strict(TypeBool, func(v []*Vector, i int, out *Vector) error {
		out.Bool[i] = strings.HasPrefix(v[0].Str[i], v[1].Str[i])
		return nil
	})}, nil
}

func bindStrpos(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 2, 2, loc); err != nil {
		return nil, err
	}
	a, err := b.textArgs(args)
	if err != nil {
		return nil, err
	}
	return &funcExpr{name: name, args: a, typ: TypeInt4, impl: strict(TypeInt4, func(v []*Vector, i int, out *Vector) error {
		k := strings.Index(v[0].Str[i], v[1].Str[i])
		if k >= 0 {
			k = utf8.RuneCountInString(v[0].Str[i][:k])
		}
		out.I64[i] = int64(k + 1)
		return nil
	})}, nil
}

func bindLeftRight(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 2, 2, loc); err != nil {
		return nil, err
	}
	s, err := b.coerce(args[0], TypeText)
	if err != nil {
		return nil, err
	}
	k, err := b.coerce(args[1], TypeInt8)
	if err != nil {
		return nil, err
	}
	left := name == "left"
	return &funcExpr{name: name, args: []expr{s, k}, typ: TypeText, impl: strict(TypeText, func(v []*Vector, i int, out *Vector) error {
		r := []rune(v[0].Str[i])
		n := int(v[1].I64[i])
		if n < 0 {
			n = max(len(r)+n, 0)
		}
		n = min(n, len(r))
		if left {
			out.Str[i] = string(r[:n])
		} else {
			out.Str[i] = string(r[len(r)-n:])
		}
		return nil
	})}, nil
}

// ServerVersion is what version() and the server_version setting report.
const ServerVersion = "15.0 (fineod)"

func bindSession(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 0, 0, loc); err != nil {
		return nil, err
	}
	typ := TypeText
	switch name {
	case "current_database", "current_schema", "current_user", "session_user", "user", "current_catalog":
		typ = TypeName
	case "pg_backend_pid":
		typ = TypeInt4
	}
	return &funcExpr{name: name, typ: typ, volatile: true, impl: func(ec *execCtx, _ []*Vector, n int) (*Vector, error) {
		c := &constExpr{typ: typ}
		switch name {
		case "version":
			c.s = "PostgreSQL " + ServerVersion + " on x86_64-pc-linux-gnu, compiled by Go, 64-bit"
		case "current_database", "current_catalog":
			c.s = ec.sess.database
		case "current_schema":
			c.s = "public"
		case "pg_backend_pid":
			c.i = int64(ec.sess.pid)
		default:
			c.s = ec.sess.user
		}
		return c.fill(n), nil
	}}, nil
}

func bindCurrentSetting(b *binder, name string, args []expr, loc int32) (expr, error) {
	if err := argCount(name, args, 1, 2, loc); err != nil {
		return nil, err
	}
	a, err := b.textArgs(args[:1])
	if err != nil {
		return nil, err
	}
	return &funcExpr{name: name, args: a, typ: TypeText, volatile: true, impl: func(ec *execCtx, v []*Vector, n int) (*Vector, error) {
		out := newVec(TypeText, n)
		out.Null = mergeNulls(n, v...)
		for i := range n {
			if v[0].isNull(i) {
				continue
			}
			val, ok := ec.sess.setting(v[0].Str[i])
			if !ok {
				return nil, errorf(CodeUndefinedObject, "unrecognized configuration parameter %q", v[0].Str[i])
			}
			out.Str[i] = val
		}
		return out, nil
	}}, nil
}

var _ = strconv.Itoa
