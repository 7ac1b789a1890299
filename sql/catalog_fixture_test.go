package sql

import (
	"context"
	"fmt"
	"sort"
)

// The test fixture as a SystemSource: its series are the distinct tag
// sets of each table's rows; it records no errors.

func (m *memDB) Errors(ctx context.Context, tenant string) ([]ErrorRow, error) { return nil, nil }

func (m *memDB) Series(ctx context.Context, tenant string) ([]SeriesRow, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []SeriesRow
	for _, t := range m.tables {
		seen := map[string]bool{}
		var keys []string
		for _, r := range t.rows {
			k := t.seriesKey(r)
			if !seen[k] {
				seen[k] = true
				keys = append(keys, k)
				var tags []string
				for i, c := range t.info.Columns {
					if c.Kind == KindTag && r[i] != nil {
						tags = append(tags, c.Name, fmt.Sprint(r[i]))
					}
				}
				out = append(out, SeriesRow{Database: t.info.Database, Table: t.info.Name, ID: int64(len(keys)), Tags: tags})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Table != out[j].Table {
			return out[i].Table < out[j].Table
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}
