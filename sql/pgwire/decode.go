package pgwire

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file decodes parameter values (Bind) and COPY fields from
// PostgreSQL's text and binary formats into the Go values a Stmt receives:
//
//	bool                                  bool
//	int2, int4, int8, oid                 int64
//	float4, float8                        float64
//	numeric                               string (decimal text, as given)
//	timestamptz                           time.Time (the session TimeZone when the text has no offset)
//	timestamp                             time.Time in UTC (wall clock)
//	date                                  time.Time at midnight UTC
//	interval                              string (PostgreSQL interval text)
//	bytea                                 []byte
//	text, varchar, name, json, unknown... string

// decodeValue decodes one non-NULL value of type typ in format f. The
// result does not alias src.
func decodeValue(typ OID, f int16, src []byte, loc *time.Location) (any, error) {
	switch f {
	case formatText:
		return decodeText(typ, src, loc)
	case formatBinary:
		return decodeBinary(typ, src)
	}
	return nil, newError(codeProtocolViolation, fmt.Sprintf("invalid format code %d", f))
}

func invalidText(typ OID, s string) error {
	return newError(codeInvalidTextRepresentation, fmt.Sprintf("invalid input syntax for type %s: %q", typeName(typ), s))
}

func decodeText(typ OID, src []byte, loc *time.Location) (any, error) {
	if !validUTF8(src) {
		return nil, newError(codeCharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"")
	}
	s := string(src)
	switch typ {
	case OIDBool:
		switch strings.ToLower(strings.TrimSpace(s)) {
		case "t", "true", "y", "yes", "on", "1":
			return true, nil
		case "f", "false", "n", "no", "off", "0":
			return false, nil
		}
		return nil, invalidText(typ, s)
	case OIDInt2, OIDInt4, OIDInt8, OIDOid:
		bits := map[OID]int{OIDInt2: 16, OIDInt4: 32, OIDInt8: 64, OIDOid: 64}[typ]
		t := strings.TrimSpace(s)
		var (
			v   int64
			err error
		)
		if typ == OIDOid {
			var u uint64
			u, err = strconv.ParseUint(t, 10, 32)
			v = int64(u)
		} else {
			v, err = strconv.ParseInt(t, 10, bits)
		}
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, newError(codeNumericValueOutOfRange, fmt.Sprintf("value %q is out of range for type %s", s, typeName(typ)))
			}
			return nil, invalidText(typ, s)
		}
		return v, nil
	case OIDFloat4, OIDFloat8:
		t := strings.TrimSpace(s)
		switch strings.ToLower(t) {
		case "nan":
			return math.NaN(), nil
		case "infinity", "inf", "+infinity", "+inf":
			return math.Inf(1), nil
		case "-infinity", "-inf":
			return math.Inf(-1), nil
		}
		bits := 64
		if typ == OIDFloat4 {
			bits = 32
		}
		v, err := strconv.ParseFloat(t, bits)
		if err != nil {
			if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
				return nil, newError(codeNumericValueOutOfRange, fmt.Sprintf("%q is out of range for type %s", s, typeName(typ)))
			}
			return nil, invalidText(typ, s)
		}
		return v, nil
	case OIDNumeric:
		t := strings.TrimSpace(s)
		switch strings.ToLower(t) {
		case "nan":
			return "NaN", nil
		case "infinity", "+infinity", "inf":
			return "Infinity", nil
		case "-infinity", "-inf":
			return "-Infinity", nil
		}
		if _, _, _, ok := splitDecimal(t); !ok {
			return nil, invalidText(typ, s)
		}
		return t, nil
	case OIDTimestamptz, OIDTimestamp, OIDDate:
		if typ != OIDTimestamptz {
			loc = time.UTC
		}
		t, err := parseTimestamp(strings.TrimSpace(s), loc, typ == OIDTimestamptz)
		if err != nil {
			return nil, invalidText(typ, s)
		}
		if typ == OIDDate {
			y, m, d := t.Date()
			t = time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		}
		return t, nil
	case OIDBytea:
		return decodeByteaText(s)
	}
	return s, nil
}

// timestampLayouts are the ISO forms accepted for timestamp input (with
// "T" replaced by a space). Fractional seconds are accepted after the
// seconds by time.Parse.
var timestampLayouts = []string{
	"2006-01-02 15:04:05Z07:00:00",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02 15:04:05Z07",
	"2006-01-02 15:04:05 Z07:00",
	"2006-01-02 15:04:05 Z07",
	"2006-01-02 15:04:05 MST",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04Z07:00",
	"2006-01-02 15:04Z07",
	"2006-01-02 15:04",
	"2006-01-02",
}

