package ingest_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/fineod/fineod/engine"
	"github.com/fineod/fineod/ingest"
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
