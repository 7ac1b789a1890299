package storage

import (
	"fmt"
	"io"

	"github.com/fineod/fineod/schema"
	"github.com/parquet-go/parquet-go"
)

// ColumnBatch is a run of one numeric field column's non-null values, for
// vectorized aggregates. Only the slice of the column's type is set.
type ColumnBatch struct {
	Type schema.Type
	Rows int       // rows the batch covers, NULLs included
	F    []float64 // TypeFloat
	I    []int64   // TypeInt, and TypeUint's bits
}

// ScanColumn calls fn with the non-null values of a float, integer or
// unsigned field column in the rows matching q's time range and tags.
// Row groups are pruned as by Rows. A row group wholly inside the time
// range and without tag predicates is read page by page straight from
// the decoded page buffers; others are filtered row by row. The batch and
// its slices are valid only during the call. A field the segment lacks
// yields nothing.
func (s *Segment) ScanColumn(fieldID uint32, q SegmentQuery, fn func(b *ColumnBatch) error) (SegmentScanStats, error) {
	var st SegmentScanStats
	groups := s.pf.RowGroups()
	st.RowGroups = len(groups)
	ci, ok := s.fieldCols[fieldID]
	if !ok {
		st.Pruned = len(groups)
		return st, nil
	}
	typ := s.cols[ci].Type
	if typ != schema.TypeFloat && typ != schema.TypeInt && typ != schema.TypeUint {
		return st, fmt.Errorf("storage: scan column %q: type %v is not numeric", s.cols[ci].Name, typ)
	}
	sub := q
	sub.Fields = []uint32{fieldID}
	rows := s.newRows(sub)
	batch := &ColumnBatch{Type: typ}
	for gi := range groups {
		keep, err := s.mayMatch(gi, &q, rows.match)
		if err != nil {
			return st, err
		}
		if !keep {
			st.Pruned++
			continue
		}
		st.Scanned++
		lo, hi, ok := chunkBounds(groups[gi].ColumnChunks()[0])
		if ok && len(q.Tags) == 0 && lo.Int64() >= q.MinTime && hi.Int64() <= q.MaxTime {
			n, err := scanChunkPages(groups[gi].ColumnChunks()[ci], batch, fn)
			if err != nil {
				return st, fmt.Errorf("storage: scan column %q row group %d: %w", s.cols[ci].Name, gi, err)
			}
			st.Rows += n
			continue
		}
		// Partly covered: filter rows.
		rows.groups, rows.rg, rows.n, rows.row = []int{gi}, -1, 0, 0
		batch.Rows, batch.F, batch.I = 0, batch.F[:0], batch.I[:0]
		for rows.Next() {
			batch.Rows++
			for _, f := range rows.Fields() {
				if typ == schema.TypeFloat {
					batch.F = append(batch.F, f.F)
				} else {
					batch.I = append(batch.I, f.I)
				}
			}
		}
		if err := rows.Err(); err != nil {
			return st, err
		}
		st.Rows += int64(batch.Rows)
		if batch.Rows > 0 {
			if err := fn(batch); err != nil {
				return st, err
			}
		}
	}
	return st, nil
}

// scanChunkPages passes each page of a column chunk to fn.
func scanChunkPages(chunk parquet.ColumnChunk, batch *ColumnBatch, fn func(*ColumnBatch) error) (int64, error) {
	pages := chunk.Pages()
	defer pages.Close()
	var rows int64
	for {
		p, err := pages.ReadPage()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return rows, err
		}
		data := p.Data()
		batch.Rows = int(p.NumRows())
		batch.F, batch.I = nil, nil
		if batch.Type == schema.TypeFloat {
			batch.F = data.Double()
		} else {
			batch.I = data.Int64()
		}
		rows += p.NumRows()
		err = fn(batch)
		parquet.Release(p)
		if err != nil {
			return rows, err
		}
	}
}
