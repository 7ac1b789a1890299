// Package cluster runs a raft node (go.etcd.io/raft/v3) whose log storage is
// the write-ahead log of package wal: the raft log is the write-ahead log.
//
// Today one node runs a one-voter group. The code is shaped for three or
// five nodes: outbound messages go through the Transport hook and inbound
// ones through Node.Step, but no network transport exists yet, and
// snapshot install and membership changes are not implemented.
//
// # Files
//
//   - node.go: Config, Node, Start, Stop, Stats.
//   - node_ready.go: the raft loop, which owns the RawNode and persists.
//   - node_apply.go: the apply loop, which calls the StateMachine.
//   - node_propose.go: Propose and the waiters of proposals.
//   - checkpoint.go: Checkpoint: compaction of memory and of wal segments.
//   - records.go: the wal records of this package and the proposal header.
//   - replay.go: rebuilding raft storage from the wal on Start.
//   - transport.go, logger.go: the transport hook and the raft logger.
//
// # The contract of one Ready
//
// The raft loop is a single goroutine that owns the raft.RawNode. It
// collects every proposal waiting in its queue (up to Config.MaxBatchBytes),
// hands them to raft, and then handles each raft.Ready in this order:
//
//  1. Persist. Write the Ready's entries and then its HardState to the wal
//     as records, and call wal.Sync once if raft says the Ready must be
//     synced (new entries, a new term or vote). All proposals of the Ready
//     share that one fsync: this is the group commit. A Ready that only
//     moves the commit index is written but not synced; the commit index
//     is recomputed after a crash. Then append the entries to the in-memory
//     raft storage.
//  2. Send. Hand the Ready's messages to the Transport. They leave only
//     after the entries they acknowledge are durable.
//  3. Apply. Queue the Ready's committed entries to the apply loop, a
//     second goroutine that calls StateMachine.Apply strictly in log order
//     and wakes each proposer with its result. Applying overlaps with
//     persisting the next Ready (pipelining, as in etcd).
//  4. Advance. Tell raft the Ready is handled, which lets it commit the
//     entries just persisted and produce the next Ready.
//
// # What is in the wal
//
// Each wal record is one byte of kind followed by a protobuf message of
// raftpb: 1 an Entry, 2 a HardState, 3 a SnapshotMetadata marking the
// compaction point (every entry at or below its index is applied and
// durable in the state machine, and the ConfState at that index). A
// payload entry's Data is an 8-byte big-endian proposal id followed by the
// payload; the id routes the state machine's result to the waiting
// Propose call and is stripped before Apply.
//
// Start reads every record: a later entry whose index is at or below an
// earlier one truncates the log there (raft overwrite semantics), and a
// marker drops the entries at or below it. A new wal starts with a marker
// at index 0 that holds the initial voters.
//
// Checkpoint(i) writes a marker at i and the current HardState, syncs, and
// then deletes whole segments whose entries are all at or below i, so the
// retained segments always hold a marker and a HardState. The in-memory
// raft storage is compacted at the same time, keeping a short tail of
// entries below i for followers that lag a little.
package cluster
