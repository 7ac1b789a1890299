package pgwire

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// This file encodes result values in PostgreSQL's text and binary formats.
// The text formats are those of PostgreSQL's output functions with
// DateStyle ISO, IntervalStyle postgres and extra_float_digits 1 (shortest
// exact floats); the binary formats are those of its send functions.

// pgEpoch is 2000-01-01 00:00:00 UTC, the origin of binary timestamps and
// dates.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

const pgEpochUnixMicros = 946684800000000

// Format codes of the protocol.
const (
	formatText   int16 = 0
	formatBinary int16 = 1
)

// encodeError is returned when a value cannot be encoded as its column type.
func encodeError(typ OID, v any) error {
	return newError(codeDatatypeMismatch, fmt.Sprintf("cannot encode %T value as type %s", v, typeName(typ)))
}

// appendValue appends the encoding of v (not nil) as type typ in format f.
func appendValue(b []byte, typ OID, f int16, v any, loc *time.Location) ([]byte, error) {
	if f == formatBinary {
		return appendBinary(b, typ, v)
	}
	return appendText(b, typ, v, loc)
}

// appendText appends the text encoding of v as type typ.
func appendText(b []byte, typ OID, v any, loc *time.Location) ([]byte, error) {
	switch typ {
	case OIDBool:
		if x, ok := v.(bool); ok {
			if x {
				return append(b, 't'), nil
			}
			return append(b, 'f'), nil
		}
	case OIDInt2, OIDInt4, OIDInt8, OIDOid:
		if x, ok := toInt64(v); ok {
			return strconv.AppendInt(b, x, 10), nil
		}
	case OIDFloat4:
		if x, ok := toFloat64(v); ok {
			return appendFloatText(b, x, 32), nil
		}
	case OIDFloat8:
		if x, ok := toFloat64(v); ok {
			return appendFloatText(b, x, 64), nil
		}
	case OIDNumeric:
		switch x := v.(type) {
		case string:
			return append(b, x...), nil
		case float64:
			return appendNumericFloat(b, x), nil
		case float32:
			return appendNumericFloat(b, float64(x)), nil
		}
		if x, ok := toInt64(v); ok {
			return strconv.AppendInt(b, x, 10), nil
		}
	case OIDTimestamptz:
		if t, ok := v.(time.Time); ok {
			return appendTimestampText(b, t.In(loc), true), nil
		}
	case OIDTimestamp:
		if t, ok := v.(time.Time); ok {
			return appendTimestampText(b, t, false), nil
		}
	case OIDDate:
		if t, ok := v.(time.Time); ok {
			return t.AppendFormat(b, "2006-01-02"), nil
		}
	case OIDInterval:
		if iv, ok := v.(intervalValue); ok {
			m, d, us := iv.IntervalParts()
			return appendIntervalText(b, m, d, us), nil
		}
		if s, ok := v.(string); ok {
			return append(b, s...), nil
		}
	case OIDBytea:
		switch x := v.(type) {
		case []byte:
			return appendByteaText(b, x), nil
		case string:
			return appendByteaText(b, []byte(x)), nil
		}
	}
	return appendGenericText(b, v, loc), nil
}

// appendGenericText formats v by its Go type, for text-like columns and
// values whose type does not match the column's.
func appendGenericText(b []byte, v any, loc *time.Location) []byte {
	switch x := v.(type) {
	case string:
		return append(b, x...)
	case []byte:
		return append(b, x...)
	case bool:
		if x {
			return append(b, 't')
		}
		return append(b, 'f')
	case int64:
		return strconv.AppendInt(b, x, 10)
	case int:
		return strconv.AppendInt(b, int64(x), 10)
	case int32:
		return strconv.AppendInt(b, int64(x), 10)
	case int16:
		return strconv.AppendInt(b, int64(x), 10)
	case uint32:
		return strconv.AppendUint(b, uint64(x), 10)
	case float64:
		return appendFloatText(b, x, 64)
	case float32:
		return appendFloatText(b, float64(x), 32)
	case time.Time:
		return appendTimestampText(b, x.In(loc), true)
	case intervalValue:
		m, d, us := x.IntervalParts()
		return appendIntervalText(b, m, d, us)
	case fmt.Stringer:
		return append(b, x.String()...)
	}
	return fmt.Append(b, v)
}

