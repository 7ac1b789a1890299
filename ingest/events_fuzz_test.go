package ingest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/fineod/fineod/ingest"
	"github.com/fineod/fineod/schema"
)

// batchWriter is a Writer that keeps the counts of the last batch.
type batchWriter struct{ rows, errors int }

func (w *batchWriter) WriteBatch(ctx context.Context, tenant string, b *schema.Builder) error {
	w.rows, w.errors = b.Rows(), len(b.Errors())
	return nil
}
func (w *batchWriter) Databases(string) []string                            { return nil }
func (w *batchWriter) CreateDatabase(context.Context, string, string) error { return nil }

// FuzzEvents checks that POST /api/v1/events never panics and that, when
// the body is JSON, every event gets exactly one result, in order, and is
// either a row or an error row. The seed corpus is in
// testdata/fuzz/FuzzEvents.
func FuzzEvents(f *testing.F) {
	f.Add([]byte(`[{"metrictype":"t","timestamp":1717200000,"v":1,"tags":{"a":"b"}},{"table":"p","timestamp":"01.06.2024 00:00:00","v":2}]`), "")
	f.Add([]byte(`{"table":"t","timestamp":"2024-06-01 00:00:00.5","v":1}`), "%Y-%m-%d %H:%M:%S.%f")
	f.Fuzz(func(t *testing.T, body []byte, timeFormat string) {
		w := &batchWriter{}
		h := ingest.NewHandler(w, ingest.Config{
			Now:               func() time.Time { return time.Unix(1717200000, 0) },
			EventTimePatterns: map[string]string{"p": "%d.%m.%Y %H:%M:%S", "ms": "epoch_ms", "bad": "%Q"},
		})
		mux := http.NewServeMux()
		h.Register(mux)
		q := url.Values{"tags": {"device"}, "time_format": {timeFormat}}
		req := httptest.NewRequest("POST", "/api/v1/events?"+q.Encode(), bytes.NewReader(body))
		rec := httptest.NewRecorder()
		mux.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			if rec.Code != http.StatusBadRequest {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if w.rows+w.errors != 0 {
				t.Fatalf("400 but a batch was written")
			}
			return
		}
		var resp struct {
			Written, Rejected int
			Results           []struct {
				Index  int
				Status string
				Error  string
			}
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &resp); err != nil {
			t.Fatalf("response %q: %v", rec.Body, err)
		}
		n := 1
		var arr []json.RawMessage
		if json.Unmarshal(body, &arr) == nil {
			n = len(arr)
		}
		if len(resp.Results) != n || resp.Written+resp.Rejected != n {
			t.Fatalf("%d events, %d results, %d written, %d rejected", n, len(resp.Results), resp.Written, resp.Rejected)
		}
		rejected := 0
		for i, r := range resp.Results {
			if r.Index != i || (r.Status == "ok") == (r.Error != "") || (r.Status != "ok" && r.Status != "error") {
				t.Fatalf("result %d: %+v", i, r)
			}
			if r.Status == "error" {
				rejected++
			}
		}
		if rejected != resp.Rejected || w.rows != resp.Written || w.errors != resp.Rejected {
			t.Fatalf("results say %d rejected, response %d/%d, batch %d rows %d errors", rejected, resp.Written, resp.Rejected, w.rows, w.errors)
		}
	})
}
