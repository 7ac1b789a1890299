package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/fineod/fineod/engine"
)

// The points of the compaction crash test: series w1..w4 of table crash,
// point n at 2024-01-01 + n minutes, with the values verify checks.
var compactDay0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

func crashLines(w int, ns []int) []byte {
	var b bytes.Buffer
	for _, n := range ns {
		ts := compactDay0.Add(time.Duration(n) * time.Minute).UnixNano()
		fmt.Fprintf(&b, "crash,w=w%d v=%di,f=%d.5,s=\"p%d\" %d\n", w, n*w, n, n, ts)
	}
	return b.Bytes()
}

func postLines(t *testing.T, addr string, body []byte) {
	t.Helper()
	resp, err := http.Post("http://"+addr+"/write?db=crash", "text/plain", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %s", resp.Status)
	}
}

// verifyCompacted checks what verify checks (every acknowledged point with
// its exact values), and that no point is stored twice: the rows in
// segments plus the points in the row store are exactly the distinct
// acknowledged points, and every file under segments/ is a live segment.
func verifyCompacted(t *testing.T, dir string, acked []ack, wantAllInSegments bool) {
	t.Helper()
	verifyWith(t, dir, acked, func(ts time.Time) int { return int(ts.Sub(compactDay0) / time.Minute) })
	distinct := map[ack]bool{}
	for _, a := range acked {
		distinct[a] = true
	}
	db, err := engine.Open(dir, &engine.Options{CheckpointInterval: -1, CompactionInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var segRows, files int64
	live := map[string]bool{}
	rows, err := db.QueryDatabase(context.Background(), "crash", `SELECT rows, file FROM fineo.segments`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var n int64
		var f string
		if err := rows.Scan(&n, &f); err != nil {
			t.Fatal(err)
		}
		segRows += n
		live[f] = true
	}
	rows.Close()
	filepath.Walk(filepath.Join(dir, "segments"), func(p string, info os.FileInfo, err error) error {
		if err == nil && !info.IsDir() {
			files++
			rel, _ := filepath.Rel(dir, p)
			if !live[filepath.ToSlash(rel)] {
				t.Errorf("file %s is not a live segment", rel)
			}
		}
		return nil
	})
	var stored int64
	err = db.Scan(context.Background(), engine.ScanRequest{Database: "crash", Table: "crash"}, func(engine.Row) error {
		stored++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if stored != int64(len(distinct)) {
		t.Fatalf("a scan returns %d points for %d distinct acknowledged points", stored, len(distinct))
	}
	if wantAllInSegments && segRows != int64(len(distinct)) {
		t.Fatalf("segments hold %d rows for %d distinct points: a point was lost or duplicated", segRows, len(distinct))
	}
	if int64(len(live)) != files {
		t.Fatalf("%d live segments, %d files", len(live), files)
	}
}

// TestKill9DuringCompaction kills the server (SIGKILL, from inside, at the
// exact moment) after each step of a compaction that merges late writes
// into an already compacted day, restarts it, and checks that no
// acknowledged point was lost or duplicated and no stray file is left;
// then a compaction without crash completes the work.
func TestKill9DuringCompaction(t *testing.T) {
	bin := buildBinary(t)
	for _, step := range []string{"written", "renamed", "committed", "flushed", "removed"} {
		t.Run(step, func(t *testing.T) {
			dir := t.TempDir()
			var acked []ack
			s := startServer(t, bin, dir, "--compaction-interval", "-1s")
			// Two days of points for four series.
			for w := 1; w <= 4; w++ {
				var ns []int
				for n := 0; n < 2*24*60; n += 3 {
					ns = append(ns, n)
					acked = append(acked, ack{w, n})
				}
				postLines(t, s.addr, crashLines(w, ns))
			}
			compactServer(t, s.addr, "before="+compactDay0.Add(30*time.Hour).Format(time.RFC3339))
			// Late writes into the compacted day: new points, and points
			// written again (same values: identical rewrites).
			for w := 1; w <= 4; w++ {
				ns := []int{1, 2, 4, 5, 6, 9, 300, 301, 1000}
				for _, n := range ns {
					acked = append(acked, ack{w, n})
				}
				postLines(t, s.addr, crashLines(w, ns))
			}
			s.kill9(t)

			// The compaction that crashes.
			cmd := exec.Command(bin, "serve", "--data-dir", dir, "--http-addr", freeAddr(t), "--pg-addr", freeAddr(t), "--compaction-interval", "-1s")
			addr := cmd.Args[5]
			cmd.Env = append(os.Environ(), "FINEOD_TEST_CRASH_AT_COMPACTION_STEP="+step)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			waitPing(t, addr)
			resp, err := http.Post("http://"+addr+"/api/v1/compact?hot_window=0s", "", nil)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			werr := cmd.Wait()
			if werr == nil || !strings.Contains(werr.Error(), "killed") {
				t.Fatalf("the server was not killed at step %s: %v\n%s", step, werr, stderr.String())
			}
			verifyCompacted(t, dir, acked, false)

			// Recovery: the next compaction finishes the job.
			s = startServer(t, bin, dir, "--compaction-interval", "-1s")
			compactServer(t, s.addr, "hot_window=0s")
			s.kill9(t)
			verifyCompacted(t, dir, acked, true)
		})
	}
}

func waitPing(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/ping")
		if err == nil {
			resp.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("server at %s did not start", addr)
}
