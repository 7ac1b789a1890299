package cluster

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/fineod/fineod/wal"
	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// ErrStopped is returned by the methods of a Node after Stop, and wrapped
// in the error of calls that a failure of the node interrupted.
var ErrStopped = errors.New("cluster: node stopped")

// Applied is one committed payload handed to the state machine.
type Applied struct {
	// Index is the raft index of the entry.
	Index uint64
	// Data is the payload as proposed. It is shared with the raft log:
	// it must not be modified, but it may be retained.
	Data []byte
}

// StateMachine is what the node applies committed entries to. The node
// calls Apply from one goroutine, in log order, never concurrently.
type StateMachine interface {
	// Apply applies committed entries' payloads in log order. Index is
	// the raft index of each payload. Results[i] is returned to the
	// proposer of entries[i] (nil or an error); a nil or short slice
	// means nil for the rest. Apply must be deterministic: every node,
	// and every replay, applies the same entries the same way.
	Apply(entries []Applied) []error
}

// Defaults of Config.
const (
	DefaultNodeID        = 1
	DefaultMaxBatchBytes = 4 << 20
	DefaultTickInterval  = 100 * time.Millisecond
)

// Raft parameters. ElectionTick and HeartbeatTick count ticks of
// Config.TickInterval.
const (
	electionTick    = 10
	heartbeatTick   = 1
	maxInflightMsgs = 256
	// uncommittedFactor times MaxBatchBytes caps the entries raft accepts
	// before they commit; proposals beyond it are dropped by raft.
	uncommittedFactor = 16
	// memoryTailEntries entries at or below a checkpoint stay in memory so
	// that a follower a little behind catches up from the log.
	memoryTailEntries = 64
)

// Config configures a Node. Zero fields take the stated defaults.
type Config struct {
	// Dir is the wal directory. Required.
	Dir string
	// NodeID is this node's raft id. Zero means 1.
	NodeID uint64
	// Peers are the voters of a new group, this node included. Empty
	// means a group of this node alone. Ignored when the wal exists: the
	// membership is read from it.
	Peers []uint64
	// AppliedIndex is the state machine's durable applied index: entries
	// at or below it are not applied again on Start.
	AppliedIndex uint64
	// SM receives committed entries. Required.
	SM StateMachine
	// SegmentSize is the wal segment size; zero means the wal default
	// (64 MiB).
	SegmentSize int64
	// Logger receives the node's and raft's logs. Nil discards them.
	Logger *slog.Logger
	// MaxBatchBytes caps the bytes of proposals gathered into one Ready
	// (one fsync), of committed entries handed to one Apply call, and of
	// one raft message. Zero means DefaultMaxBatchBytes (4 MiB). A single
	// larger proposal is still accepted on its own.
	MaxBatchBytes uint64
	// TickInterval is the raft tick. Zero means DefaultTickInterval.
	TickInterval time.Duration
	// Transport carries messages to other nodes. Nil is fine for a
	// single-node group; messages to other nodes are then dropped.
	Transport Transport
}

// Stats are counters and positions of a Node, for metrics.
type Stats struct {
	Proposals      uint64 // proposals handed to raft
	ProposalBytes  uint64 // their payload bytes
	Readies        uint64 // raft Readies handled
	Fsyncs         uint64 // wal syncs
	EntriesWritten uint64 // entries written to the wal
	AppliedIndex   uint64 // last index applied to the state machine
	CommitIndex    uint64 // raft commit index as last persisted
	LastIndex      uint64 // last index written to the wal
	CompactedIndex uint64 // index of the latest compaction marker
	Checkpoints    uint64 // Checkpoint calls that compacted
	WALBytes       int64  // size of the wal segments
	WALFirst       int    // first wal segment (0 after Stop)
	WALLast        int    // last wal segment (0 after Stop)
	Repairs        int    // torn tails the wal repaired on Start
}

// Node is a raft node that keeps its log in a wal and applies committed
// entries to a StateMachine. Its methods are safe for concurrent use.
type Node struct {
	// Fixed after Start.
	cfg    Config
	logger *slog.Logger
	w      *wal.WAL
	ms     *raft.MemoryStorage
	rn     *raft.RawNode // owned by the raft loop once it runs
	idBase uint64
	single bool // this node is the only voter

	propc  chan *proposal
	recvc  chan *raftpb.Message
	ckptc  chan checkpointRequest
	applyc chan []*raftpb.Entry
	// progressc is signalled after each applied batch and each change of
	// leader, for Start to wait on.
	progressc chan struct{}

	stopc     chan struct{} // closed by Stop
	loopsDone chan struct{} // closed when both loops have exited
	stopped   chan struct{} // closed when Stop has finished
	stopOnce  sync.Once
	failErr   error // why the loops exited early; set before loopsDone closes

	nextID  atomic.Uint64
	applied atomic.Uint64
	leader  atomic.Uint64

	waiters struct {
		sync.Mutex
		m      map[uint64]*proposal
		closed bool
	}

	// State of the raft loop, touched only by it.
	loop struct {
		enc        recordsEncoder
		hs         *raftpb.HardState
		confState  *raftpb.ConfState
		segMax     map[int]uint64
		compacted  uint64 // index of the latest marker in the wal
		lastIndex  uint64
		commit     uint64
		batchBytes uint64
	}

	stats struct {
		proposals, proposalBytes, readies, fsyncs, entries atomic.Uint64
		commit, lastIndex, compacted, checkpoints          atomic.Uint64
	}
}

