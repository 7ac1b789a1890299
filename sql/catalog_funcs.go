package sql

import (
	"strconv"
	"strings"

	pg "github.com/pganalyze/pg_query_go/v6"
)

// The functions and casts psql, pgjdbc and other clients use when they
// browse the catalog. Arrays are not a type here: functions that return
// one in PostgreSQL (current_schemas) return its text form ('{a,b}'), and
// a subscript or array_to_string reads that text form back.

// catalogFuncs are looked up after scalarFuncs.
var catalogFuncs = map[string]funcBinder{
	"pg_table_is_visible": rowFunc(TypeBool, 1, 1, []Type{TypeOID}, func(ec *execCtx, a []*Vector, i int) any {
		oid := a[0].I64[i]
		if t, ok := sysByOID[oid]; ok {
			return t.schema == "pg_catalog"
		}
		return oid >= oidFirstUser
	}),
	"pg_type_is_visible": rowFunc(TypeBool, 1, 1, []Type{TypeOID}, func(*execCtx, []*Vector, int) any { return true }),
	"pg_get_userbyid":    rowFunc(TypeName, 1, 1, []Type{TypeOID}, func(ec *execCtx, _ []*Vector, _ int) any { return ec.sess.user }),
	"format_type": rowFunc(TypeText, 2, 2, []Type{TypeOID, TypeInt4}, func(_ *execCtx, a []*Vector, i int) any {
		return formatType(Type(a[0].I64[i]))
	}),
	"pg_get_expr": rowFunc(TypeText, 2, 3, []Type{TypeText, TypeOID, TypeBool}, func(_ *execCtx, a []*Vector, i int) any {
		return a[0].Str[i]
	}),
	"obj_description":                 nullFunc(TypeText, 1, 2),
	"col_description":                 nullFunc(TypeText, 2, 2),
	"shobj_description":               nullFunc(TypeText, 2, 2),
	"pg_get_indexdef":                 nullFunc(TypeText, 1, 3),
	"pg_get_constraintdef":            nullFunc(TypeText, 1, 2),
	"pg_get_triggerdef":               nullFunc(TypeText, 1, 2),
	"pg_get_viewdef":                  nullFunc(TypeText, 1, 2),
	"pg_get_ruledef":                  nullFunc(TypeText, 1, 2),
	"pg_get_functiondef":              nullFunc(TypeText, 1, 1),
	"pg_get_statisticsobjdef_columns": nullFunc(TypeText, 1, 1),
	"pg_encoding_to_char": rowFunc(TypeName, 1, 1, []Type{TypeInt4}, func(_ *execCtx, a []*Vector, i int) any {
		if a[0].I64[i] == encodingUTF8 {
			return "UTF8"
		}
		return ""
	}),
	"has_table_privilege":        constFunc(TypeBool, 2, 3, true),
	"has_schema_privilege":       constFunc(TypeBool, 2, 3, true),
	"has_database_privilege":     constFunc(TypeBool, 2, 3, true),
	"has_column_privilege":       constFunc(TypeBool, 3, 4, true),
	"has_any_column_privilege":   constFunc(TypeBool, 2, 3, true),
	"has_function_privilege":     constFunc(TypeBool, 2, 3, true),
	"pg_relation_is_publishable": constFunc(TypeBool, 1, 1, false),
	"pg_is_in_recovery":          constFunc(TypeBool, 0, 0, false),
	"pg_total_relation_size":     constFunc(TypeInt8, 1, 1, int64(0)),
	"pg_relation_size":           constFunc(TypeInt8, 1, 2, int64(0)),
	"pg_table_size":              constFunc(TypeInt8, 1, 1, int64(0)),
	"pg_indexes_size":            constFunc(TypeInt8, 1, 1, int64(0)),
	"current_schemas": rowFunc(TypeText, 1, 1, []Type{TypeBool}, func(_ *execCtx, a []*Vector, i int) any {
		if a[0].Bool[i] {
			return "{pg_catalog,public}"
		}
		return "{public}"
	}),
	"quote_ident": rowFunc(TypeText, 1, 1, []Type{TypeText}, func(_ *execCtx, a []*Vector, i int) any {
		return quoteIdent(a[0].Str[i])
	}),
	"array_to_string": rowFunc(TypeText, 2, 3, []Type{TypeText, TypeText, TypeText}, func(_ *execCtx, a []*Vector, i int) any {
		elems, ok := parseArrayText(a[0].Str[i])
		if !ok {
			return nil
		}
		var parts []string
		for _, e := range elems {
			switch {
			case e != nil:
				parts = append(parts, *e)
			case len(a) > 2 && !a[2].isNull(i):
				parts = append(parts, a[2].Str[i])
			}
		}
		return strings.Join(parts, a[1].Str[i])
	}),
	"pg_size_pretty": rowFunc(TypeText, 1, 1, []Type{TypeInt8}, func(_ *execCtx, a []*Vector, i int) any {
		return sizePretty(a[0].I64[i])
	}),
	"to_regclass": rowFunc(TypeOID, 1, 1, []Type{TypeText}, func(ec *execCtx, a []*Vector, i int) any {
		if oid := newCatCtx(ec).relOIDByName(a[0].Str[i]); oid != 0 {
			return oid
		}
		return nil
	}),
}

