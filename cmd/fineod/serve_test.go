package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/fineod/fineod/engine"
)

func TestVersionCommand(t *testing.T) {
	var out bytes.Buffer
	cmd := newRootCmd()
	cmd.SetOut(&out)
	cmd.SetArgs([]string{"version"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out.String(), "fineod ") {
		t.Fatalf("version output %q", out.String())
	}
}

func TestServeRefusesNonLoopbackWithoutAuth(t *testing.T) {
	cmd := newRootCmd()
	cmd.SetArgs([]string{"serve", "--data-dir", t.TempDir(), "--http-addr", "0.0.0.0:0"})
	err := cmd.Execute()
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("want a loopback error, got %v", err)
	}
}

// TestServeWithCurl runs the real binary, configured through FINEOD_*
// environment variables, and talks to it with curl: plain and gzip writes,
// a partial write, /ping, /metrics, then a graceful SIGTERM.
func TestServeWithCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl is not installed (apt-get install curl); .ci/run installs it")
	}
	bin := buildBinary(t)
	dir := filepath.Join(t.TempDir(), "data")
	addr := freeAddr(t)
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "FINEOD_DATA_DIR="+dir, "FINEOD_HTTP_ADDR="+addr, "FINEOD_PG_ADDR="+freeAddr(t), "FINEOD_LOG_LEVEL=debug")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(base + "/ping"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 300 {
			t.Fatalf("server did not start:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	run := func(args ...string) (string, string) {
		t.Helper()
		out, err := exec.Command(curl, append([]string{"-sS", "-w", "\n%{http_code}"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v\n%s", args, err, out)
		}
		s := strings.TrimRight(string(out), "\n")
		i := strings.LastIndex(s, "\n")
		if i < 0 {
			return "", s
		}
		return s[:i], s[i+1:]
	}
	if _, code := run("-i", base+"/ping"); code != "204" {
		t.Fatalf("ping: %s", code)
	}
	if body, code := run("-XPOST", base+"/write?db=env&precision=s", "--data-binary", "room,floor=1 temp=21.5,on=true 1700000000\nroom,floor=2 temp=19i 1700000000"); code != "204" {
		t.Fatalf("write: %s %s", code, body)
	}
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	io.WriteString(zw, "room,floor=3 temp=18.25 1700000001\n")
	zw.Close()
	gzFile := filepath.Join(t.TempDir(), "body.gz")
	os.WriteFile(gzFile, gz.Bytes(), 0o644)
	if body, code := run("-XPOST", base+"/api/v2/write?bucket=env&precision=s", "-H", "Content-Encoding: gzip", "--data-binary", "@"+gzFile); code != "204" {
		t.Fatalf("gzip write: %s %s", code, body)
	}
	body, code := run("-XPOST", base+"/write?db=env", "--data-binary", "room,floor=4 temp=\"unterminated 5\nroom,floor=5 temp=1 1")
	if code != "400" || !strings.Contains(body, "unbalanced quotes") {
		t.Fatalf("partial write: %s %s", code, body)
	}
	metrics, code := run(base + "/metrics")
	for _, want := range []string{"fineo_ingest_points_total 3", "fineo_errors_total{stage=\"ingest\",kind=\"bad_input\"} 1", "fineo_log_fsyncs_total", "fineo_apply_lag_entries"} {
		if code != "200" || !strings.Contains(metrics, want) {
			t.Fatalf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("graceful shutdown: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(stderr.String(), "shutting down") {
		t.Fatalf("no shutdown log:\n%s", stderr.String())
	}
	db, err := engine.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	n := 0
	err = db.Scan(context.Background(), engine.ScanRequest{Database: "env", Table: "room"}, func(r engine.Row) error {
		n++
		return nil
	})
	if err != nil || n != 3 {
		t.Fatalf("rows after restart: %d, %v", n, err)
	}
}
