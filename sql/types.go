package sql

import (
	"math"
	"strconv"
	"strings"
	"time"
)

// Interval is a PostgreSQL interval as Result.Row returns it. Intervals are
// computed in nanoseconds inside the engine; Row splits them into whole
// days and microseconds (a 24-hour interval reads as "1 day").
type Interval struct {
	Months, Days int32
	Micros       int64
}

// physical kinds: which slice of a Vector holds a type's values.
type physKind uint8

const (
	physI64 physKind = iota
	physF64
	physStr
	physBool
)

func phys(t Type) physKind {
	switch t {
	case TypeFloat4, TypeFloat8, TypeNumeric:
		return physF64
	case TypeText, TypeVarchar, TypeName, TypeChar, TypeUnknown, TypeJSON:
		return physStr
	case TypeBool:
		return physBool
	}
	return physI64
}

func isIntType(t Type) bool { return t == TypeInt2 || t == TypeInt4 || t == TypeInt8 || t == TypeOID }
func isFloatType(t Type) bool {
	return t == TypeFloat4 || t == TypeFloat8 || t == TypeNumeric
}
func isNumType(t Type) bool  { return isIntType(t) || isFloatType(t) }
func isTextType(t Type) bool { return phys(t) == physStr }
func isTimeType(t Type) bool { return t == TypeTimestamptz || t == TypeTimestamp }

// typeName is the SQL name of a type, as error messages and EXPLAIN show it.
func typeName(t Type) string {
	switch t {
	case TypeBool:
		return "boolean"
	case TypeInt2:
		return "smallint"
	case TypeInt4:
		return "integer"
	case TypeInt8:
		return "bigint"
	case TypeText:
		return "text"
	case TypeVarchar:
		return "character varying"
	case TypeFloat4:
		return "real"
	case TypeFloat8:
		return "double precision"
	case TypeNumeric:
		return "numeric"
	case TypeTimestamp:
		return "timestamp without time zone"
	case TypeTimestamptz:
		return "timestamp with time zone"
	case TypeInterval:
		return "interval"
	case TypeJSON:
		return "json"
	case TypeName:
		return "name"
	case TypeOID:
		return "oid"
	case TypeChar:
		return "\"char\""
	case TypeUnknown:
		return "unknown"
	}
	return "type " + strconv.Itoa(int(t))
}

// shortTypeName is the name PostgreSQL gives a cast's output column.
func shortTypeName(t Type) string {
	switch t {
	case TypeBool:
		return "bool"
	case TypeInt2:
		return "int2"
	case TypeInt4:
		return "int4"
	case TypeInt8:
		return "int8"
	case TypeFloat4:
		return "float4"
	case TypeFloat8:
		return "float8"
	case TypeTimestamptz:
		return "timestamptz"
	case TypeTimestamp:
		return "timestamp"
	case TypeVarchar:
		return "varchar"
	}
	return typeName(t)
}

// typeByName resolves a type name as written in a cast or column definition.
func typeByName(name string) (Type, bool) {
	switch strings.ToLower(name) {
	case "bool", "boolean":
		return TypeBool, true
	case "int2", "smallint":
		return TypeInt2, true
	case "int4", "int", "integer":
		return TypeInt4, true
	case "int8", "bigint":
		return TypeInt8, true
	case "text", "string":
		return TypeText, true
	case "varchar", "character varying", "bpchar", "char", "character":
		return TypeVarchar, true
	case "float4", "real":
		return TypeFloat4, true
	case "float8", "double precision", "float":
		return TypeFloat8, true
	case "numeric", "decimal":
		return TypeNumeric, true
	case "timestamptz", "timestamp with time zone":
		return TypeTimestamptz, true
	case "timestamp", "timestamp without time zone":
		return TypeTimestamp, true
	case "interval":
		return TypeInterval, true
	case "json", "jsonb":
		return TypeJSON, true
	case "name":
		return TypeName, true
	case "oid", "regclass", "regtype", "regproc":
		return TypeOID, true
	}
	return 0, false
}

const nsPerDay = int64(24 * time.Hour)

// rowValue converts an engine value of type t to the Go value Result.Row
// returns.
func rowValue(t Type, v *Vector, i int) any {
	if v.Null != nil && v.Null[i] {
		return nil
	}
	switch phys(t) {
	case physF64:
		return v.F64[i]
	case physStr:
		return v.Str[i]
	case physBool:
		return v.Bool[i]
	}
	x := v.I64[i]
	switch t {
	case TypeTimestamptz, TypeTimestamp:
		return time.Unix(0, x-x%1000).UTC()
	case TypeInterval:
		return nsToInterval(x)
	}
	return x
}

func nsToInterval(x int64) Interval {
	d := x / nsPerDay
	return Interval{Days: int32(d), Micros: (x - d*nsPerDay) / 1000}
}

// formatValue is the text form of a value (a cast to text); timestamptz
// is shown in ec's time zone (UTC when ec is nil).
func formatValue(ec *execCtx, t Type, v *Vector, i int) string {
	switch phys(t) {
	case physF64:
		return formatFloat(v.F64[i], t)
	case physStr:
		return v.Str[i]
	case physBool:
		if v.Bool[i] {
			return "true"
		}
		return "false"
	}
	x := v.I64[i]
	switch t {
	case TypeTimestamptz:
		return formatTimestampIn(x, ec.zone())
	case TypeTimestamp:
		return formatTimestamp(x, false)
	case TypeInterval:
		return formatInterval(x)
	}
	return strconv.FormatInt(x, 10)
}

func formatFloat(f float64, t Type) string {
	switch {
	case math.IsInf(f, 1):
		return "Infinity"
	case math.IsInf(f, -1):
		return "-Infinity"
	case math.IsNaN(f):
		return "NaN"
	}
	if t == TypeFloat4 {
		return strconv.FormatFloat(f, 'g', -1, 32)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// formatTimestamp writes ISO style with microseconds trimmed, as
// PostgreSQL does with DateStyle ISO ("+00" with tz: UTC).
func formatTimestamp(ns int64, tz bool) string {
	t := time.Unix(0, ns).UTC()
	s := t.Format("2006-01-02 15:04:05.999999")
	if tz {
		s += "+00"
	}
	return s
}

func formatInterval(ns int64) string {
	var b strings.Builder
	neg := ns < 0
	iv := nsToInterval(ns)
	if iv.Days != 0 {
		b.WriteString(strconv.Itoa(int(iv.Days)))
		if iv.Days == 1 || iv.Days == -1 {
			b.WriteString(" day")
		} else {
			b.WriteString(" days")
		}
	}
	us := iv.Micros
	if us != 0 || iv.Days == 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if us < 0 || (neg && iv.Days == 0) {
			b.WriteByte('-')
			us = -us
		}
		h := us / 3600e6
		m := us / 60e6 % 60
		s := us / 1e6 % 60
		f := us % 1e6
		b.WriteString(pad2(h))
		b.WriteByte(':')
		b.WriteString(pad2(m))
		b.WriteByte(':')
		b.WriteString(pad2(s))
		if f != 0 {
			fs := strconv.FormatInt(f+1e6, 10)[1:]
			b.WriteByte('.')
			b.WriteString(strings.TrimRight(fs, "0"))
		}
	}
	return b.String()
}

func pad2(x int64) string {
	if x < 10 {
		return "0" + strconv.FormatInt(x, 10)
	}
	return strconv.FormatInt(x, 10)
}

// parseBool reads a PostgreSQL boolean literal.
func parseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "t", "true", "y", "yes", "on", "1":
		return true, true
	case "f", "false", "n", "no", "off", "0":
		return false, true
	}
	return false, false
}
