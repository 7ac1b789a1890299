package wal

import (
	"fmt"
	"testing"
)

// BenchmarkLogSync measures appending records and making them durable:
// one Sync per batch of records, as a group commit does.
func BenchmarkLogSync(b *testing.B) {
	for _, size := range []int{100, 4 << 10, 100 << 10} {
		for _, batch := range []int{1, 16} {
			b.Run(fmt.Sprintf("record=%dB/batch=%d", size, batch), func(b *testing.B) {
				w, err := Open(b.TempDir(), nil)
				if err != nil {
					b.Fatal(err)
				}
				defer w.Close()
				recs := make([][]byte, batch)
				for i := range recs {
					recs[i] = record(i, size)
				}
				b.SetBytes(int64(size * batch))
				b.ReportAllocs()
				for b.Loop() {
					if err := w.Log(recs...); err != nil {
						b.Fatal(err)
					}
					if err := w.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// BenchmarkLog measures framing and buffering alone, without syncing.
func BenchmarkLog(b *testing.B) {
	for _, size := range []int{100, 4 << 10, 100 << 10} {
		b.Run(fmt.Sprintf("record=%dB", size), func(b *testing.B) {
			w, err := Open(b.TempDir(), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			rec := record(1, size)
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if err := w.Log(rec); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRead measures reading records back.
func BenchmarkRead(b *testing.B) {
	const size, n = 4 << 10, 4096
	dir := b.TempDir()
	recs := make([][]byte, n)
	for i := range recs {
		recs[i] = record(i, size)
	}
	writeAll(b, dir, nil, recs, 256)
	b.SetBytes(size * n)
	b.ReportAllocs()
	for b.Loop() {
		r, err := NewReader(dir, 1)
		if err != nil {
			b.Fatal(err)
		}
		for r.Next() {
		}
		if err := r.Err(); err != nil {
			b.Fatal(err)
		}
		r.Close()
	}
}
