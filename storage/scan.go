package storage

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	"github.com/cockroachdb/pebble/v2"
	"github.com/fineod/fineod/schema"
)

// SeriesInfo is one series of a table.
type SeriesInfo struct {
	ID   uint64
	Tags []string // key, value, key, value... sorted by key
}

// seriesList is a cached Series result.
type seriesList struct {
	gen    uint64
	series []SeriesInfo
}

// Series lists a table's series in id order. The result is shared: do not
// modify it.
func (s *RowStore) Series(tenant, table uint32) ([]SeriesInfo, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	key := uint64(tenant)<<32 | uint64(table)
	gen := s.seriesGen.Load()
	if v, ok := s.seriesCache.Load(key); ok && v.(*seriesList).gen == gen {
		return v.(*seriesList).series, nil
	}
	out, err := s.readSeries(tenant, table)
	if err == nil {
		s.seriesCache.Store(key, &seriesList{gen: gen, series: out})
	}
	return out, err
}

func (s *RowStore) readSeries(tenant, table uint32) ([]SeriesInfo, error) {
	lo := appendTablePrefix(nil, prefixSeriesID, tenant, table)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, err
	}
	var out []SeriesInfo
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		out = append(out, SeriesInfo{ID: binary.BigEndian.Uint64(k[len(lo):]), Tags: parseTagString(it.Value())})
	}
	return out, it.Close()
}

// SeriesWithTag returns the ids of a table's series that have tag key=value,
// from the tag index.
func (s *RowStore) SeriesWithTag(tenant, table uint32, key, value string) ([]uint64, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	lo := appendTablePrefix(nil, prefixTagIndex, tenant, table)
	lo = appendTagString(lo, []string{key, value})
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, err
	}
	var out []uint64
	for it.First(); it.Valid(); it.Next() {
		k := it.Key()
		if len(k) == len(lo)+8 {
			out = append(out, binary.BigEndian.Uint64(k[len(lo):]))
		}
	}
	return out, it.Close()
}

// ScanFunc receives one point. fields is reused after the call returns, and
// string values alias memory that is only valid during the call.
type ScanFunc func(series uint64, t int64, fields []FieldValue) error

// Scan calls fn for every point of the given series (nil = all of the
// table's series) with minTime <= time <= maxTime, in (series, time) order.
func (s *RowStore) Scan(tenant, table uint32, series []uint64, minTime, maxTime int64, fn ScanFunc) error {
	var fields []FieldValue
	return s.scan(tenant, table, series, minTime, maxTime, func(id uint64, t int64, v []byte) error {
		var err error
		fields, err = DecodeValue(v, fields[:0])
		if err != nil {
			return fmt.Errorf("storage: series %d time %d: %w", id, t, err)
		}
		return fn(id, t, fields)
	})
}

func (s *RowStore) scan(tenant, table uint32, series []uint64, minTime, maxTime int64, fn ScanRawFunc) error {
	return s.scanFrom(s.db, tenant, table, series, minTime, maxTime, fn)
}

func (s *RowStore) scanFrom(r reader, tenant, table uint32, series []uint64, minTime, maxTime int64, fn ScanRawFunc) error {
	series, it, err := s.pointIter(r, tenant, table, series)
	if err != nil {
		return err
	}
	defer it.Close()
	seek := make([]byte, pointKeyLen)
	for _, id := range series {
		putPointKey(seek, tenant, table, id, minTime)
		for ok := it.SeekGE(seek); ok; ok = it.Next() {
			k := it.Key()
			if len(k) != pointKeyLen || binary.BigEndian.Uint64(k[9:]) != id {
				break
			}
			t := decodeTime(binary.BigEndian.Uint64(k[17:]))
			if t > maxTime {
				break
			}
			v, err := it.ValueAndErr()
			if err != nil {
				return err
			}
			if err := fn(id, t, v); err != nil {
				return err
			}
		}
		if err := it.Error(); err != nil {
			return err
		}
	}
	return nil
}

// Errors calls fn for each of a tenant's error rows in time order.
func (s *RowStore) Errors(tenant uint32, fn func(schema.ErrorRow) error) error {
	if s.closed.Load() {
		return ErrClosed
	}
	lo := binary.BigEndian.AppendUint32([]byte{prefixErrors}, tenant)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return err
	}
	defer it.Close()
	for it.First(); it.Valid(); it.Next() {
		var r schema.ErrorRow
		if err := json.Unmarshal(it.Value(), &r); err != nil {
			return fmt.Errorf("storage: decode error row: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	return it.Error()
}

// ScanRawFunc receives one point's encoded value (see NextField); v is only
// valid during the call.
type ScanRawFunc func(series uint64, t int64, v []byte) error

// ScanRaw is Scan without decoding the values.
func (s *RowStore) ScanRaw(tenant, table uint32, series []uint64, minTime, maxTime int64, fn ScanRawFunc) error {
	return s.scan(tenant, table, series, minTime, maxTime, fn)
}

// ScanLastRaw calls fn with the newest point of each given series (nil =
// all of the table's series) with minTime <= time <= maxTime: one reverse
// seek per series instead of a scan.
func (s *RowStore) ScanLastRaw(tenant, table uint32, series []uint64, minTime, maxTime int64, fn ScanRawFunc) error {
	return s.scanLastFrom(s.db, tenant, table, series, minTime, maxTime, fn)
}

func (s *RowStore) scanLastFrom(r reader, tenant, table uint32, series []uint64, minTime, maxTime int64, fn ScanRawFunc) error {
	series, it, err := s.pointIter(r, tenant, table, series)
	if err != nil {
		return err
	}
	defer it.Close()
	seek := make([]byte, pointKeyLen)
	for _, id := range series {
		// The first key after (id, maxTime): (id, maxTime+1), or the next
		// series' first key when maxTime is the largest time.
		if maxTime < math.MaxInt64 {
			putPointKey(seek, tenant, table, id, maxTime+1)
		} else {
			putPointKey(seek, tenant, table, id+1, math.MinInt64)
		}
		if !it.SeekLT(seek) {
			if err := it.Error(); err != nil {
				return err
			}
			continue
		}
		k := it.Key()
		if len(k) != pointKeyLen || binary.BigEndian.Uint64(k[9:]) != id {
			continue
		}
		t := decodeTime(binary.BigEndian.Uint64(k[17:]))
		if t < minTime || t > maxTime {
			continue
		}
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		if err := fn(id, t, v); err != nil {
			return err
		}
	}
	return it.Error()
}

// pointIter returns the series to read (all of the table's when series is
// nil) and an iterator over the table's point keys.
func (s *RowStore) pointIter(r reader, tenant, table uint32, series []uint64) ([]uint64, *pebble.Iterator, error) {
	if s.closed.Load() {
		return nil, nil, ErrClosed
	}
	if series == nil {
		all, err := s.Series(tenant, table)
		if err != nil {
			return nil, nil, err
		}
		for _, si := range all {
			series = append(series, si.ID)
		}
	}
	lo := appendTablePrefix(nil, prefixPoint, tenant, table)
	it, err := r.NewIter(&pebble.IterOptions{LowerBound: lo, UpperBound: prefixEnd(lo)})
	if err != nil {
		return nil, nil, err
	}
	return series, it, nil
}
