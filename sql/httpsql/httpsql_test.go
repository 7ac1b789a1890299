package httpsql_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/fineod/fineod/engine"
	"github.com/fineod/fineod/sql/httpsql"
)

func TestSQLOverHTTP(t *testing.T) {
	db, err := engine.Open(t.TempDir(), &engine.Options{CheckpointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	err = db.Write(context.Background(), []engine.Point{
		{Database: "plant", Table: "m", Tags: map[string]string{"dev": "a"}, Fields: map[string]any{"v": 1.5, "s": "x,y"}, Time: t0},
		{Database: "plant", Table: "m", Tags: map[string]string{"dev": "b"}, Fields: map[string]any{"v": 2.5}, Time: t0.Add(time.Second)},
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	httpsql.NewHandler(db.SQLEngine(), httpsql.Config{}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()

	do := func(req *http.Request) (int, string) {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	q := "SELECT dev, v, s, time FROM m ORDER BY time"
	req, _ := http.NewRequest("GET", srv.URL+"/api/v1/sql?db=plant&q="+url.QueryEscape(q), nil)
	code, body := do(req)
	if code != 200 {
		t.Fatalf("%d %s", code, body)
	}
	var got struct {
		Results []struct {
			Columns []struct{ Name, Type string }
			Rows    [][]any
			Tag     string
		}
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	r := got.Results[0]
	if len(r.Columns) != 4 || r.Columns[1].Type != "double precision" || r.Columns[3].Type != "timestamp with time zone" ||
		len(r.Rows) != 2 || r.Rows[0][1] != 1.5 || r.Rows[1][2] != nil || r.Rows[0][3] != "2024-01-01T00:00:00Z" || r.Tag != "SELECT 2" {
		t.Fatalf("json: %s", body)
	}
	// POST body, CSV.
	req, _ = http.NewRequest("POST", srv.URL+"/api/v1/sql?db=plant", strings.NewReader(q))
	req.Header.Set("Accept", "text/csv")
	code, body = do(req)
	if code != 200 || body != "dev,v,s,time\na,1.5,\"x,y\",2024-01-01T00:00:00Z\nb,2.5,,2024-01-01T00:00:01Z\n" {
		t.Fatalf("csv: %d %q", code, body)
	}
	// JSON body.
	req, _ = http.NewRequest("POST", srv.URL+"/api/v1/sql?db=plant", strings.NewReader(`{"q": "SELECT count(*) FROM m"}`))
	req.Header.Set("Content-Type", "application/json")
	if code, body = do(req); code != 200 || !strings.Contains(body, `"rows":[[2]]`) {
		t.Fatalf("json body: %d %s", code, body)
	}
	// Errors carry the SQLSTATE.
	req, _ = http.NewRequest("GET", srv.URL+"/api/v1/sql?db=plant&q="+url.QueryEscape("SELECT nope FROM m"), nil)
	if code, body = do(req); code != 400 || !strings.Contains(body, `"code":"42703"`) {
		t.Fatalf("error: %d %s", code, body)
	}
	req, _ = http.NewRequest("GET", srv.URL+"/api/v1/sql", nil)
	if code, body = do(req); code != 400 || !strings.Contains(body, "no query") {
		t.Fatalf("empty: %d %s", code, body)
	}
	req, _ = http.NewRequest("POST", srv.URL+"/api/v1/sql?db=plant", strings.NewReader("SELEC 1"))
	if code, body = do(req); code != 400 || !strings.Contains(body, `"code":"42601"`) {
		t.Fatalf("syntax error: %d %s", code, body)
	}
}
