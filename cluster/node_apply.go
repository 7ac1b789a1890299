package cluster

import (
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
)

// applyLoop applies batches of committed entries in order until applyc is
// closed, then closes done.
func (n *Node) applyLoop(done chan<- struct{}) {
	defer close(done)
	for ents := range n.applyc {
		n.apply(ents)
	}
}

// apply passes the payloads of ents to the state machine and wakes their
// proposers. Entries without a payload (raft's empty entries at a new
// term) only advance the applied index.
func (n *Node) apply(ents []*raftpb.Entry) {
	if len(ents) == 0 {
		return
	}
	batch := make([]Applied, 0, len(ents))
	ids := make([]uint64, 0, len(ents))
	for _, e := range ents {
		if e.GetIndex() <= n.applied.Load() {
			continue
		}
		switch e.GetType() {
		case raftpb.EntryNormal:
			if len(e.GetData()) == 0 {
				continue
			}
			id, payload, ok := decodeProposal(e.GetData())
			if !ok {
				n.logger.Error("cluster: entry without a proposal header; skipped", "index", e.GetIndex(), "bytes", len(e.GetData()))
				continue
			}
			batch = append(batch, Applied{Index: e.GetIndex(), Data: payload})
			ids = append(ids, id)
		default:
			// Membership changes are not proposed yet; when they are,
			// the raft loop must call ApplyConfChange for them.
			n.logger.Warn("cluster: configuration change entries are not supported; skipped",
				"index", e.GetIndex(), "type", e.GetType())
		}
	}
	if len(batch) > 0 {
		results := n.cfg.SM.Apply(batch)
		if len(results) > len(batch) {
			err := fmt.Errorf("cluster: state machine returned %d results for %d entries", len(results), len(batch))
			n.logger.Error(err.Error())
			results = results[:len(batch)]
		}
		for i, id := range ids {
			var err error
			if i < len(results) {
				err = results[i]
			}
			n.complete(id, err)
		}
	}
	n.applied.Store(ents[len(ents)-1].GetIndex())
	n.signalProgress()
}
