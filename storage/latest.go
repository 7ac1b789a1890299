package storage

import (
	"encoding/binary"
	"fmt"

	"github.com/cockroachdb/pebble/v2"
	"github.com/fineod/fineod/schema"
)

// seriesIDByKey returns the id of a table's series with tag string key.
func (s *RowStore) seriesIDByKey(table uint32, key string) (uint64, bool) {
	ck := binary.BigEndian.AppendUint32(nil, table)
	ck = append(ck, key...)
	s.mu.RLock()
	defer s.mu.RUnlock()
	id, ok := s.mu.series[string(ck)]
	return id, ok
}

// The latest index remembers, per series, the newest point compaction has
// moved into segments (its time and its fields as written to the
// segment):
//
//	0x08 | tenant | table | series -> time (sign-flipped u64) | point value
//
// No segment holds a row of the series newer than that point, so a
// last-point query finds each series' newest point from the row store
// and this index, without reading segments. Compaction updates it in the
// batch that publishes the segment; retention removes entries of the
// days it drops; a table drop removes the table's.
const prefixLatest byte = 0x08

// EncodeValue encodes fields as a row-store point value.
func EncodeValue(dst []byte, fields []FieldValue) []byte {
	for _, f := range fields {
		switch f.Type {
		case schema.TypeFloat:
			dst = appendFloat(dst, f.ID, f.F)
		case schema.TypeInt, schema.TypeUint:
			dst = appendInt(dst, f.ID, f.Type, f.I)
		case schema.TypeString:
			dst = appendString(dst, f.ID, f.S)
		case schema.TypeBool:
			dst = appendBool(dst, f.ID, f.B)
		}
	}
	return dst
}

func appendLatestKey(dst []byte, tenant, table uint32, series uint64) []byte {
	dst = appendTablePrefix(dst, prefixLatest, tenant, table)
	return binary.BigEndian.AppendUint64(dst, series)
}

// latestPoint is one entry of the latest index.
type latestPoint struct {
	series uint64
	time   int64
	fields []FieldValue // copied
}

// putLatest adds to b, for each point, an entry unless the index already
// holds a newer point of its series.
func (s *RowStore) putLatest(b *pebble.Batch, tenant, table uint32, pts []latestPoint) error {
	var buf []byte
	for _, p := range pts {
		k := appendLatestKey(nil, tenant, table, p.series)
		old, err := s.get(k)
		if err != nil {
			return err
		}
		if len(old) >= 8 && decodeTime(binary.BigEndian.Uint64(old)) > p.time {
			continue
		}
		buf = binary.BigEndian.AppendUint64(buf[:0], encodeTime(p.time))
		buf = EncodeValue(buf, p.fields)
		if err := b.Set(k, buf, nil); err != nil {
			return err
		}
	}
	return nil
}

// LatestCompacted calls fn with the latest-index entry of each of the given
// series that has one, in the view.
func (v *ReadView) LatestCompacted(tenant, table uint32, series []uint64, fn func(series uint64, t int64, val []byte) error) error {
	prefix := appendTablePrefix(nil, prefixLatest, tenant, table)
	it, err := v.snap.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	key := make([]byte, 0, len(prefix)+8)
	for _, id := range series {
		key = binary.BigEndian.AppendUint64(append(key[:0], prefix...), id)
		if !it.SeekGE(key) || string(it.Key()) != string(key) {
			continue
		}
		val := it.Value()
		if len(val) < 8 {
			return fmt.Errorf("storage: latest index entry of series %d is corrupt", id)
		}
		if err := fn(id, decodeTime(binary.BigEndian.Uint64(val)), val[8:]); err != nil {
			return err
		}
	}
	return it.Error()
}

// dropLatestIn adds to b the deletion of the table's latest-index entries
// whose time is in [lo, hi].
func (s *RowStore) dropLatestIn(b *pebble.Batch, tenant, table uint32, lo, hi int64) error {
	prefix := appendTablePrefix(nil, prefixLatest, tenant, table)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: prefix, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		v := it.Value()
		if len(v) < 8 {
			continue
		}
		if t := decodeTime(binary.BigEndian.Uint64(v)); t >= lo && t <= hi {
			if err := b.Delete(it.Key(), nil); err != nil {
				return err
			}
		}
	}
	return it.Error()
}