// rowFunc builds a function computed row by row, NULL on any NULL
// argument. argTypes gives the type each argument is coerced to (0 =
// leave it; unknown literals become text). fn returns nil for NULL.
func rowFunc(typ Type, lo, hi int, argTypes []Type, fn func(ec *execCtx, a []*Vector, i int) any) funcBinder {
	return func(b *binder, name string, args []expr, loc int32) (expr, error) {
		if err := argCount(name, args, lo, hi, loc); err != nil {
			return nil, err
		}
		args, err := b.coerceArgs(args, argTypes)
		if err != nil {
			return nil, err
		}
		return &funcExpr{name: name, args: args, typ: typ, volatile: true, impl: func(ec *execCtx, a []*Vector, n int) (*Vector, error) {
			out := &Vector{Type: typ}
			for i := range n {
				null := false
				for _, v := range a {
					null = null || v.isNull(i)
				}
				if null {
					appendNullRow(out)
					continue
				}
				appendAny(out, fn(ec, a, i))
			}
			return out, nil
		}}, nil
	}
}

// constFunc builds a function that returns the same value for any
// arguments (privilege checks: the session user may do everything).
func constFunc(typ Type, lo, hi int, v any) funcBinder {
	return func(b *binder, name string, args []expr, loc int32) (expr, error) {
		if err := argCount(name, args, lo, hi, loc); err != nil {
			return nil, err
		}
		args, err := b.coerceArgs(args, nil)
		if err != nil {
			return nil, err
		}
		return &funcExpr{name: name, args: args, typ: typ, volatile: true, impl: func(_ *execCtx, _ []*Vector, n int) (*Vector, error) {
			out := &Vector{Type: typ}
			for range n {
				appendAny(out, v)
			}
			return out, nil
		}}, nil
	}
}

// nullFunc builds a function that returns NULL: descriptions and
// definitions of objects fineod does not have.
func nullFunc(typ Type, lo, hi int) funcBinder {
	return constFunc(typ, lo, hi, nil)
}

