package pgwire

import (
	"testing"
	"time"
)

func BenchmarkAppendDataRow(b *testing.B) {
	cols := []Column{{"time", OIDTimestamptz}, {"host", OIDText}, {"usage", OIDFloat8}, {"n", OIDInt8}}
	row := []any{time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC), "host_123", 42.125, int64(7)}
	for _, bc := range []struct {
		name    string
		formats []int16
	}{{"text", nil}, {"binary", []int16{1, 1, 1, 1}}} {
		b.Run(bc.name, func(b *testing.B) {
			var buf []byte
			buf, _ = appendDataRow(buf[:0], cols, bc.formats, row, time.UTC)
			b.SetBytes(int64(len(buf)))
			b.ReportAllocs()
			for b.Loop() {
				buf, _ = appendDataRow(buf[:0], cols, bc.formats, row, time.UTC)
			}
		})
	}
}