// appendBinary appends the binary encoding of v as type typ.
func appendBinary(b []byte, typ OID, v any) ([]byte, error) {
	switch typ {
	case OIDBool:
		if x, ok := v.(bool); ok {
			if x {
				return append(b, 1), nil
			}
			return append(b, 0), nil
		}
	case OIDInt2:
		if x, ok := toInt64(v); ok && x >= math.MinInt16 && x <= math.MaxInt16 {
			return binary.BigEndian.AppendUint16(b, uint16(x)), nil
		}
	case OIDInt4:
		if x, ok := toInt64(v); ok && x >= math.MinInt32 && x <= math.MaxInt32 {
			return binary.BigEndian.AppendUint32(b, uint32(x)), nil
		}
	case OIDOid:
		if x, ok := toInt64(v); ok && x >= 0 && x <= math.MaxUint32 {
			return binary.BigEndian.AppendUint32(b, uint32(x)), nil
		}
	case OIDInt8:
		if x, ok := toInt64(v); ok {
			return binary.BigEndian.AppendUint64(b, uint64(x)), nil
		}
	case OIDFloat4:
		if x, ok := toFloat64(v); ok {
			return binary.BigEndian.AppendUint32(b, math.Float32bits(float32(x))), nil
		}
	case OIDFloat8:
		if x, ok := toFloat64(v); ok {
			return binary.BigEndian.AppendUint64(b, math.Float64bits(x)), nil
		}
	case OIDNumeric:
		var text []byte
		switch x := v.(type) {
		case string:
			text = []byte(x)
		case float64:
			text = appendNumericFloat(nil, x)
		case float32:
			text = appendNumericFloat(nil, float64(x))
		default:
			if i, ok := toInt64(v); ok {
				text = strconv.AppendInt(nil, i, 10)
			}
		}
		if text != nil {
			return appendNumericBinary(b, string(text))
		}
	case OIDTimestamptz:
		if t, ok := v.(time.Time); ok {
			return binary.BigEndian.AppendUint64(b, uint64(t.UnixMicro()-pgEpochUnixMicros)), nil
		}
	case OIDTimestamp:
		if t, ok := v.(time.Time); ok {
			_, off := t.Zone()
			return binary.BigEndian.AppendUint64(b, uint64(t.UnixMicro()+int64(off)*1e6-pgEpochUnixMicros)), nil
		}
	case OIDDate:
		if t, ok := v.(time.Time); ok {
			y, m, d := t.Date()
			days := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Sub(pgEpoch) / (24 * time.Hour)
			return binary.BigEndian.AppendUint32(b, uint32(int32(days))), nil
		}
	case OIDInterval:
		if iv, ok := v.(intervalValue); ok {
			m, d, us := iv.IntervalParts()
			b = binary.BigEndian.AppendUint64(b, uint64(us))
			b = binary.BigEndian.AppendUint32(b, uint32(d))
			return binary.BigEndian.AppendUint32(b, uint32(m)), nil
		}
		if str, ok := v.(string); ok {
			if iv, ok := parseIntervalText(str); ok {
				return appendBinary(b, typ, iv)
			}
		}
	case OIDJSONB:
		switch x := v.(type) {
		case string:
			return append(append(b, 1), x...), nil
		case []byte:
			return append(append(b, 1), x...), nil
		}
	case OIDBytea, OIDText, OIDVarchar, OIDName, OIDBPChar, OIDChar, OIDJSON, OIDUnknown:
		switch x := v.(type) {
		case string:
			return append(b, x...), nil
		case []byte:
			return append(b, x...), nil
		}
		if typ != OIDBytea {
			return appendGenericText(b, v, time.UTC), nil
		}
	default:
		return nil, newError(codeFeatureNotSupported, fmt.Sprintf("binary format is not supported for type %s", typeName(typ)))
	}
	return nil, encodeError(typ, v)
}

// hasBinary reports whether typ has a binary encoding here.
func hasBinary(typ OID) bool {
	switch typ {
	case OIDBool, OIDInt2, OIDInt4, OIDInt8, OIDOid, OIDFloat4, OIDFloat8, OIDNumeric,
		OIDTimestamptz, OIDTimestamp, OIDDate, OIDInterval, OIDJSONB, OIDBytea, OIDText,
		OIDVarchar, OIDName, OIDBPChar, OIDChar, OIDJSON, OIDUnknown:
		return true
	}
	return false
}

func toInt64(v any) (int64, bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint32:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint8:
		return int64(x), true
	case float64:
		if x == math.Trunc(x) && x >= math.MinInt64 && x < math.MaxInt64 {
			return int64(x), true
		}
	}
	return 0, false
}

func toFloat64(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case float32:
		return float64(x), true
	}
	if i, ok := toInt64(v); ok {
		return float64(i), true
	}
	return 0, false
}

