package main

import (
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

func testDataset() Dataset {
	return Dataset{Scale: 100, Start: time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC), Duration: 24 * time.Hour, Seed: 1}
}

func TestGenerateDeterministic(t *testing.T) {
	ds := testDataset()
	for _, qt := range QueryTypes {
		a := Generate(ds, qt, 30)
		b := Generate(ds, qt, 30)
		if !reflect.DeepEqual(a, b) {
			t.Errorf("%s: two runs differ", qt.Name)
		}
		// The first k of n are the first k of k: -n does not change earlier queries.
		if c := Generate(ds, qt, 7); !reflect.DeepEqual(c, a[:7]) {
			t.Errorf("%s: Generate(7) is not a prefix of Generate(30)", qt.Name)
		}
		if qt.Window == 0 && qt.Hosts == 0 {
			continue
		}
		ds2 := ds
		ds2.Seed = 2
		if d := Generate(ds2, qt, 30); reflect.DeepEqual(d, a) {
			t.Errorf("%s: seeds 1 and 2 give the same queries", qt.Name)
		}
	}
}

// Each type has its own stream: selecting a subset does not change the queries.
func TestGenerateIndependentOfOtherTypes(t *testing.T) {
	ds := testDataset()
	a, _ := LookupType("single-groupby-1-1-1")
	b, _ := LookupType("high-cpu-1")
	qa, qb := Generate(ds, a, 5), Generate(ds, b, 5)
	if reflect.DeepEqual(qa[0].Hosts, qb[0].Hosts) && qa[0].Start.Equal(qb[0].Start) {
		t.Errorf("two types drew the same parameters: %+v", qa[0])
	}
}

func TestGenerateBounds(t *testing.T) {
	ds := testDataset()
	end := ds.Start.Add(ds.Duration)
	for _, qt := range QueryTypes {
		for _, q := range Generate(ds, qt, 500) {
			if qt.Window > 0 {
				if q.Start.Before(ds.Start) || q.End.After(end) || q.End.Sub(q.Start) != qt.Window {
					t.Fatalf("%s: window %s..%s outside the data or not %s", qt.Name, q.Start, q.End, qt.Window)
				}
				if q.Start.Nanosecond() != 0 || q.Start.Location() != time.UTC {
					t.Fatalf("%s: start %s is not a whole UTC second", qt.Name, q.Start)
				}
			} else if !q.Start.IsZero() {
				t.Fatalf("%s: has a window", qt.Name)
			}
			if len(q.Hosts) != qt.Hosts {
				t.Fatalf("%s: %d hosts, want %d", qt.Name, len(q.Hosts), qt.Hosts)
			}
			seen := map[string]bool{}
			for _, h := range q.Hosts {
				id, err := strconv.Atoi(strings.TrimPrefix(h, "host_"))
				if err != nil || id < 0 || id >= ds.Scale || seen[h] {
					t.Fatalf("%s: bad or repeated host %q in %v", qt.Name, h, q.Hosts)
				}
				seen[h] = true
			}
		}
	}
}

// The parameters are pinned: a change to the generator (or to math/rand/v2's
// PCG, which is specified) would make results incomparable with earlier runs.
func TestGeneratePinned(t *testing.T) {
	ds := testDataset()
	qt, _ := LookupType("single-groupby-1-1-1")
	q := Generate(ds, qt, 3)[2]
	got := qt.SQL(q)
	want := "SELECT date_trunc('minute', time) AS minute, max(usage_user) AS max_usage_user FROM cpu WHERE (hostname = 'host_39') AND time >= '2016-01-01 05:10:05 +0000' AND time < '2016-01-01 06:10:05 +0000' GROUP BY minute ORDER BY minute ASC"
	if got != want {
		t.Errorf("SQL\n got %s\nwant %s", got, want)
	}
	wantIQL := "SELECT max(usage_user) from cpu where (hostname = 'host_39') and time >= '2016-01-01T05:10:05Z' and time < '2016-01-01T06:10:05Z' group by time(1m)"
	if got := qt.InfluxQL(q); got != wantIQL {
		t.Errorf("InfluxQL\n got %s\nwant %s", got, wantIQL)
	}
}

var placeholder = regexp.MustCompile(`\$[0-9]+`)