// Start opens the wal in cfg.Dir (repairing a torn tail), rebuilds raft's
// storage from it, starts the raft and apply loops and, if this node is the
// only voter, campaigns. It returns once every entry committed before the
// restart has been applied again through SM.Apply (entries above
// cfg.AppliedIndex only) and, for a single voter, once it leads. Stop the
// node to release the wal.
func Start(cfg Config) (*Node, error) {
	if cfg.Dir == "" {
		return nil, errors.New("cluster: Config.Dir is required")
	}
	if cfg.SM == nil {
		return nil, errors.New("cluster: Config.SM is required")
	}
	if cfg.NodeID == 0 {
		cfg.NodeID = DefaultNodeID
	}
	if len(cfg.Peers) == 0 {
		cfg.Peers = []uint64{cfg.NodeID}
	}
	if cfg.MaxBatchBytes == 0 {
		cfg.MaxBatchBytes = DefaultMaxBatchBytes
	}
	if cfg.TickInterval <= 0 {
		cfg.TickInterval = DefaultTickInterval
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	w, err := wal.Open(cfg.Dir, &wal.Options{SegmentSize: cfg.SegmentSize, Logger: cfg.Logger})
	if err != nil {
		return nil, fmt.Errorf("cluster: %w", err)
	}
	n, target, err := newNode(cfg, w)
	if err != nil {
		_ = w.Close()
		return nil, fmt.Errorf("cluster: %w", err)
	}
	go n.run()
	if err := n.waitReplay(target); err != nil {
		_ = n.Stop()
		return nil, fmt.Errorf("cluster: replay: %w", err)
	}
	cfg.Logger.Info("cluster: node started", "node", cfg.NodeID, "dir", cfg.Dir,
		"applied", n.applied.Load(), "last_index", n.stats.lastIndex.Load(), "repairs", w.Repairs())
	return n, nil
}

// newNode rebuilds raft state from the wal and creates the RawNode. It
// returns the index that replay must reach before Start returns.
func newNode(cfg Config, w *wal.WAL) (*Node, uint64, error) {
	st, err := replay(w)
	if err != nil {
		return nil, 0, err
	}
	if st.snap == nil {
		// A new log: its first record is a marker at index 0 that holds
		// the initial membership.
		st.snap = &raftpb.SnapshotMetadata{
			Index:     proto.Uint64(0),
			Term:      proto.Uint64(0),
			ConfState: &raftpb.ConfState{Voters: slices.Clone(cfg.Peers)},
		}
		rec, err := appendRecord(nil, recordSnapshot, st.snap)
		if err != nil {
			return nil, 0, err
		}
		if err := w.Log(rec); err != nil {
			return nil, 0, err
		}
		if err := w.Sync(); err != nil {
			return nil, 0, err
		}
	}
	last := st.lastIndex()
	switch {
	case cfg.AppliedIndex < st.snap.GetIndex():
		return nil, 0, fmt.Errorf("state machine applied index %d is below the log's compaction point %d: it needs a snapshot",
			cfg.AppliedIndex, st.snap.GetIndex())
	case cfg.AppliedIndex > last:
		return nil, 0, fmt.Errorf("state machine applied index %d is beyond the last log index %d", cfg.AppliedIndex, last)
	}
	hs := st.hs
	if hs == nil {
		hs = &raftpb.HardState{}
	}
	// Whatever the state machine applied was committed, even if the
	// HardState that said so was not synced before a crash.
	if cfg.AppliedIndex > hs.GetCommit() {
		hs.Commit = proto.Uint64(cfg.AppliedIndex)
	}
	if hs.GetCommit() > last {
		return nil, 0, fmt.Errorf("commit index %d is beyond the last log index %d", hs.GetCommit(), last)
	}

	ms := raft.NewMemoryStorage()
	if err := ms.ApplySnapshot(&raftpb.Snapshot{Metadata: st.snap}); err != nil {
		return nil, 0, err
	}
	if err := ms.SetHardState(hs); err != nil {
		return nil, 0, err
	}
	if err := ms.Append(st.ents); err != nil {
		return nil, 0, err
	}

	cs := st.snap.GetConfState()
	single := len(cs.GetVoters()) == 1 && cs.GetVoters()[0] == cfg.NodeID &&
		len(cs.GetVotersOutgoing()) == 0 && len(cs.GetLearners()) == 0
	logger := cfg.Logger.With("node", cfg.NodeID)
	rn, err := raft.NewRawNode(&raft.Config{
		ID:                        cfg.NodeID,
		ElectionTick:              electionTick,
		HeartbeatTick:             heartbeatTick,
		Storage:                   ms,
		Applied:                   cfg.AppliedIndex,
		MaxSizePerMsg:             cfg.MaxBatchBytes,
		MaxCommittedSizePerReady:  cfg.MaxBatchBytes,
		MaxUncommittedEntriesSize: uncommittedFactor * cfg.MaxBatchBytes,
		MaxInflightMsgs:           maxInflightMsgs,
		CheckQuorum:               !single,
		PreVote:                   !single,
		Logger:                    raftLogger{logger},
	})
	if err != nil {
		return nil, 0, err
	}
	n := &Node{
		cfg:       cfg,
		logger:    logger,
		w:         w,
		ms:        ms,
		rn:        rn,
		idBase:    rand.Uint64(),
		single:    single,
		propc:     make(chan *proposal, 1024),
		recvc:     make(chan *raftpb.Message, 256),
		ckptc:     make(chan checkpointRequest),
		applyc:    make(chan []*raftpb.Entry, 64),
		progressc: make(chan struct{}, 1),
		stopc:     make(chan struct{}),
		loopsDone: make(chan struct{}),
		stopped:   make(chan struct{}),
	}
	n.waiters.m = make(map[uint64]*proposal)
	n.applied.Store(cfg.AppliedIndex)
	n.loop.hs = cloneHardState(hs)
	n.loop.confState = cs
	n.loop.segMax = st.segMax
	n.loop.compacted = st.snap.GetIndex()
	n.loop.lastIndex = last
	n.loop.commit = hs.GetCommit()
	n.stats.commit.Store(hs.GetCommit())
	n.stats.lastIndex.Store(last)
	n.stats.compacted.Store(st.snap.GetIndex())

	// A single voter commits every entry of its log as soon as it leads,
	// so replay covers the whole log; otherwise what is known committed.
	target := hs.GetCommit()
	if single {
		target = last
		if err := rn.Campaign(); err != nil {
			return nil, 0, err
		}
	}
	return n, target, nil
}

// waitReplay waits until entries through target are applied and, for a
// single voter, this node leads.
func (n *Node) waitReplay(target uint64) error {
	for {
		if n.applied.Load() >= target && (!n.single || n.leader.Load() == n.cfg.NodeID) {
			return nil
		}
		select {
		case <-n.progressc:
		case <-n.loopsDone:
			if n.failErr != nil {
				return n.failErr
			}
			return ErrStopped
		}
	}
}

// Stop stops the raft and apply loops and closes the wal. Entries already
// handed to the apply loop are applied first; proposals not yet applied
// return ErrStopped. The first call returns the outcome, including an
// earlier failure of the node; later calls return ErrStopped.
func (n *Node) Stop() error {
	first := false
	n.stopOnce.Do(func() {
		first = true
		close(n.stopc)
	})
	if !first {
		<-n.stopped
		return ErrStopped
	}
	<-n.loopsDone
	err := n.failErr
	if cerr := n.w.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("cluster: %w", cerr)
	}
	close(n.stopped)
	return err
}

// Stats returns the node's counters.
func (n *Node) Stats() Stats {
	s := Stats{
		Proposals:      n.stats.proposals.Load(),
		ProposalBytes:  n.stats.proposalBytes.Load(),
		Readies:        n.stats.readies.Load(),
		Fsyncs:         n.stats.fsyncs.Load(),
		EntriesWritten: n.stats.entries.Load(),
		AppliedIndex:   n.applied.Load(),
		CommitIndex:    n.stats.commit.Load(),
		LastIndex:      n.stats.lastIndex.Load(),
		CompactedIndex: n.stats.compacted.Load(),
		Checkpoints:    n.stats.checkpoints.Load(),
		WALBytes:       n.w.Size(),
		Repairs:        n.w.Repairs(),
	}
	s.WALFirst, s.WALLast, _ = n.w.Segments()
	return s
}

// signalProgress wakes a waitReplay.
func (n *Node) signalProgress() {
	select {
	case n.progressc <- struct{}{}:
	default:
	}
}
