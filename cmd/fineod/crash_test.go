package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fineod/fineod/engine"
	"github.com/fineod/fineod/wal"
)

// buildBinary builds fineod once for the process tests.
func buildBinary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("process test: skipped with -short")
	}
	bin := filepath.Join(t.TempDir(), "fineod")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("build fineod: %v", err)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

type server struct {
	cmd    *exec.Cmd
	addr   string
	stderr *bytes.Buffer
}

func startServer(t *testing.T, bin, dir string, extra ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	// A free port for the Postgres wire server too, unless extra names one
	// (a later flag wins): the default 5433 may be taken.
	args := append([]string{"serve", "--data-dir", dir, "--http-addr", addr, "--pg-addr", freeAddr(t), "--log-level", "debug"}, extra...)
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &server{cmd: cmd, addr: addr, stderr: &stderr}
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/ping")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusNoContent {
				return s
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("server did not start: %v\n%s", err, stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *server) kill9(t *testing.T) {
	t.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
}

// ack is one acknowledged point: series tag w, time n, field v = n*w.
type ack struct{ w, n int }

// writer posts batches of points until ctx ends and records the points of
// every batch answered 204.
func writer(ctx context.Context, url string, w int, next *int, mu *sync.Mutex, acked *[]ack) {
	client := &http.Client{Timeout: 10 * time.Second}
	for ctx.Err() == nil {
		var body bytes.Buffer
		first := *next
		n := 1 + rand.Intn(300)
		for i := 0; i < n; i++ {
			seq := first + i
			fmt.Fprintf(&body, "crash,w=w%d v=%di,f=%d.5,s=\"p%d\" %d\n", w, seq*w, seq, seq, int64(seq)*1e6)
		}
		resp, err := client.Post(url, "text/plain", &body)
		if err != nil {
			return // the server died under us: this batch is unknown
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNoContent {
			return
		}
		*next = first + n
		mu.Lock()
		for i := 0; i < n; i++ {
			*acked = append(*acked, ack{w, first + i})
		}
		mu.Unlock()
	}
}

// verify opens the data directory in-process and checks that every
// acknowledged point is there with its exact values.
func verify(t *testing.T, dir string, acked []ack) (repairs int) {
	t.Helper()
	return verifyWith(t, dir, acked, func(ts time.Time) int { return int(ts.UnixNano() / 1e6) })
}

// verifyWith is verify for points whose number n is nOf(time).
func verifyWith(t *testing.T, dir string, acked []ack, nOf func(time.Time) int) (repairs int) {
	t.Helper()
	db, err := engine.Open(dir, &engine.Options{CheckpointInterval: -1})
	if err != nil {
		t.Fatalf("open after crash: %v", err)
	}
	defer db.Close()
	var m strings.Builder
	db.Metrics().WriteText(&m)
	for _, line := range strings.Split(m.String(), "\n") {
		if strings.HasPrefix(line, "fineo_log_repairs_total ") {
			fmt.Sscanf(strings.TrimPrefix(line, "fineo_log_repairs_total "), "%d", &repairs)
		}
	}
	got := map[ack]bool{}
	err = db.Scan(context.Background(), engine.ScanRequest{Database: "crash", Table: "crash"}, func(r engine.Row) error {
		var w int
		fmt.Sscanf(r.Tags["w"], "w%d", &w)
		n := nOf(r.Time)
		if r.Fields["v"] != int64(n*w) || r.Fields["f"] != float64(n)+0.5 || r.Fields["s"] != fmt.Sprintf("p%d", n) {
			return fmt.Errorf("point w%d/%d has wrong values %v", w, n, r.Fields)
		}
		got[ack{w, n}] = true
		return nil
	})
	if err != nil && !strings.Contains(err.Error(), "does not exist") {
		t.Fatal(err)
	}
	missing := 0
	for _, a := range acked {
		if !got[a] {
			if missing < 5 {
				t.Errorf("acknowledged point w%d/%d is missing", a.w, a.n)
			}
			missing++
		}
	}
	if missing > 0 {
		t.Fatalf("%d of %d acknowledged points missing", missing, len(acked))
	}
	return repairs
}

func lastSegment(t *testing.T, dir string) string {
	t.Helper()
	names, err := filepath.Glob(filepath.Join(dir, "wal", "[0-9]*"))
	if err != nil || len(names) == 0 {
		t.Fatalf("no wal segments: %v", err)
	}
	sort.Strings(names)
	return names[len(names)-1]
}

// TestKill9NeverLosesAcknowledgedWrites kills the server with SIGKILL at
// random moments under concurrent writes, many times, and checks after each
// restart that every acknowledged point is readable with its exact values.
// Some rounds also tear the log's tail (a partial record of garbage
// appended, as a crash in the middle of a write leaves it) and check that
// it is repaired.
func TestKill9NeverLosesAcknowledgedWrites(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	rounds := 12
	const writers = 4
	next := make([]int, writers+1)
	var mu sync.Mutex
	var acked []ack
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	for round := 0; round < rounds; round++ {
		s := startServer(t, bin, dir, "--checkpoint-interval", "150ms", "--wal-segment-size", "262144")
		url := "http://" + s.addr + "/write?db=crash"
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := 1; w <= writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				writer(ctx, url, w, &next[w], &mu, &acked)
			}(w)
		}
		time.Sleep(time.Duration(50+rng.Intn(400)) * time.Millisecond)
		s.kill9(t)
		cancel()
		wg.Wait()
		torn := round%3 == 2
		if torn {
			// A torn tail: half a page header and garbage after the last record.
			seg := lastSegment(t, dir)
			f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			junk := make([]byte, 1+rng.Intn(5000))
			rng.Read(junk)
			f.Write(junk)
			f.Close()
		}
		mu.Lock()
		snapshot := append([]ack(nil), acked...)
		mu.Unlock()
		if repairs := verify(t, dir, snapshot); torn && repairs == 0 {
			t.Fatalf("round %d: the torn log tail was not repaired", round)
		}
		t.Logf("round %d: %d points acknowledged so far", round, len(snapshot))
	}
	if len(acked) == 0 {
		t.Fatal("no write was ever acknowledged")
	}
	// A graceful stop after all that still works.
	s := startServer(t, bin, dir)
	s.cmd.Process.Signal(syscall.SIGTERM)
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("graceful shutdown: %v\n%s", err, s.stderr.String())
	}
	verify(t, dir, acked)
}

