package cluster

import (
	"fmt"

	"github.com/fineod/fineod/wal"
	"go.etcd.io/raft/v3/raftpb"
	"google.golang.org/protobuf/proto"
)

// replayed is the raft state rebuilt from the wal.
type replayed struct {
	snap    *raftpb.SnapshotMetadata // the latest marker; nil if there is none
	hs      *raftpb.HardState        // the latest HardState; nil if there is none
	ents    []*raftpb.Entry          // the entries after snap, contiguous
	segMax  map[int]uint64           // the highest entry index written to each segment
	records int
}

// lastIndex returns the index of the last entry, or the marker's.
func (r *replayed) lastIndex() uint64 {
	if len(r.ents) > 0 {
		return r.ents[len(r.ents)-1].GetIndex()
	}
	return r.snap.GetIndex()
}

// replay reads every record of the wal in dir from its first segment.
func replay(w *wal.WAL) (*replayed, error) {
	first, _, err := w.Segments()
	if err != nil {
		return nil, err
	}
	r, err := wal.NewReader(w.Dir(), first)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	st := &replayed{segMax: make(map[int]uint64)}
	for r.Next() {
		rec := r.Record()
		st.records++
		if len(rec) == 0 {
			return nil, fmt.Errorf("replay segment %d offset %d: empty record", r.Segment(), r.Offset())
		}
		body := rec[1:]
		switch recordKind(rec[0]) {
		case recordEntry:
			e := &raftpb.Entry{}
			if err := proto.Unmarshal(body, e); err != nil {
				return nil, fmt.Errorf("replay segment %d offset %d: decode entry: %w", r.Segment(), r.Offset(), err)
			}
			st.addEntry(e)
			st.segMax[r.Segment()] = max(st.segMax[r.Segment()], e.GetIndex())
		case recordHardState:
			hs := &raftpb.HardState{}
			if err := proto.Unmarshal(body, hs); err != nil {
				return nil, fmt.Errorf("replay segment %d offset %d: decode hard state: %w", r.Segment(), r.Offset(), err)
			}
			st.hs = hs
		case recordSnapshot:
			m := &raftpb.SnapshotMetadata{}
			if err := proto.Unmarshal(body, m); err != nil {
				return nil, fmt.Errorf("replay segment %d offset %d: decode marker: %w", r.Segment(), r.Offset(), err)
			}
			if st.snap == nil || m.GetIndex() >= st.snap.GetIndex() {
				st.snap = m
				st.dropThrough(m.GetIndex())
			}
		default:
			return nil, fmt.Errorf("replay segment %d offset %d: unknown record kind %d", r.Segment(), r.Offset(), rec[0])
		}
	}
	if err := r.Err(); err != nil {
		return nil, fmt.Errorf("replay: %w", err)
	}
	if st.records == 0 {
		return st, nil
	}
	if st.snap == nil {
		return nil, fmt.Errorf("replay: the wal in %s has no compaction marker", w.Dir())
	}
	if len(st.ents) > 0 && st.ents[0].GetIndex() != st.snap.GetIndex()+1 {
		return nil, fmt.Errorf("replay: entries %d..%d missing from the wal in %s",
			st.snap.GetIndex()+1, st.ents[0].GetIndex()-1, w.Dir())
	}
	return st, nil
}

// addEntry appends e to the log, truncating any entries at or after its
// index first (raft overwrite semantics). An entry at or below the current
// marker is already compacted and ignored. Gaps are found after the whole
// wal is read, because the marker that explains them may come later.
func (st *replayed) addEntry(e *raftpb.Entry) {
	idx := e.GetIndex()
	if st.snap != nil && idx <= st.snap.GetIndex() {
		return
	}
	if n := len(st.ents); n > 0 {
		first := st.ents[0].GetIndex()
		switch last := st.ents[n-1].GetIndex(); {
		case idx < first:
			st.ents = st.ents[:0]
		case idx <= last:
			st.ents = st.ents[:idx-first]
		case idx > last+1:
			// A gap: keep only what follows it; the check after the
			// read decides whether a marker covers it.
			st.ents = st.ents[:0]
		}
	}
	st.ents = append(st.ents, e)
}

// dropThrough removes the entries at or below index.
func (st *replayed) dropThrough(index uint64) {
	k := 0
	for k < len(st.ents) && st.ents[k].GetIndex() <= index {
		k++
	}
	if k > 0 {
		st.ents = append([]*raftpb.Entry(nil), st.ents[k:]...)
	}
}