// appendFloatText formats f as PostgreSQL's float4out/float8out do with
// extra_float_digits = 1: the shortest exact digits, in positional notation
// when the decimal exponent is in [-4, 15) (float8) or [-4, 6) (float4),
// else in exponent notation with at least two exponent digits.
func appendFloatText(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	case f == 0:
		if math.Signbit(f) {
			return append(b, "-0"...)
		}
		return append(b, '0')
	}
	maxExp := 15
	if bits == 32 {
		maxExp = 6
	}
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, bits)
	exp := 0
	for i := len(e) - 1; i >= 0; i-- {
		if e[i] == 'e' {
			exp, _ = strconv.Atoi(string(e[i+1:]))
			break
		}
	}
	if exp < -4 || exp >= maxExp {
		return append(b, e...)
	}
	return strconv.AppendFloat(b, f, 'f', -1, bits)
}

// appendNumericFloat formats a float64 as numeric text (no exponent).
func appendNumericFloat(b []byte, f float64) []byte {
	switch {
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, 1):
		return append(b, "Infinity"...)
	case math.IsInf(f, -1):
		return append(b, "-Infinity"...)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

// appendTimestampText formats t in ISO style: 2006-01-02 15:04:05.999999,
// followed by the zone offset (+HH, +HH:MM or +HH:MM:SS) when withZone.
func appendTimestampText(b []byte, t time.Time, withZone bool) []byte {
	t = t.Round(time.Microsecond)
	y := t.Year()
	bc := y <= 0
	if bc {
		// PostgreSQL has no year 0: 1 BC is year 0 in Go.
		t = t.AddDate(-2*y+1, 0, 0)
	}
	b = t.AppendFormat(b, "2006-01-02 15:04:05.999999")
	if withZone {
		_, off := t.Zone()
		if off < 0 {
			b = append(b, '-')
			off = -off
		} else {
			b = append(b, '+')
		}
		b = append2(b, off/3600)
		if m, s := off/60%60, off%60; m != 0 || s != 0 {
			b = append(b, ':')
			b = append2(b, m)
			if s != 0 {
				b = append(b, ':')
				b = append2(b, s)
			}
		}
	}
	if bc {
		b = append(b, " BC"...)
	}
	return b
}

// append2 appends n with at least two digits.
func append2(b []byte, n int) []byte {
	if n < 10 {
		b = append(b, '0')
	}
	return strconv.AppendInt(b, int64(n), 10)
}

// appendIntervalText formats an interval as PostgreSQL does with
// IntervalStyle postgres: "1 year 2 mons -3 days +04:05:06.5".
func appendIntervalText(b []byte, months, days int32, micros int64) []byte {
	isZero, isBefore := true, false
	part := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if !isZero {
			b = append(b, ' ')
		}
		if isBefore && v > 0 {
			b = append(b, '+')
		}
		b = strconv.AppendInt(b, v, 10)
		b = append(b, ' ')
		b = append(b, unit...)
		if v != 1 {
			b = append(b, 's')
		}
		isBefore = v < 0
		isZero = false
	}
	part(int64(months/12), "year")
	part(int64(months%12), "mon")
	part(int64(days), "day")
	if isZero || micros != 0 {
		if !isZero {
			b = append(b, ' ')
		}
		if micros < 0 {
			b = append(b, '-')
		} else if isBefore {
			b = append(b, '+')
		}
		u := uint64(micros)
		if micros < 0 {
			u = uint64(-micros)
		}
		h := u / 3600e6
		u -= h * 3600e6
		m := u / 60e6
		u -= m * 60e6
		s := u / 1e6
		frac := u % 1e6
		if h < 10 {
			b = append(b, '0')
		}
		b = strconv.AppendUint(b, h, 10)
		b = append(b, ':')
		b = append2(b, int(m))
		b = append(b, ':')
		b = append2(b, int(s))
		if frac != 0 {
			var f [7]byte
			f[0] = '.'
			for i := 6; i >= 1; i-- {
				f[i] = byte('0' + frac%10)
				frac /= 10
			}
			n := 7
			for f[n-1] == '0' {
				n--
			}
			b = append(b, f[:n]...)
		}
	}
	return b
}

// appendByteaText formats bytes in bytea's hex format: \x0a0b.
func appendByteaText(b, v []byte) []byte {
	b = append(b, '\\', 'x')
	return hex.AppendEncode(b, v)
}

