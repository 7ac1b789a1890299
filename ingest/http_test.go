package ingest_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	influxdb2 "github.com/influxdata/influxdb-client-go/v2"
	"github.com/influxdata/influxdb-client-go/v2/api/write"

	"github.com/fineod/fineod/engine"
	"github.com/fineod/fineod/ingest"
	"github.com/fineod/fineod/schema"
)

func newServer(t *testing.T, cfg ingest.Config) (*engine.DB, *httptest.Server) {
	t.Helper()
	db, err := engine.Open(t.TempDir(), &engine.Options{CheckpointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	ingest.NewHandler(db, cfg).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		srv.Close()
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	return db, srv
}

func post(t *testing.T, url, contentEncoding string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	if contentEncoding != "" {
		req.Header.Set("Content-Encoding", contentEncoding)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if len(b) > 0 {
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("status %d, body not JSON: %q", resp.StatusCode, b)
		}
	}
	return resp.StatusCode, m
}

func scan(t *testing.T, db *engine.DB, database, table string) []engine.Row {
	t.Helper()
	var rows []engine.Row
	err := db.Scan(context.Background(), engine.ScanRequest{Database: database, Table: table}, func(r engine.Row) error {
		rows = append(rows, r)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func TestWriteV1AllTypesAndEscapes(t *testing.T) {
	db, srv := newServer(t, ingest.Config{})
	body := "weather,location=us\\,midwest,season=summer temperature=82.5,humidity=71i,count=3u,ok=t,note=\"hot, \\\"humid\\\"\" 1465839830100400200\n" +
		"# a comment\n\n" +
		"weather,location=us\\,midwest,season=summer temperature=83 1465839830100400300\r\n"
	code, resp := post(t, srv.URL+"/write?db=plant1", "", []byte(body))
	if code != http.StatusNoContent {
		t.Fatalf("status %d: %v", code, resp)
	}
	rows := scan(t, db, "plant1", "weather")
	if len(rows) != 2 {
		t.Fatalf("rows %+v", rows)
	}
	r := rows[0]
	if r.Time.UnixNano() != 1465839830100400200 || r.Tags["location"] != "us,midwest" || r.Tags["season"] != "summer" {
		t.Fatalf("row %+v", r)
	}
	want := map[string]any{"temperature": 82.5, "humidity": int64(71), "count": uint64(3), "ok": true, "note": `hot, "humid"`}
	for k, v := range want {
		if r.Fields[k] != v {
			t.Errorf("field %s = %#v, want %#v", k, r.Fields[k], v)
		}
	}
	if rows[1].Fields["temperature"] != 83.0 {
		t.Errorf("second row %+v", rows[1])
	}
}

func TestPartialWriteKeepsGoodLinesAndRecordsBadOnes(t *testing.T) {
	db, srv := newServer(t, ingest.Config{})
	body := "cpu,host=a v=1 10\n" +
		"cpu,host=a\n" + // missing fields
		"cpu,host=b v=2 20\n" +
		"cpu,host=c v=1x 30\n" // invalid number
	code, resp := post(t, srv.URL+"/write?db=d", "", []byte(body))
	if code != http.StatusBadRequest {
		t.Fatalf("status %d: %v", code, resp)
	}
	lines, _ := resp["lines"].([]any)
	if len(lines) != 2 {
		t.Fatalf("lines %v", resp)
	}
	if l := lines[0].(map[string]any); l["line"] != 2.0 || !strings.Contains(l["reason"].(string), "missing fields") {
		t.Fatalf("first bad line %v", l)
	}
	if l := lines[1].(map[string]any); l["line"] != 4.0 {
		t.Fatalf("second bad line %v", l)
	}
	if !strings.Contains(resp["error"].(string), "partial write") {
		t.Fatalf("error %v", resp["error"])
	}
	if rows := scan(t, db, "d", "cpu"); len(rows) != 2 {
		t.Fatalf("good rows: %+v", rows)
	}
	errs, err := db.Errors(context.Background(), schema.DefaultTenant)
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) != 2 || string(errs[0].Raw) != "cpu,host=a" || errs[0].Stage != "ingest" ||
		errs[0].Kind != "bad_input" || errs[0].Table != "cpu" || errs[0].Database != "d" {
		t.Fatalf("errors table: %+v", errs)
	}
	// A body of only bad lines writes nothing but still records them.
	code, _ = post(t, srv.URL+"/write?db=d", "", []byte("garbage\n"))
	if code != http.StatusBadRequest {
		t.Fatalf("status %d", code)
	}
	if errs, _ := db.Errors(context.Background(), schema.DefaultTenant); len(errs) != 3 {
		t.Fatalf("errors after all-bad body: %d", len(errs))
	}
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestGzipAndBodyLimits(t *testing.T) {
	db, srv := newServer(t, ingest.Config{MaxBodyBytes: 1000})
	code, resp := post(t, srv.URL+"/write?db=z", "gzip", gz([]byte("m v=1 1\nm v=2 2\n")))
	if code != http.StatusNoContent {
		t.Fatalf("gzip write: %d %v", code, resp)
	}
	if rows := scan(t, db, "z", "m"); len(rows) != 2 {
		t.Fatalf("rows %+v", rows)
	}
	big := bytes.Repeat([]byte("m v=1 1\n"), 200) // 1600 bytes
	if code, resp := post(t, srv.URL+"/write?db=z", "", big); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("large body: %d %v", code, resp)
	}
	// A small gzip body that inflates past the limit is refused too.
	if code, resp := post(t, srv.URL+"/write?db=z", "gzip", gz(big)); code != http.StatusRequestEntityTooLarge {
		t.Fatalf("gzip bomb: %d %v", code, resp)
	}
	if code, resp := post(t, srv.URL+"/write?db=z", "gzip", []byte("not gzip")); code != http.StatusBadRequest {
		t.Fatalf("bad gzip: %d %v", code, resp)
	}
	if code, resp := post(t, srv.URL+"/write?db=z&precision=fortnight", "", []byte("m v=1")); code != http.StatusBadRequest {
		t.Fatalf("bad precision: %d %v", code, resp)
	}
	// Nothing of the refused requests was written, and the server still works.
	if rows := scan(t, db, "z", "m"); len(rows) != 2 {
		t.Fatalf("rows after refused requests %+v", rows)
	}
}

func TestWriteV2Precision(t *testing.T) {
	db, srv := newServer(t, ingest.Config{})
	code, resp := post(t, srv.URL+"/api/v2/write?org=o&bucket=b2&precision=ms", "", []byte("m v=1 1700000000123\nm v=2\n"))
	if code != http.StatusNoContent {
		t.Fatalf("%d %v", code, resp)
	}
	rows := scan(t, db, "b2", "m")
	if len(rows) != 2 || rows[0].Time.UnixNano() != 1700000000123*int64(time.Millisecond) {
		t.Fatalf("rows %+v", rows)
	}
	// A point without a timestamp gets the server's time.
	if d := time.Since(rows[1].Time); d < 0 || d > time.Minute {
		t.Fatalf("default time %v", rows[1].Time)
	}
	if code, _ := post(t, srv.URL+"/api/v2/write?bucket=b2&precision=h", "", []byte("m v=1 1")); code != http.StatusBadRequest {
		t.Fatalf("v2 accepts only ns/us/ms/s, got %d", code)
	}
}

func TestPingHealthQuery(t *testing.T) {
	_, srv := newServer(t, ingest.Config{Version: "1.2.3"})
	for _, method := range []string{"GET", "HEAD"} {
		req, _ := http.NewRequest(method, srv.URL+"/ping", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent || resp.Header.Get("X-Influxdb-Version") == "" {
			t.Fatalf("%s /ping: %d %v", method, resp.StatusCode, resp.Header)
		}
	}
	resp, err := http.Get(srv.URL + "/health")
	if err != nil {
		t.Fatal(err)
	}
	var h map[string]any
	json.NewDecoder(resp.Body).Decode(&h)
	resp.Body.Close()
	if h["status"] != "pass" || h["version"] != "1.2.3" {
		t.Fatalf("health %v", h)
	}
	q := func(s string) (int, map[string]any) {
		return post(t, srv.URL+"/query?q="+url.QueryEscape(s), "", nil)
	}
	if code, r := q(`CREATE DATABASE "telegraf"; create database other`); code != 200 {
		t.Fatalf("create: %d %v", code, r)
	}
	code, r := q("SHOW DATABASES")
	b, _ := json.Marshal(r)
	if code != 200 || !strings.Contains(string(b), `"values":[["other"],["telegraf"]]`) {
		t.Fatalf("show databases: %d %s", code, b)
	}
	code, r = q("SELECT * FROM cpu")
	if code != 400 || !strings.Contains(r["error"].(string), "SQL") {
		t.Fatalf("select: %d %v", code, r)
	}
}

// TestInfluxDBGoClient writes through /api/v2/write with the official
// InfluxDB Go client.
func TestInfluxDBGoClient(t *testing.T) {
	db, srv := newServer(t, ingest.Config{})
	client := influxdb2.NewClientWithOptions(srv.URL, "any-token", influxdb2.DefaultOptions().SetBatchSize(50))
	defer client.Close()
	w := client.WriteAPIBlocking("my-org", "iot")
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var pts []*write.Point
	for i := 0; i < 100; i++ {
		p := influxdb2.NewPoint("thermo",
			map[string]string{"device": "dev-" + string(rune('a'+i%4))},
			map[string]any{"temp": 20.5 + float64(i), "seq": int64(i), "label": "x y", "on": i%2 == 0},
			base.Add(time.Duration(i)*time.Second))
		pts = append(pts, p)
	}
	if err := w.WritePoint(context.Background(), pts...); err != nil {
		t.Fatal(err)
	}
	if err := w.WriteRecord(context.Background(), "thermo,device=dev-z temp=1.25 1704067200000000000"); err != nil {
		t.Fatal(err)
	}
	rows := scan(t, db, "iot", "thermo")
	if len(rows) != 101 {
		t.Fatalf("%d rows", len(rows))
	}
	seen := map[int64]bool{}
	for _, r := range rows {
		if r.Tags["device"] == "dev-z" {
			continue
		}
		seq := r.Fields["seq"].(int64)
		if r.Fields["temp"] != 20.5+float64(seq) || r.Fields["label"] != "x y" || r.Fields["on"] != (seq%2 == 0) ||
			!r.Time.Equal(base.Add(time.Duration(seq)*time.Second)) {
			t.Fatalf("row %+v", r)
		}
		seen[seq] = true
	}
	if len(seen) != 100 {
		t.Fatalf("saw %d distinct points", len(seen))
	}
	ok, err := client.Ping(context.Background())
	if err != nil || !ok {
		t.Fatalf("client ping: %v %v", ok, err)
	}
}

// TestStrictTenantRejectsUnknownTables: in a strict tenant a write to an
// unknown table is a partial write: 400 naming it, the other lines stored.
func TestStrictTenantRejectsUnknownTables(t *testing.T) {
	db, srv := newServer(t, ingest.Config{})
	if code, _ := post(t, srv.URL+"/write?db=plant", "", []byte("known v=1 1\n")); code != http.StatusNoContent {
		t.Fatalf("first write: %d", code)
	}
	rows, err := db.QueryDatabase(context.Background(), "plant", `SELECT fineo.set_strict('*', true)`)
	if err != nil {
		t.Fatal(err)
	}
	rows.Close()
	code, m := post(t, srv.URL+"/write?db=plant", "", []byte("known v=2 2\nnew_table v=3 3\n"))
	if code != http.StatusBadRequest || m["written"] != 1.0 || m["rejected"] != 1.0 || !strings.Contains(fmt.Sprint(m["error"]), "new_table") {
		t.Fatalf("strict write: %d %v", code, m)
	}
	if got := scan(t, db, "plant", "known"); len(got) != 2 {
		t.Fatalf("known has %d rows", len(got))
	}
	errs, err := db.Errors(context.Background(), schema.DefaultTenant)
	if err != nil || len(errs) != 1 || string(errs[0].Raw) != "new_table v=3 3" {
		t.Fatalf("errors: %+v %v", errs, err)
	}
}
