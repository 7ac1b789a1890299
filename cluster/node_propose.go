package cluster

import (
	"context"
)

// proposal is a Propose call waiting for its entry to be applied.
type proposal struct {
	id   uint64
	data []byte     // proposal header + payload
	done chan error // receives the result once; buffered
}

// Propose proposes data as one log entry and waits until it is durable
// (fsynced), committed and applied, then returns the state machine's
// result for it.
//
// If ctx ends first, Propose returns ctx.Err(); the entry may still be
// committed and applied later, so the state machine must tolerate a
// retried payload. A proposal that raft drops (no leader, too many
// uncommitted bytes) fails at once. After Stop, Propose returns
// ErrStopped. Propose does not retain data.
func (n *Node) Propose(ctx context.Context, data []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p := &proposal{
		id:   n.idBase + n.nextID.Add(1),
		done: make(chan error, 1),
	}
	p.data = encodeProposal(p.id, data)
	if err := n.register(p); err != nil {
		return err
	}
	select {
	case n.propc <- p:
	case <-ctx.Done():
		n.unregister(p.id)
		return ctx.Err()
	case <-n.stopc:
		n.unregister(p.id)
		return ErrStopped
	}
	select {
	case err := <-p.done:
		return err
	case <-ctx.Done():
		n.unregister(p.id)
		return ctx.Err()
	}
}

// register records p as waiting. It fails once the node has stopped.
func (n *Node) register(p *proposal) error {
	n.waiters.Lock()
	defer n.waiters.Unlock()
	if n.waiters.closed {
		return ErrStopped
	}
	n.waiters.m[p.id] = p
	return nil
}

func (n *Node) unregister(id uint64) {
	n.waiters.Lock()
	delete(n.waiters.m, id)
	n.waiters.Unlock()
}

// complete delivers err to the proposal id, if someone still waits for it.
// Replayed entries and abandoned proposals have no waiter.
func (n *Node) complete(id uint64, err error) {
	n.waiters.Lock()
	p, ok := n.waiters.m[id]
	delete(n.waiters.m, id)
	n.waiters.Unlock()
	if ok {
		p.done <- err
	}
}

// closeWaiters fails every waiting proposal with err and refuses new ones.
func (n *Node) closeWaiters(err error) {
	n.waiters.Lock()
	defer n.waiters.Unlock()
	n.waiters.closed = true
	for id, p := range n.waiters.m {
		p.done <- err
		delete(n.waiters.m, id)
	}
}
