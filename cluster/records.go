package cluster

import (
	"encoding/binary"
	"fmt"

	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// recordKind is the first byte of every wal record written by this package.
// The values are part of the on-disk format.
type recordKind byte

const (
	recordEntry     recordKind = 1 // raftpb.Entry
	recordHardState recordKind = 2 // raftpb.HardState
	recordSnapshot  recordKind = 3 // raftpb.SnapshotMetadata: the compaction point
)

// proposalHeaderSize is the size of the proposal id in front of the payload
// of a proposed entry.
const proposalHeaderSize = 8

// appendRecord appends a record of kind k holding m to dst.
func appendRecord(dst []byte, k recordKind, m proto.Message) ([]byte, error) {
	dst = append(dst, byte(k))
	dst, err := proto.MarshalOptions{}.MarshalAppend(dst, m)
	if err != nil {
		return nil, fmt.Errorf("encode record kind %d: %w", k, err)
	}
	return dst, nil
}

// encodeProposal returns the entry data of a proposal: id, then payload.
func encodeProposal(id uint64, payload []byte) []byte {
	b := make([]byte, proposalHeaderSize+len(payload))
	binary.BigEndian.PutUint64(b, id)
	copy(b[proposalHeaderSize:], payload)
	return b
}

// decodeProposal splits entry data into proposal id and payload.
func decodeProposal(data []byte) (id uint64, payload []byte, ok bool) {
	if len(data) < proposalHeaderSize {
		return 0, nil, false
	}
	return binary.BigEndian.Uint64(data), data[proposalHeaderSize:], true
}

// recordsEncoder encodes the records of one Ready into one reused buffer.
type recordsEncoder struct {
	buf  []byte
	ends []int
}

func (e *recordsEncoder) reset() {
	e.buf, e.ends = e.buf[:0], e.ends[:0]
}

func (e *recordsEncoder) add(k recordKind, m proto.Message) error {
	b, err := appendRecord(e.buf, k, m)
	if err != nil {
		return err
	}
	e.buf = b
	e.ends = append(e.ends, len(b))
	return nil
}

// records returns the encoded records; valid until the next reset.
func (e *recordsEncoder) records() [][]byte {
	recs := make([][]byte, len(e.ends))
	start := 0
	for i, end := range e.ends {
		recs[i] = e.buf[start:end]
		start = end
	}
	return recs
}

// cloneHardState returns a copy of hs that raft will not modify.
func cloneHardState(hs *raftpb.HardState) *raftpb.HardState {
	return proto.Clone(hs).(*raftpb.HardState)
}