// parseTimestamp parses ISO timestamp text. Text without an offset is in
// loc; with ignoreZone false (timestamp without time zone) an offset is
// dropped and the wall clock kept, as PostgreSQL does.
func parseTimestamp(s string, loc *time.Location, keepZone bool) (time.Time, error) {
	if len(s) > 10 && s[10] == 'T' {
		s = s[:10] + " " + s[11:]
	}
	s = strings.TrimSuffix(s, " UTC")
	if strings.HasSuffix(s, " BC") {
		return time.Time{}, fmt.Errorf("BC dates are not supported")
	}
	for _, layout := range timestampLayouts {
		t, err := time.ParseInLocation(layout, s, loc)
		if err != nil {
			continue
		}
		if !keepZone {
			y, mo, d := t.Date()
			h, mi, sec := t.Clock()
			t = time.Date(y, mo, d, h, mi, sec, t.Nanosecond(), time.UTC)
		}
		return t.Round(time.Microsecond), nil
	}
	return time.Time{}, fmt.Errorf("invalid timestamp %q", s)
}

// decodeByteaText decodes bytea's hex (\x0a0b) or escape format.
func decodeByteaText(s string) ([]byte, error) {
	if strings.HasPrefix(s, `\x`) {
		b, err := hex.DecodeString(s[2:])
		if err != nil {
			return nil, invalidText(OIDBytea, s)
		}
		return b, nil
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' {
			b = append(b, s[i])
			continue
		}
		switch {
		case i+1 < len(s) && s[i+1] == '\\':
			b = append(b, '\\')
			i++
		case i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) && s[i+1] <= '3':
			b = append(b, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 3
		default:
			return nil, invalidText(OIDBytea, s)
		}
	}
	return b, nil
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

func invalidBinary(typ OID) error {
	return newError(codeInvalidBinaryRepresentation, fmt.Sprintf("incorrect binary data format for type %s", typeName(typ)))
}

func decodeBinary(typ OID, src []byte) (any, error) {
	fixed := func(n int) error {
		if len(src) != n {
			return invalidBinary(typ)
		}
		return nil
	}
	switch typ {
	case OIDBool:
		if err := fixed(1); err != nil {
			return nil, err
		}
		return src[0] != 0, nil
	case OIDInt2:
		if err := fixed(2); err != nil {
			return nil, err
		}
		return int64(int16(binary.BigEndian.Uint16(src))), nil
	case OIDInt4:
		if err := fixed(4); err != nil {
			return nil, err
		}
		return int64(int32(binary.BigEndian.Uint32(src))), nil
	case OIDOid:
		if err := fixed(4); err != nil {
			return nil, err
		}
		return int64(binary.BigEndian.Uint32(src)), nil
	case OIDInt8:
		if err := fixed(8); err != nil {
			return nil, err
		}
		return int64(binary.BigEndian.Uint64(src)), nil
	case OIDFloat4:
		if err := fixed(4); err != nil {
			return nil, err
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(src))), nil
	case OIDFloat8:
		if err := fixed(8); err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(src)), nil
	case OIDNumeric:
		return decodeNumericBinary(src)
	case OIDTimestamptz, OIDTimestamp:
		if err := fixed(8); err != nil {
			return nil, err
		}
		us := int64(binary.BigEndian.Uint64(src))
		if us == math.MaxInt64 || us == math.MinInt64 {
			return nil, newError(codeDatetimeFieldOverflow, "infinite timestamps are not supported")
		}
		return time.UnixMicro(us + pgEpochUnixMicros).UTC(), nil
	case OIDDate:
		if err := fixed(4); err != nil {
			return nil, err
		}
		days := int32(binary.BigEndian.Uint32(src))
		if days == math.MaxInt32 || days == math.MinInt32 {
			return nil, newError(codeDatetimeFieldOverflow, "infinite dates are not supported")
		}
		return pgEpoch.AddDate(0, 0, int(days)), nil
	case OIDInterval:
		if err := fixed(16); err != nil {
			return nil, err
		}
		us := int64(binary.BigEndian.Uint64(src))
		days := int32(binary.BigEndian.Uint32(src[8:]))
		months := int32(binary.BigEndian.Uint32(src[12:]))
		return string(appendIntervalText(nil, months, days, us)), nil
	case OIDBytea:
		return append([]byte{}, src...), nil
	case OIDJSONB:
		if len(src) == 0 || src[0] != 1 {
			return nil, invalidBinary(typ)
		}
		src = src[1:]
	}
	if !validUTF8(src) {
		return nil, newError(codeCharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"")
	}
	return string(src), nil
}
