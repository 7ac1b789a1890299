package ingest

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestEventTimeByMagnitude(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		bad  bool
	}{
		{in: `1717200000`, want: 1717200000e9},                 // seconds
		{in: `1717200000.25`, want: 1717200000250000000},       // fractional seconds
		{in: `1717200000123`, want: 1717200000123e6},           // milliseconds
		{in: `1717200000123456`, want: 1717200000123456e3},     // microseconds
		{in: `1717200000123456789`, want: 1717200000123456789}, // nanoseconds
		{in: `-86400`, want: -86400e9},                         // before 1970
		{in: `"2024-06-01T00:00:00.000000001Z"`, want: 1717200000000000001},
		{in: `"2024-06-01T02:00:00+02:00"`, want: 1717200000e9},
		{in: `99999999999`, want: 99999999999e6}, // 1e11-1 would be seconds past 2262: read as ms
		{in: `9300000000`, bad: true},            // seconds beyond 2262
		{in: `"yesterday"`, bad: true},
		{in: `true`, bad: true},
	} {
		dec := json.NewDecoder(strings.NewReader(c.in))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatal(err)
		}
		got, err := eventTime(v)
		if c.bad {
			if err == nil {
				t.Errorf("%s: no error (got %d)", c.in, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: got %d, %v; want %d", c.in, got, err, c.want)
		}
	}
}
