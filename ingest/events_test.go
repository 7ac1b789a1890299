package ingest_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fineod/fineod/engine"
	"github.com/fineod/fineod/ingest"
	"github.com/fineod/fineod/internal/metrics"
	"github.com/fineod/fineod/schema"
)

func TestJSONEvents(t *testing.T) {
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	db, srv := newServer(t, ingest.Config{Now: func() time.Time { return now }})
	body := `[
	 {"metrictype": "thermostat", "device": "a", "timestamp": 1717200000, "temperature_f": 70.7, "gps": {"lat": 52.5, "lon": 13.4}, "on": true, "mode": "heat"},
	 {"table": "thermostat", "device": "b", "timestamp": 1717200000123, "temperature_f": "71.2", "errors": [1, 2]},
	 {"metrictype": "thermostat", "tags": {"site": "berlin"}, "device": "c", "timestamp": "2024-06-01T00:00:01.5Z", "temperature_f": null, "x": 1},
	 {"metrictype": "thermostat", "device": "d", "timestamp": 1717200000000000000, "temperature_f": 1},
	 {"device": "no table", "temperature_f": 1},
	 {"metrictype": "thermostat", "timestamp": "yesterday", "temperature_f": 1},
	 "not an object",
	 {"metrictype": "thermostat", "device": "e"}
	]`
	code, resp := post(t, srv.URL+"/api/v1/events?db=iot&tags=device", "", []byte(body))
	if code != http.StatusOK {
		t.Fatalf("%d %v", code, resp)
	}
	if resp["written"] != 4.0 || resp["rejected"] != 4.0 {
		t.Fatalf("counts: %v", resp)
	}
	results := resp["results"].([]any)
	for i, want := range []string{"ok", "ok", "ok", "ok", "error", "error", "error", "error"} {
		r := results[i].(map[string]any)
		if r["status"] != want || r["index"] != float64(i) {
			t.Errorf("event %d: %v, want %s", i, r, want)
		}
	}
	rows := scan(t, db, "iot", "thermostat")
	byDevice := map[string]engine.Row{}
	for _, r := range rows {
		byDevice[r.Tags["device"]] = r
	}
	a := byDevice["a"]
	if !a.Time.Equal(time.Unix(1717200000, 0)) || a.Fields["temperature_f"] != 70.7 || a.Fields["gps.lat"] != 52.5 ||
		a.Fields["on"] != true || a.Fields["mode"] != "heat" {
		t.Errorf("event a: %+v", a)
	}
	b := byDevice["b"]
	if !b.Time.Equal(time.UnixMilli(1717200000123)) || b.Fields["temperature_f"] != "71.2" || b.Fields["errors"] != "[1,2]" {
		t.Errorf("event b: %+v", b)
	}
	c := byDevice["c"]
	if !c.Time.Equal(time.Date(2024, 6, 1, 0, 0, 1, 5e8, time.UTC)) || c.Tags["site"] != "berlin" || c.Fields["x"] != 1.0 {
		t.Errorf("event c: %+v", c)
	}
	if _, ok := c.Fields["temperature_f"]; ok {
		t.Errorf("null field stored: %+v", c)
	}
	if d := byDevice["d"]; d.Time.UnixNano() != 1717200000000000000 {
		t.Errorf("event d: %+v", d)
	}
	if len(rows) != 4 {
		t.Fatalf("%d rows", len(rows))
	}
	errs, _ := db.Errors(context.Background(), schema.DefaultTenant)
	if len(errs) != 4 || errs[0].Stage != "ingest" || errs[0].Kind != "bad_input" || len(errs[0].Raw) == 0 {
		t.Fatalf("errors: %+v", errs)
	}
	// One object, not an array; a body that is not JSON is a 400.
	if code, resp := post(t, srv.URL+"/api/v1/events?db=iot", "", []byte(`{"table": "t2", "v": 1}`)); code != 200 || resp["written"] != 1.0 {
		t.Fatalf("single object: %d %v", code, resp)
	}
	if code, _ := post(t, srv.URL+"/api/v1/events?db=iot", "", []byte(`{"table": `)); code != http.StatusBadRequest {
		t.Fatalf("broken JSON: %d", code)
	}
}

