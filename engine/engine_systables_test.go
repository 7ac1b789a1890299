package engine_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/fineod/fineod/engine"
	"github.com/fineod/fineod/ingest"
	"github.com/fineod/fineod/schema"
	"github.com/fineod/fineod/sql"
)

// queryRows runs one statement and renders its rows as "a|b" lines.
func queryRows(t *testing.T, s *sql.Session, q string) []string {
	t.Helper()
	ctx := context.Background()
	st, err := s.Prepare(ctx, q, nil)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	res, err := st.Execute(ctx, nil)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer res.Close()
	var out []string
	for res.Next() {
		var vs []string
		for _, v := range res.Row() {
			if v == nil {
				vs = append(vs, "NULL")
			} else {
				vs = append(vs, fmt.Sprint(v))
			}
		}
		out = append(out, strings.Join(vs, "|"))
	}
	return out
}

// TestSystemTablesThroughIngest writes good and bad lines over the HTTP
// write path and reads fineo.errors, fineo.series and the catalog with SQL.
func TestSystemTablesThroughIngest(t *testing.T) {
	db, err := engine.Open(t.TempDir(), &engine.Options{CheckpointInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	mux := http.NewServeMux()
	ingest.NewHandler(db, ingest.Config{}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	body := "cpu,host=a,region=eu v=1 10\n" +
		"cpu,host=a\n" + // missing fields
		"cpu,host=b v=2 20\n" +
		"mem,host=a used=3i 30\n"
	resp, err := http.Post(srv.URL+"/write?db=plant1", "text/plain", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", resp.StatusCode)
	}

	eng := sql.NewEngine(db.SQLCatalog(), db.SQLScanner(), db, nil)
	s := eng.NewSession(schema.DefaultTenant, "plant1", "fineo")
	got := queryRows(t, s, "SELECT stage, kind, database, table_name, raw, message <> '' FROM fineo.errors")
	if len(got) != 1 || got[0] != "ingest|bad_input|plant1|cpu|cpu,host=a|true" {
		t.Fatalf("fineo.errors: %q", got)
	}
	got = queryRows(t, s, "SELECT count(*) FROM fineo.errors WHERE time > now() - interval '1 hour' AND table_name = 'cpu'")
	if len(got) != 1 || got[0] != "1" {
		t.Fatalf("fineo.errors filtered: %q", got)
	}
	got = queryRows(t, s, "SELECT database, table_name, tags FROM fineo.series ORDER BY table_name, tags")
	if strings.Join(got, ";") != "plant1|cpu|host=a,region=eu;plant1|cpu|host=b;plant1|mem|host=a" {
		t.Fatalf("fineo.series: %q", got)
	}
	got = queryRows(t, s, "SELECT count(DISTINCT series_id) FROM fineo.series")
	if len(got) != 1 || got[0] != "3" {
		t.Fatalf("series ids: %q", got)
	}
	// The catalog sees the same tables and columns.
	got = queryRows(t, s, `SELECT c.relname, a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod)
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = 'public' ORDER BY c.relname, a.attnum`)
	want := "cpu|time|timestamp with time zone;cpu|host|text;cpu|region|text;cpu|v|double precision;" +
		"mem|time|timestamp with time zone;mem|host|text;mem|used|bigint"
	if strings.Join(got, ";") != want {
		t.Fatalf("catalog: %q", got)
	}
	// Another tenant sees none of it.
	other := eng.NewSession("other", "plant1", "fineo")
	if got := queryRows(t, other, "SELECT count(*) FROM fineo.errors"); got[0] != "0" {
		t.Fatalf("other tenant errors: %q", got)
	}
	if got := queryRows(t, other, "SELECT count(*) FROM fineo.series"); got[0] != "0" {
		t.Fatalf("other tenant series: %q", got)
	}
}