// SQLParams has one text per type, and substituting its values gives SQL.
func TestSQLParams(t *testing.T) {
	ds := testDataset()
	for _, qt := range QueryTypes {
		var text string
		for i, q := range Generate(ds, qt, 10) {
			p, args := qt.SQLParams(q)
			if i == 0 {
				text = p
			} else if p != text {
				t.Fatalf("%s: prepared text differs between queries:\n%s\n%s", qt.Name, text, p)
			}
			if n := len(placeholder.FindAllString(p, -1)); n != len(args) {
				t.Fatalf("%s: %d placeholders, %d values", qt.Name, n, len(args))
			}
			lit := placeholder.ReplaceAllStringFunc(p, func(s string) string {
				k, _ := strconv.Atoi(s[1:])
				switch v := args[k-1].(type) {
				case time.Time:
					return "'" + v.Format(pgTimeFmt) + "'"
				case string:
					return "'" + v + "'"
				}
				return fmt.Sprint(args[k-1])
			})
			if lit != qt.SQL(q) {
				t.Fatalf("%s: substituted prepared text\n%s\ndiffers from\n%s", qt.Name, lit, qt.SQL(q))
			}
		}
	}
}

func TestQueryTextsMention(t *testing.T) {
	ds := testDataset()
	for _, qt := range QueryTypes {
		q := Generate(ds, qt, 1)[0]
		s, iql := qt.SQL(q), qt.InfluxQL(q)
		for _, h := range q.Hosts {
			if !strings.Contains(s, "'"+h+"'") || !strings.Contains(iql, "'"+h+"'") {
				t.Errorf("%s: host %s missing from %q / %q", qt.Name, h, s, iql)
			}
		}
		if !q.End.IsZero() {
			if !strings.Contains(s, q.End.Format(pgTimeFmt)) || !strings.Contains(iql, q.End.Format(time.RFC3339)) {
				t.Errorf("%s: end time missing: %q / %q", qt.Name, s, iql)
			}
		}
	}
}

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3, 10, 9, 8, 7, 6}
	for _, c := range []struct{ p, want float64 }{{50, 5}, {95, 10}, {90, 9}, {10, 1}, {100, 10}} {
		if got := Percentile(xs, c.p); got != c.want {
			t.Errorf("p%v = %v, want %v", c.p, got, c.want)
		}
	}
	if xs[0] != 5 {
		t.Error("Percentile sorted its argument")
	}
	if !math.IsNaN(Percentile(nil, 50)) {
		t.Error("empty: want NaN")
	}
}

func TestCountInfluxRows(t *testing.T) {
	body := `{"results":[{"statement_id":0,"series":[{"name":"cpu","tags":{"hostname":"host_0"},"columns":["time","usage_user"],"values":[["2016-01-01T00:00:00Z",1],["2016-01-01T00:01:00Z",null]]},{"name":"cpu","tags":{"hostname":"host_1"},"columns":["time","usage_user"],"values":[["2016-01-01T00:00:00Z",3]]}]}]}`
	if n, err := countInfluxRows([]byte(body)); err != nil || n != 3 {
		t.Errorf("got %d, %v; want 3 rows", n, err)
	}
	if n, err := countInfluxRows([]byte(`{"results":[{"statement_id":0}]}`)); err != nil || n != 0 {
		t.Errorf("empty: got %d, %v", n, err)
	}
	if _, err := countInfluxRows([]byte(`{"results":[{"statement_id":0,"error":"database not found: x"}]}`)); err == nil {
		t.Error("statement error not reported")
	}
	if _, err := countInfluxRows([]byte(`{"error":"bad"}`)); err == nil {
		t.Error("top-level error not reported")
	}
}

func TestParseTarget(t *testing.T) {
	for s, kind := range map[string]string{
		"fineod=postgres://u@127.0.0.1:1/db":       "sql",
		"pg=postgresql://u@127.0.0.1:1/db":         "sql",
		"influxdb=http://127.0.0.1:18086?db=bench": "influxql",
	} {
		tg, err := ParseTarget(s)
		if err != nil || tg.Kind != kind {
			t.Errorf("%s: %+v, %v", s, tg, err)
		}
	}
	for _, s := range []string{"nourl", "=postgres://x", "x=ftp://y"} {
		if _, err := ParseTarget(s); err == nil {
			t.Errorf("%s: no error", s)
		}
	}
}

func TestRowCheck(t *testing.T) {
	qt, _ := LookupType("lastpoint")
	ts := []Target{{Name: "a"}, {Name: "b"}, {Name: "c"}}
	rs := []*Result{
		{Target: "a", Type: "lastpoint", Mode: "literal", Rows: []int{100, 100}},
		{Target: "b", Type: "lastpoint", Mode: "literal", Rows: []int{100, 100}},
		{Target: "c", Type: "lastpoint", Mode: "literal", Rows: []int{100, 99}},
	}
	if s := rowCheck(ts[:2], rs, qt); s != "" {
		t.Errorf("equal counts reported: %s", s)
	}
	if s := rowCheck(ts, rs, qt); !strings.Contains(s, "c vs a: 1 of 2") {
		t.Errorf("got %q", s)
	}
}
