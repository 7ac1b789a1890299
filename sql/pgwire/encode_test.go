package pgwire

import (
	"errors"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

func TestFloatText(t *testing.T) {
	for _, c := range []struct {
		f    float64
		bits int
		want string
	}{
		{1.5, 64, "1.5"},
		{0.1, 64, "0.1"},
		{1e15, 64, "1e+15"},
		{123456789012345, 64, "123456789012345"},
		{0.0001, 64, "0.0001"},
		{0.00001, 64, "1e-05"},
		{-3e20, 64, "-3e+20"},
		{1.2345678901234568e+20, 64, "1.2345678901234568e+20"},
		{float64(float32(0.1)), 32, "0.1"},
		{123456, 32, "123456"},
		{1234567, 32, "1.234567e+06"},
		{math.NaN(), 64, "NaN"},
		{math.Inf(1), 64, "Infinity"},
		{math.Inf(-1), 32, "-Infinity"},
		{0, 64, "0"},
		{math.Copysign(0, -1), 64, "-0"},
	} {
		if got := string(appendFloatText(nil, c.f, c.bits)); got != c.want {
			t.Errorf("%v (float%d): got %q want %q", c.f, c.bits, got, c.want)
		}
	}
}

func TestIntervalText(t *testing.T) {
	for _, c := range []struct {
		iv   Interval
		want string
	}{
		{Interval{}, "00:00:00"},
		{Interval{Days: 1}, "1 day"},
		{Interval{Months: 1}, "1 mon"},
		{Interval{Months: 25, Days: 2}, "2 years 1 mon 2 days"},
		{Interval{Micros: 1500000}, "00:00:01.5"},
		{Interval{Micros: -1}, "-00:00:00.000001"},
		{Interval{Micros: 100 * 3600e6}, "100:00:00"},
		{Interval{Months: -14, Days: 3, Micros: -3600e6}, "-1 years -2 mons +3 days -01:00:00"},
		{Interval{Days: -1, Micros: 3600e6}, "-1 days +01:00:00"},
	} {
		got := string(appendIntervalText(nil, c.iv.Months, c.iv.Days, c.iv.Micros))
		if got != c.want {
			t.Errorf("%+v: got %q want %q", c.iv, got, c.want)
		}
		back, ok := parseIntervalText(got)
		if !ok || back != c.iv {
			t.Errorf("parse %q: got %+v %v", got, back, ok)
		}
	}
}

func TestTimestampText(t *testing.T) {
	kolkata, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Skip("no tzdata")
	}
	ts := time.Date(2024, 1, 2, 3, 4, 5, 600000000, time.UTC)
	for _, c := range []struct {
		t    time.Time
		zone bool
		want string
	}{
		{ts, true, "2024-01-02 03:04:05.6+00"},
		{ts.In(kolkata), true, "2024-01-02 08:34:05.6+05:30"},
		{ts.In(time.FixedZone("", -3*3600)), true, "2024-01-02 00:04:05.6-03"},
		{ts, false, "2024-01-02 03:04:05.6"},
		{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), false, "0001-01-01 00:00:00 BC"},
	} {
		if got := string(appendTimestampText(nil, c.t, c.zone)); got != c.want {
			t.Errorf("got %q want %q", got, c.want)
		}
	}
}