func (b *binder) coerceArgs(args []expr, types []Type) ([]expr, error) {
	out := make([]expr, len(args))
	for i, a := range args {
		t := TypeUnknown
		if i < len(types) {
			t = types[i]
		}
		if t == TypeUnknown && (a.Type() == TypeUnknown || isUnknownParam(a)) {
			t = TypeText
		}
		if t == TypeUnknown {
			out[i] = a
			continue
		}
		e, err := b.coerce(a, t)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// quoteIdent quotes an identifier when PostgreSQL would.
func quoteIdent(s string) string {
	plain := s != ""
	for i, r := range s {
		if !(r >= 'a' && r <= 'z' || r == '_' || i > 0 && (r >= '0' && r <= '9' || r == '$')) {
			plain = false
		}
	}
	if plain && !sqlKeywords[s] {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// sqlKeywords are reserved words quote_ident quotes (the common ones).
var sqlKeywords = map[string]bool{
	"all": true, "and": true, "any": true, "array": true, "as": true, "asc": true, "both": true,
	"case": true, "cast": true, "check": true, "column": true, "constraint": true, "create": true,
	"default": true, "desc": true, "distinct": true, "do": true, "else": true, "end": true,
	"false": true, "for": true, "foreign": true, "from": true, "grant": true, "group": true,
	"having": true, "in": true, "into": true, "limit": true, "not": true, "null": true,
	"offset": true, "on": true, "only": true, "or": true, "order": true, "primary": true,
	"references": true, "select": true, "table": true, "then": true, "to": true, "true": true,
	"union": true, "unique": true, "user": true, "using": true, "when": true, "where": true,
	"with": true,
}

// parseArrayText reads the text form of a one-dimensional array
// ('{a,"b c",NULL}'); elements are nil for NULL.
func parseArrayText(s string) ([]*string, bool) {
	s = strings.TrimSpace(s)
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, false
	}
	body := s[1 : len(s)-1]
	var out []*string
	if strings.TrimSpace(body) == "" {
		return out, true
	}
	var cur strings.Builder
	quoted, inQ := false, false
	flush := func() {
		v := cur.String()
		if !quoted {
			v = strings.TrimSpace(v)
			if strings.EqualFold(v, "NULL") {
				out = append(out, nil)
				cur.Reset()
				return
			}
		}
		out = append(out, &v)
		cur.Reset()
		quoted = false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c == '\\' && i+1 < len(body):
			i++
			cur.WriteByte(body[i])
		case c == '"':
			inQ, quoted = !inQ, true
		case c == ',' && !inQ:
			flush()
		default:
			cur.WriteByte(c)
		}
	}
	flush()
	return out, true
}

// bindIndirection binds a subscript of an array in its text form:
// (current_schemas(true))[1].
func (b *binder) bindIndirection(ind *pg.A_Indirection, sc *scope, blk *block) (expr, error) {
	if len(ind.Indirection) != 1 || ind.Indirection[0].GetAIndices() == nil || ind.Indirection[0].GetAIndices().IsSlice {
		return nil, errorf(CodeFeatureNotSupported, "field selection and array slices are not supported")
	}
	arg, err := b.bindExpr(ind.Arg, sc, blk)
	if err != nil {
		return nil, err
	}
	if !isTextType(arg.Type()) {
		return nil, errorf(CodeDatatypeMismatch, "cannot subscript type %s because it does not support subscripting", typeName(arg.Type()))
	}
	idx, err := b.bindExpr(ind.Indirection[0].GetAIndices().Uidx, sc, blk)
	if err != nil {
		return nil, err
	}
	fb := rowFunc(TypeText, 2, 2, []Type{TypeText, TypeInt8}, func(_ *execCtx, a []*Vector, i int) any {
		elems, ok := parseArrayText(a[0].Str[i])
		k := a[1].I64[i]
		if !ok || k < 1 || k > int64(len(elems)) || elems[k-1] == nil {
			return nil
		}
		return *elems[k-1]
	})
	return fb(b, "subscript", []expr{arg, idx}, 0)
}

// regCastType returns the reg* type a cast names ("regclass", ...), or "".
func regCastType(tn *pg.TypeName) string {
	names := nameList(tn.Names)
	if len(names) == 0 || len(tn.ArrayBounds) > 0 {
		return ""
	}
	switch n := strings.ToLower(names[len(names)-1]); n {
	case "regclass", "regtype", "regnamespace", "regrole", "regproc", "regprocedure":
		return n
	}
	return ""
}

// bindRegCast binds a cast to an object-identifier type. From text, the
// name is looked up and the result is its OID (regproc keeps the name,
// without a pg_catalog. prefix, as text); from an OID, the result is the
// object's name as text.
func (b *binder) bindRegCast(arg expr, reg string, loc int32) (expr, error) {
	if isTextType(arg.Type()) || isUnknownParam(arg) {
		if reg == "regproc" || reg == "regprocedure" {
			return rowFunc(TypeText, 1, 1, []Type{TypeText}, func(_ *execCtx, a []*Vector, i int) any {
				return strings.TrimPrefix(a[0].Str[i], "pg_catalog.")
			})(b, reg, []expr{arg}, loc)
		}
		return &funcExpr{name: reg, args: mustCoerce(b, arg, TypeText), typ: TypeOID, volatile: true,
			impl: func(ec *execCtx, a []*Vector, n int) (*Vector, error) {
				out := newVec(TypeOID, n)
				out.Null = mergeNulls(n, a[0])
				var cc *catCtx
				for i := range n {
					if out.isNull(i) {
						continue
					}
					s := strings.TrimSpace(a[0].Str[i])
					if x, err := strconv.ParseInt(s, 10, 64); err == nil {
						out.I64[i] = x
						continue
					}
					var oid int64
					switch reg {
					case "regclass":
						if cc == nil {
							cc = newCatCtx(ec)
						}
						if oid = cc.relOIDByName(s); oid == 0 {
							return nil, errorf(CodeUndefinedTable, "relation %q does not exist", s)
						}
					case "regtype":
						t, ok := typeByName(strings.TrimPrefix(s, "pg_catalog."))
						if !ok {
							return nil, errorf(CodeUndefinedObject, "type %q does not exist", s)
						}
						oid = int64(t)
					case "regnamespace":
						if oid = nspOID(unquoteIdent(s)); oid == 0 {
							return nil, errorf("3F000", "schema %q does not exist", s)
						}
					case "regrole":
						oid = oidOwner
					}
					out.I64[i] = oid
				}
				return out, nil
			}}, nil
	}
	if !isIntType(arg.Type()) {
		return nil, cannotCast(arg.Type(), TypeOID)
	}
	return rowFunc(TypeText, 1, 1, []Type{TypeOID}, func(ec *execCtx, a []*Vector, i int) any {
		oid := a[0].I64[i]
		switch reg {
		case "regclass":
			if r, ok := newCatCtx(ec).relByOID(oid); ok {
				if r.schema == "public" || r.schema == "pg_catalog" {
					return quoteIdent(r.name)
				}
				return r.schema + "." + quoteIdent(r.name)
			}
		case "regtype":
			if _, ok := pgTypeOf(Type(oid)); ok {
				return formatType(Type(oid))
			}
		case "regnamespace":
			if n, ok := nspName(oid); ok {
				return n
			}
		case "regrole":
			return ec.sess.user
		}
		return strconv.FormatInt(oid, 10)
	})(b, reg, []expr{arg}, loc)
}

func mustCoerce(b *binder, e expr, t Type) []expr {
	c, err := b.coerce(e, t)
	if err != nil {
		return []expr{e}
	}
	return []expr{c}
}

// sizePretty is pg_size_pretty(bigint), with PostgreSQL's units and
// rounding.
func sizePretty(n int64) string {
	const limit = 10 * 1024
	abs := func(x int64) int64 {
		if x < 0 {
			return -x
		}
		return x
	}
	if abs(n) < limit {
		return strconv.FormatInt(n, 10) + " bytes"
	}
	half := func(x int64) int64 {
		if x < 0 {
			return (x - 1) / 2
		}
		return (x + 1) / 2
	}
	v := n >> 9 // one extra bit for rounding
	for _, u := range []string{"kB", "MB", "GB", "TB"} {
		if abs(v) < limit*2-1 {
			return strconv.FormatInt(half(v), 10) + " " + u
		}
		v >>= 10
	}
	return strconv.FormatInt(half(v), 10) + " PB"
}
