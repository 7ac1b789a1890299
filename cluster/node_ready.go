package cluster

import (
	"errors"
	"fmt"
	"time"

	"go.etcd.io/raft/v3"
)

// errStopping ends the raft loop when Stop interrupts it.
var errStopping = errors.New("stopping")

// run is the raft loop. It owns the RawNode, the wal writes and the loop
// state, and starts the apply loop. When it exits, because of Stop or a
// failure, it waits for the apply loop, fails the remaining proposals and
// closes loopsDone.
func (n *Node) run() {
	applyDone := make(chan struct{})
	go n.applyLoop(applyDone)

	err := n.raftLoop()
	close(n.applyc)
	<-applyDone
	if err != nil && !errors.Is(err, errStopping) {
		n.logger.Error("cluster: node failed", "err", err)
		n.failErr = fmt.Errorf("cluster: %w", err)
	}
	werr := ErrStopped
	if n.failErr != nil {
		werr = fmt.Errorf("%w: %w", ErrStopped, n.failErr)
	}
	n.closeWaiters(werr)
	close(n.loopsDone)
}

func (n *Node) raftLoop() error {
	ticker := time.NewTicker(n.cfg.TickInterval)
	defer ticker.Stop()
	for {
		if n.rn.HasReady() {
			if err := n.handleReady(); err != nil {
				return err
			}
			continue
		}
		select {
		case <-n.stopc:
			return errStopping
		case <-ticker.C:
			n.rn.Tick()
		case p := <-n.propc:
			n.loop.batchBytes = 0
			n.propose(p)
			n.drainProposals()
		case m := <-n.recvc:
			if err := n.rn.Step(m); err != nil {
				n.logger.Debug("cluster: step", "type", m.GetType(), "from", m.GetFrom(), "err", err)
			}
		case req := <-n.ckptc:
			req.done <- n.checkpoint(req.index)
		}
	}
}

// drainProposals hands raft the proposals already queued, up to
// MaxBatchBytes, so that they share one Ready and one fsync.
func (n *Node) drainProposals() {
	for n.loop.batchBytes < n.cfg.MaxBatchBytes {
		select {
		case p := <-n.propc:
			n.propose(p)
		default:
			return
		}
	}
}

// propose hands one proposal to raft, or fails it at once if raft drops it
// (no leader, or too many uncommitted bytes).
func (n *Node) propose(p *proposal) {
	n.loop.batchBytes += uint64(len(p.data))
	if err := n.rn.Propose(p.data); err != nil {
		n.complete(p.id, fmt.Errorf("cluster: propose: %w", err))
		return
	}
	n.stats.proposals.Add(1)
	n.stats.proposalBytes.Add(uint64(len(p.data) - proposalHeaderSize))
}

// handleReady handles one Ready: persist, send, apply, Advance (see the
// package doc).
func (n *Node) handleReady() error {
	rd := n.rn.Ready()
	n.stats.readies.Add(1)
	if rd.SoftState != nil {
		n.leader.Store(rd.SoftState.Lead)
		n.signalProgress()
	}

	// 1. Persist.
	if !raft.IsEmptySnap(rd.Snapshot) {
		return errors.New("installing a snapshot from the leader is not implemented")
	}
	if err := n.persist(rd); err != nil {
		return err
	}

	// 2. Send.
	if len(rd.Messages) > 0 {
		if n.cfg.Transport != nil {
			n.cfg.Transport.Send(rd.Messages)
		} else {
			n.logger.Debug("cluster: no transport; dropping messages", "count", len(rd.Messages))
		}
	}

	// 3. Apply: queue for the apply loop, in order.
	if len(rd.CommittedEntries) > 0 {
		select {
		case n.applyc <- rd.CommittedEntries:
		case <-n.stopc:
			// Durable and committed: they are applied on the next Start.
			return errStopping
		}
	}

	// 4. Advance.
	n.rn.Advance(rd)
	return nil
}

// persist writes a Ready's entries and HardState to the wal, syncs if raft
// requires it, and appends the entries to the in-memory storage.
func (n *Node) persist(rd raft.Ready) error {
	if len(rd.Entries) == 0 && rd.HardState == nil {
		return nil
	}
	enc := &n.loop.enc
	enc.reset()
	for _, e := range rd.Entries {
		if err := enc.add(recordEntry, e); err != nil {
			return err
		}
	}
	if rd.HardState != nil {
		if err := enc.add(recordHardState, rd.HardState); err != nil {
			return err
		}
	}
	before := n.w.CurrentSegment()
	if err := n.w.Log(enc.records()...); err != nil {
		return err
	}
	if len(rd.Entries) > 0 {
		last := rd.Entries[len(rd.Entries)-1].GetIndex()
		// The entries may straddle a rotation: charge them to every
		// segment they may be in, which only ever delays a deletion.
		for s := before; s <= n.w.CurrentSegment(); s++ {
			n.loop.segMax[s] = max(n.loop.segMax[s], last)
		}
		n.loop.lastIndex = last
		n.stats.lastIndex.Store(last)
		n.stats.entries.Add(uint64(len(rd.Entries)))
	}
	if rd.MustSync {
		if err := n.w.Sync(); err != nil {
			return err
		}
		n.stats.fsyncs.Add(1)
	}
	if rd.HardState != nil {
		n.loop.hs = cloneHardState(rd.HardState)
		n.loop.commit = rd.HardState.GetCommit()
		n.stats.commit.Store(n.loop.commit)
		if err := n.ms.SetHardState(n.loop.hs); err != nil {
			return err
		}
	}
	return n.ms.Append(rd.Entries)
}