// Numeric binary format (numeric_send): int16 ndigits, int16 weight, uint16
// sign, int16 dscale, then ndigits base-10000 digits, most significant
// first; the first digit is multiplied by 10000^weight.
const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaN  = 0xC000
	numericPInf = 0xD000
	numericNInf = 0xF000
)

// appendNumericBinary encodes decimal text (optionally signed, with an
// optional fraction and exponent) in numeric's binary format.
func appendNumericBinary(b []byte, s string) ([]byte, error) {
	header := func(ndigits, weight int, sign uint16, dscale int) {
		b = binary.BigEndian.AppendUint16(b, uint16(ndigits))
		b = binary.BigEndian.AppendUint16(b, uint16(int16(weight)))
		b = binary.BigEndian.AppendUint16(b, sign)
		b = binary.BigEndian.AppendUint16(b, uint16(dscale))
	}
	switch s {
	case "NaN", "nan", "NAN":
		header(0, 0, numericNaN, 0)
		return b, nil
	case "Infinity", "infinity", "+Infinity", "inf":
		header(0, 0, numericPInf, 0)
		return b, nil
	case "-Infinity", "-infinity", "-inf":
		header(0, 0, numericNInf, 0)
		return b, nil
	}
	intPart, fracPart, neg, ok := splitDecimal(s)
	if !ok {
		return nil, newError(codeInvalidTextRepresentation, fmt.Sprintf("invalid input syntax for type numeric: %q", s))
	}
	dscale := len(fracPart)
	// Pad to whole base-10000 digits: the integer part on the left, the
	// fraction on the right.
	if r := len(intPart) % 4; r != 0 {
		intPart = "0000"[r:] + intPart
	}
	if r := len(fracPart) % 4; r != 0 {
		fracPart += "0000"[r:]
	}
	all := intPart + fracPart
	weight := len(intPart)/4 - 1
	digits := make([]uint16, 0, len(all)/4)
	for i := 0; i < len(all); i += 4 {
		d, _ := strconv.Atoi(all[i : i+4])
		digits = append(digits, uint16(d))
	}
	for len(digits) > 0 && digits[0] == 0 {
		digits = digits[1:]
		weight--
	}
	for len(digits) > 0 && digits[len(digits)-1] == 0 {
		digits = digits[:len(digits)-1]
	}
	sign := uint16(numericPos)
	if neg && len(digits) > 0 {
		sign = numericNeg
	}
	if len(digits) == 0 {
		weight = 0
	}
	header(len(digits), weight, sign, dscale)
	for _, d := range digits {
		b = binary.BigEndian.AppendUint16(b, d)
	}
	return b, nil
}

// splitDecimal splits decimal text into its integer digits (no leading
// zeros) and fraction digits, applying any exponent.
func splitDecimal(s string) (intPart, fracPart string, neg, ok bool) {
	if s == "" {
		return "", "", false, false
	}
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	mant, exp := s, 0
	for i := 0; i < len(s); i++ {
		if s[i] == 'e' || s[i] == 'E' {
			mant = s[:i]
			e, err := strconv.Atoi(s[i+1:])
			if err != nil || e > 1000 || e < -1000 {
				return "", "", false, false
			}
			exp = e
			break
		}
	}
	intPart, fracPart = mant, ""
	for i := 0; i < len(mant); i++ {
		if mant[i] == '.' {
			intPart, fracPart = mant[:i], mant[i+1:]
			break
		}
	}
	if intPart == "" && fracPart == "" {
		return "", "", false, false
	}
	for _, part := range []string{intPart, fracPart} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return "", "", false, false
			}
		}
	}
	// Move the point by exp digits.
	for ; exp > 0; exp-- {
		if fracPart == "" {
			intPart += "0"
		} else {
			intPart += fracPart[:1]
			fracPart = fracPart[1:]
		}
	}
	for ; exp < 0; exp++ {
		if intPart == "" {
			fracPart = "0" + fracPart
		} else {
			fracPart = intPart[len(intPart)-1:] + fracPart
			intPart = intPart[:len(intPart)-1]
		}
	}
	for len(intPart) > 0 && intPart[0] == '0' {
		intPart = intPart[1:]
	}
	return intPart, fracPart, neg, true
}

