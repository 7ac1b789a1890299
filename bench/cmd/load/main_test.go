package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/fineod/fineod/bench/gen"
)

func TestSplit(t *testing.T) {
	data := []byte("# comment\na x=1 1\n\nb,t=1 x=1,y=2 2\nc x=1i 3\r\nd x=1 4")
	bs, bad, err := split(data, 2, false)
	if err != nil || bad != "" {
		t.Fatalf("err=%v bad=%q", err, bad)
	}
	if len(bs) != 2 || bs[0].rows != 2 || bs[0].values != 3 || bs[1].rows != 2 || bs[1].values != 2 {
		t.Fatalf("batches %+v", bs)
	}
	if got := string(bs[0].body); got != "a x=1 1\n\nb,t=1 x=1,y=2 2\n" {
		t.Fatalf("batch 0 body %q", got)
	}
	if got := string(bs[1].body); got != "c x=1i 3\r\nd x=1 4" {
		t.Fatalf("batch 1 body %q", got)
	}
	_, bad, _ = split([]byte("a x=oops 1\n"), 10, false)
	if bad == "" {
		t.Fatal("bad line not reported")
	}
}

func TestPost(t *testing.T) {
	var lines, reqs atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body io.Reader = r.Body
		if r.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(r.Body)
			if err != nil {
				http.Error(w, err.Error(), 400)
				return
			}
			body = zr
		}
		b, _ := io.ReadAll(body)
		if reqs.Add(1) == 3 {
			http.Error(w, `{"error":"boom"}`, http.StatusInternalServerError)
			return
		}
		lines.Add(int64(bytes.Count(b, []byte("\n"))))
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	cfg := gen.DefaultConfig()
	cfg.Scale = 10
	cfg.Duration = 10 * time.Minute // 600 rows
	for _, gz := range []bool{false, true} {
		lines.Store(0)
		reqs.Store(0)
		o := options{url: srv.URL + "/write?db=x", batch: 100, workers: 2, gzip: gz, timeout: 10 * time.Second, quiet: true}
		res, err := run(cfg, o)
		if err != nil {
			t.Fatal(err)
		}
		if res.Batches != 6 || res.FailedBatches != 1 || res.Rows != 500 || res.FailedRows != 100 || res.Values != 5000 {
			t.Fatalf("gzip=%v result %+v", gz, res)
		}
		if lines.Load() != 500 {
			t.Fatalf("server got %d lines", lines.Load())
		}
		if !strings.Contains(res.FirstError, "HTTP 500") || !strings.Contains(res.FirstError, "boom") {
			t.Fatalf("first error %q", res.FirstError)
		}
	}
	if _, err := run(cfg, options{url: srv.URL + "/query", batch: 1, workers: 1}); err == nil {
		t.Fatal("a non-write URL was accepted")
	}
}