func TestNumericBinary(t *testing.T) {
	codec := pgtype.NumericCodec{}
	m := pgtype.NewMap()
	for _, c := range []struct{ in, want string }{
		{"0", "0"},
		{"0.00", "0.00"},
		{"1", "1"},
		{"-1", "-1"},
		{"10000", "10000"},
		{"12345.678900", "12345.678900"},
		{"0.0001", "0.0001"},
		{"0.00001234", "0.00001234"},
		{"-99999999.99999999", "-99999999.99999999"},
		{"000123.4500", "123.4500"},
		{"1e3", "1000"},
		{"1.5E-3", "0.0015"},
		{"123456789012345678901234567890", "123456789012345678901234567890"},
		{"NaN", "NaN"},
		{"Infinity", "Infinity"},
		{"-Infinity", "-Infinity"},
	} {
		b, err := appendNumericBinary(nil, c.in)
		if err != nil {
			t.Errorf("%s: %v", c.in, err)
			continue
		}
		got, err := decodeNumericBinary(b)
		if err != nil || got != c.want {
			t.Errorf("%s: round trip %q %v, want %q", c.in, got, err, c.want)
		}
		// pgx's decoder, an independent implementation, agrees (it drops
		// the scale of zero).
		if c.want == "0.00" {
			continue
		}
		v, err := codec.DecodeValue(m, OIDNumeric, formatBinary, b)
		if err != nil {
			t.Errorf("%s: pgx decode: %v", c.in, err)
			continue
		}
		n := v.(pgtype.Numeric)
		var text string
		switch {
		case n.NaN:
			text = "NaN"
		case n.InfinityModifier == pgtype.Infinity:
			text = "Infinity"
		case n.InfinityModifier == pgtype.NegativeInfinity:
			text = "-Infinity"
		default:
			tv, _ := n.Value()
			text = tv.(string)
		}
		if text != c.want {
			t.Errorf("%s: pgx decodes %q, want %q", c.in, text, c.want)
		}
	}
	for _, bad := range []string{"", "-", "1.2.3", "abc", "1e", "."} {
		if _, err := appendNumericBinary(nil, bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := decodeNumericBinary([]byte{0, 1, 0, 0, 0, 0, 0, 0, 0xff, 0xff}); err == nil {
		t.Error("digit > 9999 accepted")
	}
}

func sqlState(err error) string {
	var se SQLStateError
	if errors.As(err, &se) {
		return se.SQLState()
	}
	return ""
}

func TestDecodeText(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	for _, c := range []struct {
		typ  OID
		in   string
		want any
		code string
	}{
		{OIDBool, "TRUE", true, ""},
		{OIDBool, " off ", false, ""},
		{OIDBool, "maybe", nil, "22P02"},
		{OIDInt2, "32767", int64(32767), ""},
		{OIDInt2, "32768", nil, "22003"},
		{OIDInt4, " -5 ", int64(-5), ""},
		{OIDInt8, "1.5", nil, "22P02"},
		{OIDFloat8, "-Infinity", math.Inf(-1), ""},
		{OIDFloat4, "1.5", 1.5, ""},
		{OIDNumeric, " 1.50 ", "1.50", ""},
		{OIDNumeric, "1,5", nil, "22P02"},
		{OIDText, "héllo", "héllo", ""},
		{OIDText, "a\x00b", nil, "22021"},
		{OIDBytea, `\x00ff`, []byte{0, 255}, ""},
		{OIDBytea, `a\\b\001`, []byte{'a', '\\', 'b', 1}, ""},
		{OIDTimestamptz, "2024-01-02 03:04:05.123+02", time.Date(2024, 1, 2, 1, 4, 5, 123000000, time.UTC), ""},
		{OIDTimestamptz, "2024-01-02T03:04:05Z", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), ""},
		{OIDTimestamptz, "2024-07-01 12:00:00", time.Date(2024, 7, 1, 16, 0, 0, 0, time.UTC), ""},
		{OIDTimestamp, "2024-01-02 03:04:05+02", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), ""},
		{OIDDate, "2024-01-02", time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), ""},
		{OIDTimestamptz, "yesterday-ish", nil, "22P02"},
		{OIDInterval, "1 day", "1 day", ""},
	} {
		got, err := decodeText(c.typ, []byte(c.in), ny)
		if c.code != "" {
			if sqlState(err) != c.code {
				t.Errorf("%s %q: got %v %v, want %s", typeName(c.typ), c.in, got, err, c.code)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s %q: %v", typeName(c.typ), c.in, err)
			continue
		}
		if tm, ok := got.(time.Time); ok {
			if !tm.Equal(c.want.(time.Time)) {
				t.Errorf("%s %q: got %v want %v", typeName(c.typ), c.in, tm, c.want)
			}
			continue
		}
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %q: got %#v want %#v", typeName(c.typ), c.in, got, c.want)
		}
	}
}

// TestBinaryRoundTrip encodes values in binary and decodes them back.
func TestBinaryRoundTrip(t *testing.T) {
	ts := time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.UTC)
	for _, c := range []struct {
		typ  OID
		in   any
		want any
	}{
		{OIDBool, true, true},
		{OIDInt2, int64(-32768), int64(-32768)},
		{OIDInt4, int64(math.MaxInt32), int64(math.MaxInt32)},
		{OIDInt8, int64(math.MinInt64), int64(math.MinInt64)},
		{OIDOid, int64(math.MaxUint32), int64(math.MaxUint32)},
		{OIDFloat4, 0.5, 0.5},
		{OIDFloat8, -1e300, -1e300},
		{OIDNumeric, "-0.000123", "-0.000123"},
		{OIDNumeric, 2.5, "2.5"},
		{OIDText, "x", "x"},
		{OIDJSONB, `{"a":1}`, `{"a":1}`},
		{OIDBytea, []byte{1, 2}, []byte{1, 2}},
		{OIDTimestamptz, ts, ts},
		{OIDTimestamp, ts, ts},
		{OIDDate, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)},
		{OIDInterval, Interval{Months: 1, Days: -2, Micros: 3}, "1 mon -2 days +00:00:00.000003"},
	} {
		b, err := appendBinary(nil, c.typ, c.in)
		if err != nil {
			t.Errorf("%s %v: %v", typeName(c.typ), c.in, err)
			continue
		}
		got, err := decodeBinary(c.typ, b)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %v: got %#v %v want %#v", typeName(c.typ), c.in, got, err, c.want)
		}
		// A truncated value is an error, never a panic.
		if len(b) > 0 && c.typ != OIDText && c.typ != OIDBytea && c.typ != OIDJSONB {
			if _, err := decodeBinary(c.typ, b[:len(b)-1]); err == nil {
				t.Errorf("%s: truncated value accepted", typeName(c.typ))
			}
		}
	}
	if _, err := appendBinary(nil, OIDInt2, int64(70000)); sqlState(err) != codeDatatypeMismatch {
		t.Errorf("int2 overflow: %v", err)
	}
}
