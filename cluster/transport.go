package cluster

import (
	"context"

	"go.etcd.io/raft/v3/raftpb"
)

// Transport carries raft messages between the nodes of a group. A
// single-node group needs none.
//
// Send must not block the raft loop for long: queue the messages and
// deliver them in the background. Raft tolerates lost, duplicated and
// reordered messages. Messages are sent only after the entries they refer
// to are durable. A MsgSnap requires calling the node's ReportSnapshot
// (not yet implemented).
type Transport interface {
	Send(msgs []*raftpb.Message)
}

// Step hands the node a message received from another node. It returns
// ctx.Err() if the raft loop does not take the message before ctx ends,
// and ErrStopped after Stop.
func (n *Node) Step(ctx context.Context, m *raftpb.Message) error {
	select {
	case n.recvc <- m:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stopc:
		return ErrStopped
	}
}