// TestCorruptLogSegmentIsReported corrupts a log segment that the row store
// still needs and checks that fineod refuses to start with an error that
// names the segment and offset, instead of silently losing data.
func TestCorruptLogSegmentIsReported(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	s := startServer(t, bin, dir, "--checkpoint-interval", "1h", "--wal-segment-size", "65536")
	url := "http://" + s.addr + "/write?db=crash"
	var body bytes.Buffer
	for i := 0; i < 3000; i++ {
		fmt.Fprintf(&body, "crash,w=w1 v=%di,f=%d.5,s=\"p%d\" %d\n", i, i, i, int64(i)*1e6)
	}
	for i := 0; i < 5; i++ {
		resp, err := http.Post(url, "text/plain", bytes.NewReader(body.Bytes()))
		if err != nil || resp.StatusCode != http.StatusNoContent {
			t.Fatalf("write: %v %v", err, resp)
		}
		resp.Body.Close()
	}
	s.kill9(t)
	names, _ := filepath.Glob(filepath.Join(dir, "wal", "[0-9]*"))
	sort.Strings(names)
	if len(names) < 3 {
		t.Fatalf("want several segments, have %v", names)
	}
	// Flip bytes in the middle of the first segment.
	seg := names[0]
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	off := len(data) / 2
	for i := 0; i < 16; i++ {
		data[off+i] ^= 0xff
	}
	if err := os.WriteFile(seg, data, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = engine.Open(dir, &engine.Options{CheckpointInterval: -1})
	var ce *wal.CorruptionError
	if !errors.As(err, &ce) {
		t.Fatalf("open with a corrupt segment: want *wal.CorruptionError, got %v", err)
	}
	if filepath.Base(seg) != fmt.Sprintf("%08d", ce.Segment) || !strings.Contains(err.Error(), "offset") {
		t.Fatalf("error does not name segment %s and an offset: %v", filepath.Base(seg), err)
	}
	// The binary says so too, and exits non-zero.
	out, err := exec.Command(bin, "serve", "--data-dir", dir, "--http-addr", freeAddr(t), "--pg-addr", freeAddr(t)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "corrupt") {
		t.Fatalf("serve with a corrupt log: err=%v output:\n%s", err, out)
	}
}
