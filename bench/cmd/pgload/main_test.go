package main

import (
	"strings"
	"testing"
	"time"

	"github.com/fineod/fineod/bench/gen"
)

func TestSourceRows(t *testing.T) {
	cfg := gen.DefaultConfig()
	cfg.Scale = 3
	cfg.Duration = time.Minute
	data, err := gen.Bytes(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := newSource(data)
	var rows [][]any
	for s.Next() {
		v, _ := s.Values()
		rows = append(rows, append([]any(nil), v...))
	}
	if s.Err() != nil {
		t.Fatal(s.Err())
	}
	if int64(len(rows)) != cfg.Rows() || s.rows != cfg.Rows() {
		t.Fatalf("%d rows, want %d", len(rows), cfg.Rows())
	}
	first := rows[0]
	if len(first) != len(Columns()) {
		t.Fatalf("%d values, %d columns", len(first), len(Columns()))
	}
	if ts := first[0].(time.Time); !ts.Equal(gen.DefaultStart) {
		t.Errorf("time %s, want %s", ts, gen.DefaultStart)
	}
	if first[1] != "host_0" || rows[1][1] != "host_1" {
		t.Errorf("hostnames %v, %v", first[1], rows[1][1])
	}
	for i, v := range first {
		if v == nil {
			t.Errorf("column %s is NULL", Columns()[i])
		}
		if i > len(cpuTags) {
			if n, ok := v.(int64); !ok || n < 0 || n > 100 {
				t.Errorf("column %s = %v, want an int64 in 0..100", Columns()[i], v)
			}
		}
	}
	// The last row is the last host at the last step.
	last := rows[len(rows)-1]
	if last[1] != "host_2" || !last[0].(time.Time).Equal(gen.DefaultStart.Add(50*time.Second)) {
		t.Errorf("last row %v %v", last[0], last[1])
	}
}

func TestSourceRejects(t *testing.T) {
	for in, want := range map[string]string{
		"mem,hostname=h usage_user=1i 1\n":   "measurement",
		"cpu,hostname=h usage_user=1.5 1\n":  "want integer",
		"cpu,hostname=h bogus=1i 1\n":        "unknown field",
		"cpu,colour=red usage_user=1i 1\n":   "unknown tag",
		"cpu,hostname=h usage_user=1i 1 2\n": "",
	} {
		s := newSource([]byte(in))
		for s.Next() {
		}
		if s.Err() == nil || !strings.Contains(s.Err().Error(), want) {
			t.Errorf("%q: error %v, want one containing %q", in, s.Err(), want)
		}
	}
}

func TestCreateTable(t *testing.T) {
	ddl := CreateTable()
	for _, c := range []string{"time timestamptz NOT NULL", "hostname text", "service_environment text", "usage_user bigint", "usage_guest_nice bigint"} {
		if !strings.Contains(ddl, c) {
			t.Errorf("DDL lacks %q: %s", c, ddl)
		}
	}
}
