package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/fineod/fineod/wal"
	"go.etcd.io/raft/v3/raftpb"
	"go.uber.org/goleak"
	"google.golang.org/protobuf/proto"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// memSM is a state machine that remembers what it applied. Payloads that
// start with "fail" get an error result.
type memSM struct {
	mu      sync.Mutex
	applied []Applied
	calls   int
	block   chan struct{} // if set, Apply waits for it to close
}

func (s *memSM) Apply(ents []Applied) []error {
	if s.block != nil {
		<-s.block
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	res := make([]error, len(ents))
	for i, e := range ents {
		s.applied = append(s.applied, Applied{Index: e.Index, Data: bytes.Clone(e.Data)})
		if bytes.HasPrefix(e.Data, []byte("fail")) {
			res[i] = fmt.Errorf("rejected %q", e.Data)
		}
	}
	return res
}

func (s *memSM) snapshot() []Applied {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Applied(nil), s.applied...)
}

func (s *memSM) lastIndex() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.applied) == 0 {
		return 0
	}
	return s.applied[len(s.applied)-1].Index
}

func startNode(t testing.TB, cfg Config) *Node {
	t.Helper()
	n, err := Start(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func stopNode(t testing.TB, n *Node) {
	t.Helper()
	if err := n.Stop(); err != nil {
		t.Fatal(err)
	}
}

// proposeAll proposes payloads one after another.
func proposeAll(t testing.TB, n *Node, payloads ...string) {
	t.Helper()
	for _, p := range payloads {
		if err := n.Propose(context.Background(), []byte(p)); err != nil {
			t.Fatalf("Propose(%q): %v", p, err)
		}
	}
}

func payloads(prefix string, count int) []string {
	s := make([]string, count)
	for i := range s {
		s[i] = fmt.Sprintf("%s-%04d", prefix, i)
	}
	return s
}

// checkInOrder fails unless applied indexes strictly increase.
func checkInOrder(t testing.TB, applied []Applied) {
	t.Helper()
	for i := 1; i < len(applied); i++ {
		if applied[i].Index <= applied[i-1].Index {
			t.Fatalf("applied index %d after %d", applied[i].Index, applied[i-1].Index)
		}
	}
}

func dataOf(applied []Applied) []string {
	s := make([]string, len(applied))
	for i, a := range applied {
		s[i] = string(a.Data)
	}
	return s
}

func TestConcurrentProposalsApplyInOrderWithGroupCommit(t *testing.T) {
	sm := &memSM{}
	n := startNode(t, Config{Dir: t.TempDir(), SM: sm})
	defer stopNode(t, n)

	const proposers, each = 16, 50
	var wg sync.WaitGroup
	for g := range proposers {
		wg.Go(func() {
			for i := range each {
				if err := n.Propose(context.Background(), fmt.Appendf(nil, "p%02d-%03d", g, i)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()

	applied := sm.snapshot()
	if len(applied) != proposers*each {
		t.Fatalf("applied %d payloads, want %d", len(applied), proposers*each)
	}
	checkInOrder(t, applied)
	seen := map[string]bool{}
	for _, a := range applied {
		if seen[string(a.Data)] {
			t.Fatalf("payload %q applied twice", a.Data)
		}
		seen[string(a.Data)] = true
	}
	// Each proposer's own payloads apply in the order it proposed them.
	next := make([]int, proposers)
	for _, a := range applied {
		var g, i int
		if _, err := fmt.Sscanf(string(a.Data), "p%02d-%03d", &g, &i); err != nil {
			t.Fatal(err)
		}
		if i != next[g] {
			t.Fatalf("proposer %d: payload %d applied before %d", g, i, next[g])
		}
		next[g]++
	}
	st := n.Stats()
	if st.Proposals != proposers*each {
		t.Fatalf("Stats.Proposals = %d, want %d", st.Proposals, proposers*each)
	}
	if st.Fsyncs >= st.Proposals {
		t.Fatalf("Stats.Fsyncs = %d for %d proposals: no group commit", st.Fsyncs, st.Proposals)
	}
	if st.AppliedIndex != applied[len(applied)-1].Index || st.CommitIndex < st.AppliedIndex {
		t.Fatalf("Stats: applied %d, commit %d; last applied entry %d", st.AppliedIndex, st.CommitIndex, applied[len(applied)-1].Index)
	}
	t.Logf("%d proposals, %d fsyncs, %d readies", st.Proposals, st.Fsyncs, st.Readies)
}

func TestProposeReturnsStateMachineResult(t *testing.T) {
	sm := &memSM{}
	n := startNode(t, Config{Dir: t.TempDir(), SM: sm})
	defer stopNode(t, n)
	tests := []struct {
		name    string
		payload string
		wantErr bool
	}{
		{"accepted payload", "ok", false},
		{"rejected payload", "fail me", true},
		{"empty payload", "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := n.Propose(context.Background(), []byte(tc.payload))
			if (err != nil) != tc.wantErr {
				t.Fatalf("Propose(%q) = %v, want error: %v", tc.payload, err, tc.wantErr)
			}
		})
	}
	if got := dataOf(sm.snapshot()); len(got) != 3 || got[2] != "" {
		t.Fatalf("applied %q", got)
	}
}

func TestRestartReplaysEntriesAfterAppliedIndex(t *testing.T) {
	dir := t.TempDir()
	first := &memSM{}
	n := startNode(t, Config{Dir: dir, SM: first})
	proposeAll(t, n, payloads("a", 30)...)
	stopNode(t, n)
	all := first.snapshot()

	tests := []struct {
		name    string
		applied uint64
	}{
		{"state machine applied nothing", 0},
		{"state machine applied some", all[9].Index},
		{"state machine applied everything", all[len(all)-1].Index},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			sm := &memSM{}
			n := startNode(t, Config{Dir: dir, SM: sm, AppliedIndex: tc.applied})
			// Start returned: the replay is complete.
			got := sm.snapshot()
			stopNode(t, n)
			var want []Applied
			for _, a := range all {
				if a.Index > tc.applied {
					want = append(want, a)
				}
			}
			if len(got) != len(want) {
				t.Fatalf("replayed %d entries, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i].Index != want[i].Index || !bytes.Equal(got[i].Data, want[i].Data) {
					t.Fatalf("replayed entry %d = (%d, %q), want (%d, %q)", i, got[i].Index, got[i].Data, want[i].Index, want[i].Data)
				}
			}
		})
	}
}

func TestRestartAfterCheckpointDeletesSegmentsAndReplaysTail(t *testing.T) {
	dir := t.TempDir()
	sm := &memSM{}
	cfg := Config{Dir: dir, SM: sm, SegmentSize: 64 << 10}
	n := startNode(t, cfg)
	big := string(bytes.Repeat([]byte("x"), 4000))
	for i := range 100 {
		proposeAll(t, n, fmt.Sprintf("%03d%s", i, big))
	}
	before := n.Stats()
	if before.WALLast < 4 {
		t.Fatalf("only %d segments; the test needs several", before.WALLast)
	}
	applied := sm.snapshot()
	ckpt := applied[79].Index
	if err := n.Checkpoint(ckpt); err != nil {
		t.Fatal(err)
	}
	after := n.Stats()
	if after.WALFirst <= before.WALFirst || after.WALBytes >= before.WALBytes {
		t.Fatalf("Checkpoint kept segments %d..%d (%d bytes), before %d..%d (%d bytes)",
			after.WALFirst, after.WALLast, after.WALBytes, before.WALFirst, before.WALLast, before.WALBytes)
	}
	if after.CompactedIndex != ckpt {
		t.Fatalf("CompactedIndex = %d, want %d", after.CompactedIndex, ckpt)
	}
	if err := n.Checkpoint(applied[len(applied)-1].Index + 1000); err == nil {
		t.Fatal("Checkpoint beyond the applied index: want an error")
	}
	proposeAll(t, n, "after checkpoint")
	stopNode(t, n)
	if _, err := os.Stat(filepath.Join(dir, "00000001")); !os.IsNotExist(err) {
		t.Fatalf("segment 1 still exists after checkpoint (err %v)", err)
	}

	// Each restart replays everything after the checkpoint, including
	// what the previous run added.
	want := append(dataOf(applied[80:]), "after checkpoint")
	for run := range 2 {
		t.Run(fmt.Sprintf("restart %d", run+1), func(t *testing.T) {
			sm2 := &memSM{}
			cfg.SM, cfg.AppliedIndex = sm2, ckpt
			n := startNode(t, cfg)
			got := dataOf(sm2.snapshot())
			if len(got) != len(want) {
				t.Fatalf("replayed %d entries, want %d", len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("replayed entry %d differs", i)
				}
			}
			more := fmt.Sprintf("run %d", run+1)
			proposeAll(t, n, more)
			want = append(want, more)
			stopNode(t, n)
		})
	}

	// Starting from an applied index below the compaction point fails.
	cfg.SM, cfg.AppliedIndex = &memSM{}, 0
	if n, err := Start(cfg); err == nil {
		n.Stop()
		t.Fatal("Start with AppliedIndex below the compaction point: want an error")
	}
}

// lastRecord returns the kind, offset and segment of the last wal record.
func lastRecord(t testing.TB, dir string) (kind recordKind, seg int, off int64) {
	t.Helper()
	w, err := wal.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	first, _, err := w.Segments()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := wal.NewReader(dir, first)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for r.Next() {
		kind, seg, off = recordKind(r.Record()[0]), r.Segment(), r.Offset()
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return kind, seg, off
}

// appendUnacknowledgedEntry logs, as a crashed node would have begun to,
// an entry after the last one that no proposer was told about.
func appendUnacknowledgedEntry(t testing.TB, dir string, index, term uint64) {
	t.Helper()
	w, err := wal.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := appendRecord(nil, recordEntry, &raftpb.Entry{
		Index: proto.Uint64(index), Term: proto.Uint64(term),
		Data: encodeProposal(1, bytes.Repeat([]byte("u"), 50000)),
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Log(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestTornWALTailLosesNoAcknowledgedProposal(t *testing.T) {
	tests := []struct {
		name string
		// tear prepares the tail that a crash cut short.
		tear func(t *testing.T, dir string, n *Node)
		// wantKind is the kind of the record that is cut in half.
		wantKind recordKind
		// fresh restarts with an empty state machine.
		fresh bool
	}{
		{"last hard state cut in half", func(*testing.T, string, *Node) {}, recordHardState, false},
		{"last hard state cut in half, fresh state machine", func(*testing.T, string, *Node) {}, recordHardState, true},
		{"unacknowledged entry cut in half", func(t *testing.T, dir string, n *Node) {
			st := n.Stats()
			appendUnacknowledgedEntry(t, dir, st.LastIndex+1, 2)
		}, recordEntry, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			sm := &memSM{}
			n := startNode(t, Config{Dir: dir, SM: sm})
			acked := payloads("acked", 40)
			proposeAll(t, n, acked...)
			stopNode(t, n)
			tc.tear(t, dir, n)

			kind, seg, off := lastRecord(t, dir)
			if kind != tc.wantKind {
				t.Fatalf("last record has kind %d, want %d", kind, tc.wantKind)
			}
			path := filepath.Join(dir, fmt.Sprintf("%08d", seg))
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.Truncate(path, off+(fi.Size()-off)/2); err != nil {
				t.Fatal(err)
			}

			applied := sm.lastIndex()
			if tc.fresh {
				sm, applied = &memSM{}, 0
			}
			n2 := startNode(t, Config{Dir: dir, SM: sm, AppliedIndex: applied})
			if r := n2.Stats().Repairs; r != 1 {
				t.Errorf("Stats.Repairs = %d, want 1", r)
			}
			proposeAll(t, n2, "after repair")
			stopNode(t, n2)
			got := dataOf(sm.snapshot())
			checkInOrder(t, sm.snapshot())
			want := append(acked, "after repair")
			if len(got) != len(want) {
				t.Fatalf("state machine holds %d payloads, want %d: %q", len(got), len(want), got)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("payload %d = %q, want %q", i, got[i], want[i])
				}
			}
		})
	}
}

func TestStopTwice(t *testing.T) {
	n := startNode(t, Config{Dir: t.TempDir(), SM: &memSM{}})
	proposeAll(t, n, "x")
	if err := n.Stop(); err != nil {
		t.Fatalf("first Stop: %v", err)
	}
	if err := n.Stop(); !errors.Is(err, ErrStopped) {
		t.Fatalf("second Stop: %v, want ErrStopped", err)
	}
	if err := n.Propose(context.Background(), []byte("y")); !errors.Is(err, ErrStopped) {
		t.Fatalf("Propose after Stop: %v, want ErrStopped", err)
	}
	if err := n.Checkpoint(1); !errors.Is(err, ErrStopped) {
		t.Fatalf("Checkpoint after Stop: %v, want ErrStopped", err)
	}
	_ = n.Stats() // safe after Stop
}

func TestProposeWithEndedContext(t *testing.T) {
	sm := &memSM{block: make(chan struct{})}
	n := startNode(t, Config{Dir: t.TempDir(), SM: sm})
	defer stopNode(t, n)

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if err := n.Propose(cancelled, []byte("never")); !errors.Is(err, context.Canceled) {
		t.Fatalf("Propose with a cancelled context: %v, want context.Canceled", err)
	}

	// The state machine blocks, so the deadline passes while the entry is
	// committed but not applied; it is still applied afterwards.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := n.Propose(ctx, []byte("late")); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Propose past its deadline: %v, want context.DeadlineExceeded", err)
	}
	close(sm.block)
	proposeAll(t, n, "next")
	if got := dataOf(sm.snapshot()); len(got) != 2 || got[0] != "late" || got[1] != "next" {
		t.Fatalf("applied %q, want [late next]", got)
	}
}

func TestStartRejectsAppliedIndexBeyondLog(t *testing.T) {
	dir := t.TempDir()
	n := startNode(t, Config{Dir: dir, SM: &memSM{}})
	proposeAll(t, n, "a")
	stopNode(t, n)
	if n, err := Start(Config{Dir: dir, SM: &memSM{}, AppliedIndex: 1000}); err == nil {
		n.Stop()
		t.Fatal("Start with AppliedIndex beyond the log: want an error")
	}
}
