package cluster

import (
	"errors"
	"fmt"

	"go.etcd.io/raft/v3"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

type checkpointRequest struct {
	index uint64
	done  chan error
}

// Checkpoint tells the node that the state machine has made every entry at
// or below durableApplied durable. The node then writes a compaction marker
// and the HardState to the wal, syncs, compacts raft's in-memory log
// (keeping a short tail), and deletes the wal segments whose entries are
// all at or below durableApplied; the segment holding durableApplied+1 is
// kept. durableApplied must not exceed the applied index. A checkpoint at
// or below an earlier one does nothing. It returns ErrStopped after Stop.
func (n *Node) Checkpoint(durableApplied uint64) error {
	if a := n.applied.Load(); durableApplied > a {
		return fmt.Errorf("cluster: checkpoint at %d is beyond the applied index %d", durableApplied, a)
	}
	req := checkpointRequest{index: durableApplied, done: make(chan error, 1)}
	select {
	case n.ckptc <- req:
	case <-n.stopc:
		return ErrStopped
	}
	return <-req.done
}

// checkpoint runs on the raft loop. See Checkpoint.
func (n *Node) checkpoint(index uint64) error {
	if index <= n.loop.compacted {
		return nil
	}
	term, err := n.ms.Term(index)
	if err != nil {
		return fmt.Errorf("cluster: checkpoint at %d: term: %w", index, err)
	}
	meta := &raftpb.SnapshotMetadata{
		Index:     proto.Uint64(index),
		Term:      proto.Uint64(term),
		ConfState: n.loop.confState,
	}
	enc := &n.loop.enc
	enc.reset()
	if err := enc.add(recordSnapshot, meta); err != nil {
		return err
	}
	if err := enc.add(recordHardState, n.loop.hs); err != nil {
		return err
	}
	if err := n.w.Log(enc.records()...); err != nil {
		return fmt.Errorf("cluster: checkpoint: %w", err)
	}
	if err := n.w.Sync(); err != nil {
		return fmt.Errorf("cluster: checkpoint: %w", err)
	}
	n.stats.fsyncs.Add(1)
	n.loop.compacted = index
	n.stats.compacted.Store(index)
	n.stats.checkpoints.Add(1)

	// Memory: keep a short tail below the checkpoint.
	if index > memoryTailEntries {
		ci := index - memoryTailEntries
		if _, err := n.ms.CreateSnapshot(ci, n.loop.confState, nil); err != nil && !errors.Is(err, raft.ErrSnapOutOfDate) {
			return fmt.Errorf("cluster: checkpoint: %w", err)
		}
		if err := n.ms.Compact(ci); err != nil && !errors.Is(err, raft.ErrCompacted) {
			return fmt.Errorf("cluster: checkpoint: %w", err)
		}
	}

	// Disk: delete the oldest segments while every entry in them and
	// before them is at or below index. The current segment stays.
	first, cur, err := n.w.Segments()
	if err != nil {
		return err
	}
	keep := first
	var highest uint64
	for s := first; s < cur; s++ {
		highest = max(highest, n.loop.segMax[s])
		if highest > index {
			break
		}
		keep = s + 1
	}
	if keep > first {
		if err := n.w.TruncateBefore(keep); err != nil {
			return fmt.Errorf("cluster: checkpoint: %w", err)
		}
		for s := first; s < keep; s++ {
			delete(n.loop.segMax, s)
		}
		n.logger.Info("cluster: checkpoint deleted wal segments", "index", index, "segments", fmt.Sprintf("%d..%d", first, keep-1))
	}
	return nil
}