func TestJSONEventsKeysAndTimePatterns(t *testing.T) {
	now := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	db, srv := newServer(t, ingest.Config{
		Now:            func() time.Time { return now },
		EventTableKeys: []string{"type"},
		EventTimeKey:   "ts",
		EventTimePatterns: map[string]string{
			"plc": "%d.%m.%Y %H:%M:%S",
			"gw":  "epoch_ms",
			"iso": "rfc3339",
			"bad": "%Q",
			"*":   "2006-01-02T15:04:05",
			"num": "%Y%m%d",
		},
	})
	body := `[
	 {"type": "plc", "ts": "01.06.2024 00:00:01", "v": 1},
	 {"type": "plc", "ts": "2024-06-01 00:00:02", "v": 2},
	 {"type": "gw", "ts": 1000, "v": 3},
	 {"type": "gw", "ts": "1717200000004", "v": 4},
	 {"type": "other", "ts": "2024-06-01T00:00:05", "v": 5},
	 {"type": "other", "ts": 1717200006, "v": 6},
	 {"type": "iso", "ts": "2024-06-01T00:00:07Z", "v": 7},
	 {"type": "bad", "ts": "x", "v": 8},
	 {"type": "num", "ts": 20240601, "v": 9},
	 {"table": "plc", "ts": "01.06.2024 00:00:10", "v": 10},
	 {"type": "plc", "v": 11}
	]`
	code, resp := post(t, srv.URL+"/api/v1/events?db=iot", "", []byte(body))
	if code != http.StatusOK {
		t.Fatalf("%d %v", code, resp)
	}
	results := resp["results"].([]any)
	wantErr := map[int]string{
		1: `ts: "2024-06-01 00:00:02" does not match the time pattern "%d.%m.%Y %H:%M:%S"`,
		5: `ts: 1717200006 does not match the time pattern "2006-01-02T15:04:05"`,
		7: `the configured time pattern of table "bad" is invalid`,
		9: `no table: the event needs a non-empty string "type"`,
	}
	for i, r := range results {
		r := r.(map[string]any)
		got, _ := r["error"].(string)
		if want, bad := wantErr[i]; bad != (r["status"] == "error") || !strings.Contains(got, want) {
			t.Errorf("event %d: %v, want error %q", i, r, want)
		}
	}
	if resp["written"] != 7.0 || resp["rejected"] != 4.0 {
		t.Fatalf("counts %v", resp)
	}
	times := map[float64]time.Time{}
	for _, table := range []string{"plc", "gw", "other", "iso", "num"} {
		for _, r := range scan(t, db, "iot", table) {
			times[r.Fields["v"].(float64)] = r.Time.UTC()
		}
	}
	base := time.Unix(1717200000, 0).UTC()
	for v, want := range map[float64]time.Time{
		1: base.Add(time.Second), 3: time.UnixMilli(1000).UTC(), 4: base.Add(4 * time.Millisecond),
		5: base.Add(5 * time.Second), 7: base.Add(7 * time.Second), 9: base, 11: now,
	} {
		if got, ok := times[v]; !ok || !got.Equal(want) {
			t.Errorf("v=%v: time %v (stored %v), want %v", v, got, ok, want)
		}
	}
	if len(times) != 7 {
		t.Errorf("rows %v", times)
	}
	errs, _ := db.Errors(context.Background(), schema.DefaultTenant)
	found := false
	for _, e := range errs {
		if e.Table == "plc" && strings.Contains(e.Message, `"2024-06-01 00:00:02" does not match the time pattern "%d.%m.%Y %H:%M:%S"`) &&
			e.Stage == "ingest" && e.Kind == "bad_input" && strings.Contains(string(e.Raw), `"v": 2`) {
			found = true
		}
	}
	if len(errs) != 4 || !found {
		t.Errorf("errors table: %+v", errs)
	}

	// Request parameters override the configured keys and patterns.
	body = `[
	 {"kind": "plc", "at": "2024-06-01 00:00:20", "v": 20},
	 {"kind": "gw", "at": "2024-06-01 00:00:21", "v": 21},
	 {"kind": "gw", "at": "01.06.2024 00:00:22", "v": 22},
	 {"type": "gw", "at": "2024-06-01 00:00:23", "v": 23}
	]`
	q := url.Values{"db": {"iot"}, "table_key": {" kind, type "}, "time_key": {"at"}, "time_format": {"2006-01-02 15:04:05"}}
	code, resp = post(t, srv.URL+"/api/v1/events?"+q.Encode(), "", []byte(body))
	if code != http.StatusOK || resp["written"] != 3.0 || resp["rejected"] != 1.0 {
		t.Fatalf("%d %v", code, resp)
	}
	if r := resp["results"].([]any)[2].(map[string]any); !strings.Contains(r["error"].(string), `at: "01.06.2024 00:00:22" does not match the time pattern "2006-01-02 15:04:05"`) {
		t.Errorf("event 2: %v", r)
	}
	for _, r := range scan(t, db, "iot", "gw") {
		if v := r.Fields["v"].(float64); v >= 20 && !r.Time.Equal(base.Add(time.Duration(v)*time.Second)) {
			t.Errorf("v=%v: %v", v, r.Time)
		}
	}
	if _, ok := scan(t, db, "iot", "gw")[0].Fields["at"]; ok {
		t.Errorf("the time key is stored as a field")
	}

	// An invalid time_format fails the request before anything is read.
	code, resp = post(t, srv.URL+"/api/v1/events?time_format="+url.QueryEscape("%Y-%q"), "", []byte(`{"type":"gw","v":1}`))
	if code != http.StatusBadRequest || !strings.Contains(resp["error"].(string), "invalid time_format") {
		t.Fatalf("bad time_format: %d %v", code, resp)
	}
}

func TestIngestErrorsMetricCountsEveryRejection(t *testing.T) {
	reg := metrics.NewRegistry()
	_, srv := newServer(t, ingest.Config{Metrics: reg})
	post(t, srv.URL+"/write?db=m", "", []byte("cpu v=1\ncpu\ncpu v=1x\n"))                              // 2 bad lines
	post(t, srv.URL+"/api/v1/events?db=m", "", []byte(`[{"table":"t","v":1},{"v":1},3,{"table":"t"}]`)) // 3 bad events
	post(t, srv.URL+"/api/v1/events?db=m&time_format=epoch_s", "", []byte(`{"table":"t","timestamp":"x","v":1}`))
	var sb strings.Builder
	if err := reg.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	if want := `fineo_errors_total{stage="ingest",kind="bad_input"} 6`; !strings.Contains(sb.String(), want+"\n") {
		t.Fatalf("want %s in\n%s", want, sb.String())
	}
}
