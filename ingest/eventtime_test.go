package ingest

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func decodeJSON(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestStrftimeLayouts(t *testing.T) {
	for _, c := range []struct{ in, want, bad string }{
		{in: "%Y-%m-%d %H:%M:%S", want: "2006-01-02 15:04:05"},
		{in: "%Y-%m-%dT%H:%M:%S.%f%z", want: "2006-01-02T15:04:05.999999999Z0700"},
		{in: "%d/%m/%y %I:%M %p", want: "02/01/06 03:04 PM"},
		{in: "%b %e %H:%M:%S", want: "Jan _2 15:04:05"},
		{in: "%Y%j", want: "2006002"},
		{in: "%Y%m%d%H%M%S", want: "20060102150405"},
		{in: "%H:%M:%S,%f %Z", want: "15:04:05,999999999 MST"},
		{in: "%% %Y", want: "% 2006"},
		{in: "%A, %d %B %Y", want: "Monday, 02 January 2006"},
		{in: "%Y-%m-%d %Q", bad: "unsupported directive %Q"},
		{in: "%Y-%m-%d %", bad: "lone %"},
		{in: "%S%f", bad: "%f must follow"},
		{in: "day 1 of %Y", bad: "literal text"},
		{in: "%Y Jan", bad: "literal text"},
		{in: "%H:%M PM", bad: "literal text"},
		{in: "_%e", bad: "literal text"},
		{in: "%bruary", bad: "literal text"}, // "Jan" + "uary" would be January
	} {
		ls, err := strftimeLayouts(c.in)
		if c.bad != "" {
			if err == nil || !strings.Contains(err.Error(), c.bad) {
				t.Errorf("%q: got %v, %v; want error %q", c.in, ls, err, c.bad)
			}
			continue
		}
		if err != nil || ls[0] != c.want {
			t.Errorf("%q: got %v, %v; want %q", c.in, ls, err, c.want)
		}
	}
}

func TestCheckTimePattern(t *testing.T) {
	for _, ok := range []string{"rfc3339", "RFC3339", "epoch_s", "epoch_ms", "epoch_us", "epoch_ns", "2006-01-02 15:04:05", "%Y-%m-%d", "02.01.2006"} {
		if err := CheckTimePattern(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", " ", "epoch", "epoch_m", "rfc3339x", "yyyy-mm-dd", "%Y-%x"} {
		if err := CheckTimePattern(bad); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
	if err := (Config{EventTimePatterns: map[string]string{"a": "%Y", "b": "nonsense"}}).Validate(); err == nil || !strings.Contains(err.Error(), `"b"`) {
		t.Errorf("Validate: %v", err)
	}
	if err := (Config{EventTimePatterns: map[string]string{"a": "%Y", "*": "epoch_ms"}}).Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
}

func TestEventTimePatterns(t *testing.T) {
	ns := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixNano()
	}
	for _, c := range []struct {
		pattern, in string
		want        int64
		bad         string // part of the error
	}{
		// default rules: numeric strings by magnitude
		{in: `"1700000000"`, want: 1700000000e9},
		{in: `"1700000000123"`, want: 1700000000123e6},
		{in: `"1700000000.5"`, want: 17000000005e8},
		{in: `"-86400"`, want: -86400e9},
		{in: `" 1700000000"`, bad: "neither epoch time nor RFC 3339"},
		{in: `"0x10"`, bad: "neither"},
		{in: `"2262-04-12T00:00:00Z"`, bad: "out of range"},
		// forced units
		{pattern: "epoch_ms", in: `1700`, want: 1700e6},
		{pattern: "epoch_ms", in: `"1700000000123"`, want: 1700000000123e6},
		{pattern: "epoch_s", in: `1700000000123`, bad: "out of range"},
		{pattern: "epoch_us", in: `1.5`, want: 1500},
		{pattern: "epoch_ns", in: `1e3`, want: 1000},
		{pattern: "epoch_s", in: `"2024-06-01T00:00:00Z"`, bad: `"2024-06-01T00:00:00Z" does not match the time pattern "epoch_s"`},
		{pattern: "epoch_s", in: `true`, bad: `true does not match`},
		// rfc3339
		{pattern: "rfc3339", in: `"2024-06-01T02:00:00+02:00"`, want: 1717200000e9},
		{pattern: "rfc3339", in: `1717200000`, bad: `1717200000 does not match the time pattern "rfc3339"`},
		{pattern: "rfc3339", in: `"3000-01-01T00:00:00Z"`, bad: "out of range"},
		// strftime
		{pattern: "%Y-%m-%d %H:%M:%S", in: `"2024-06-01 12:30:45"`, want: ns("2024-06-01T12:30:45Z")},
		{pattern: "%Y-%m-%d %H:%M:%S", in: `"2024-06-01 12:30:45.25"`, want: ns("2024-06-01T12:30:45.25Z")},
		{pattern: "%Y-%m-%d %H:%M:%S.%f", in: `"2024-06-01 12:30:45.123456789"`, want: ns("2024-06-01T12:30:45.123456789Z")},
		{pattern: "%Y-%m-%d %H:%M:%S.%f", in: `"2024-06-01 12:30:45"`, want: ns("2024-06-01T12:30:45Z")},
		{pattern: "%Y-%m-%dT%H:%M:%S%z", in: `"2024-06-01T12:00:00+0200"`, want: ns("2024-06-01T10:00:00Z")},
		{pattern: "%Y-%m-%dT%H:%M:%S%z", in: `"2024-06-01T12:00:00+02:00"`, want: ns("2024-06-01T10:00:00Z")},
		{pattern: "%Y-%m-%dT%H:%M:%S%z", in: `"2024-06-01T12:00:00Z"`, want: ns("2024-06-01T12:00:00Z")},
		{pattern: "%Y-%m-%d %H:%M:%S %Z", in: `"2024-06-01 12:00:00 UTC"`, want: ns("2024-06-01T12:00:00Z")},
		{pattern: "%d/%m/%y %I:%M %p", in: `"01/06/24 01:15 PM"`, want: ns("2024-06-01T13:15:00Z")},
		{pattern: "%d/%m/%y %I:%M %p", in: `"01/06/24 12:15 am"`, want: ns("2024-06-01T00:15:00Z")},
		{pattern: "%b %e %H:%M:%S %Y", in: `"Jun  1 00:00:00 2024"`, want: 1717200000e9},
		{pattern: "%Y-%j", in: `"2024-153"`, want: 1717200000e9},
		{pattern: "%Y%m%d", in: `20240601`, want: 1717200000e9}, // a number by its digits
		{pattern: "%Y-%m-%d", in: `"2024/06/01"`, bad: `"2024/06/01" does not match the time pattern "%Y-%m-%d" (at "/06/01")`},
		{pattern: "%Y-%m-%d", in: `"2024-13-01"`, bad: `month out of range`},
		{pattern: "%Y-%m-%d", in: `{"a":1}`, bad: `{"a":1} does not match`},
		// Go layouts
		{pattern: "2006-01-02 15:04:05", in: `"2024-06-01 00:00:00"`, want: 1717200000e9},
		{pattern: "02.01.2006 15:04 -0700", in: `"01.06.2024 02:00 +0200"`, want: 1717200000e9},
		{pattern: "2006-01-02", in: `"June 1"`, bad: `"June 1" does not match the time pattern "2006-01-02"`},
	} {
		var p *timePattern
		if c.pattern != "" {
			var err error
			if p, err = compileTimePattern(c.pattern); err != nil {
				t.Fatalf("%q: %v", c.pattern, err)
			}
		}
		got, err := parseEventTime(decodeJSON(t, c.in), p)
		if c.bad != "" {
			if err == nil || !strings.Contains(err.Error(), c.bad) {
				t.Errorf("%s %s: got %d, %v; want error %q", c.pattern, c.in, got, err, c.bad)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s %s: got %d (%s), %v; want %d", c.pattern, c.in, got, time.Unix(0, got).UTC(), err, c.want)
		}
	}
}