// decodeNumericBinary decodes numeric's binary format to decimal text.
func decodeNumericBinary(src []byte) (string, error) {
	bad := newError(codeInvalidBinaryRepresentation, "invalid binary representation for type numeric")
	if len(src) < 8 {
		return "", bad
	}
	ndigits := int(int16(binary.BigEndian.Uint16(src)))
	weight := int(int16(binary.BigEndian.Uint16(src[2:])))
	sign := binary.BigEndian.Uint16(src[4:])
	dscale := int(int16(binary.BigEndian.Uint16(src[6:])))
	if ndigits < 0 || dscale < 0 || len(src) != 8+2*ndigits {
		return "", bad
	}
	switch sign {
	case numericNaN:
		return "NaN", nil
	case numericPInf:
		return "Infinity", nil
	case numericNInf:
		return "-Infinity", nil
	case numericPos, numericNeg:
	default:
		return "", bad
	}
	digit := func(pos int) int { // the base-10000 digit of 10000^pos
		i := weight - pos
		if i < 0 || i >= ndigits {
			return 0
		}
		return int(binary.BigEndian.Uint16(src[8+2*i:]))
	}
	for i := 0; i < ndigits; i++ {
		if binary.BigEndian.Uint16(src[8+2*i:]) > 9999 {
			return "", bad
		}
	}
	var out []byte
	if sign == numericNeg {
		out = append(out, '-')
	}
	if weight < 0 {
		out = append(out, '0')
	} else {
		out = strconv.AppendInt(out, int64(digit(weight)), 10)
		for pos := weight - 1; pos >= 0; pos-- {
			out = fmt.Appendf(out, "%04d", digit(pos))
		}
	}
	if dscale > 0 {
		out = append(out, '.')
		var frac []byte
		for pos := -1; len(frac) < dscale; pos-- {
			frac = fmt.Appendf(frac, "%04d", digit(pos))
		}
		out = append(out, frac[:dscale]...)
	}
	return string(out), nil
}

// validUTF8 reports whether b is valid UTF-8 without NUL bytes, as
// PostgreSQL requires of text.
func validUTF8(b []byte) bool {
	for _, c := range b {
		if c == 0 {
			return false
		}
	}
	return utf8.Valid(b)
}

// typeName is the SQL name of a type, for messages.
func typeName(typ OID) string {
	switch typ {
	case OIDBool:
		return "boolean"
	case OIDBytea:
		return "bytea"
	case OIDChar:
		return "\"char\""
	case OIDName:
		return "name"
	case OIDInt8:
		return "bigint"
	case OIDInt2:
		return "smallint"
	case OIDInt4:
		return "integer"
	case OIDText:
		return "text"
	case OIDOid:
		return "oid"
	case OIDJSON:
		return "json"
	case OIDJSONB:
		return "jsonb"
	case OIDFloat4:
		return "real"
	case OIDFloat8:
		return "double precision"
	case OIDBPChar:
		return "character"
	case OIDVarchar:
		return "character varying"
	case OIDDate:
		return "date"
	case OIDTimestamp:
		return "timestamp without time zone"
	case OIDTimestamptz:
		return "timestamp with time zone"
	case OIDInterval:
		return "interval"
	case OIDNumeric:
		return "numeric"
	case OIDUnknown:
		return "unknown"
	}
	return "oid " + strconv.FormatUint(uint64(typ), 10)
}

// parseIntervalText parses interval text in the postgres IntervalStyle that
// appendIntervalText writes ("1 year 2 mons -3 days +04:05:06.5").
func parseIntervalText(s string) (Interval, bool) {
	var iv Interval
	f := strings.Fields(s)
	for i := 0; i < len(f); i++ {
		if strings.Contains(f[i], ":") {
			t := f[i]
			neg := strings.HasPrefix(t, "-")
			t = strings.TrimLeft(t, "+-")
			parts := strings.Split(t, ":")
			if len(parts) != 3 {
				return iv, false
			}
			h, err1 := strconv.ParseInt(parts[0], 10, 64)
			m, err2 := strconv.ParseInt(parts[1], 10, 64)
			sec, err3 := strconv.ParseFloat(parts[2], 64)
			if err1 != nil || err2 != nil || err3 != nil {
				return iv, false
			}
			us := h*3600e6 + m*60e6 + int64(math.Round(sec*1e6))
			if neg {
				us = -us
			}
			iv.Micros += us
			continue
		}
		if i+1 >= len(f) {
			return iv, false
		}
		n, err := strconv.ParseInt(f[i], 10, 32)
		if err != nil {
			return iv, false
		}
		switch strings.TrimSuffix(f[i+1], "s") {
		case "year":
			iv.Months += int32(n) * 12
		case "mon":
			iv.Months += int32(n)
		case "day":
			iv.Days += int32(n)
		default:
			return iv, false
		}
		i++
	}
	return iv, len(f) > 0
}
