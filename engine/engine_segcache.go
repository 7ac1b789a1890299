package engine

import (
	"path/filepath"
	"sync"

	"github.com/fineod/fineod/storage"
)

// segCache keeps segment files open between queries (opening one reads
// its footer) and makes sure that a file a query is about to read is not
// deleted underneath it.
//
// The protocol with compaction: a scan holds mu while it takes its row
// store view, reads the manifest from that view and acquires the listed
// segments; compaction deletes replaced files only through remove, which
// holds mu too. So a scan either sees the old manifest and opens the old
// files before they are deleted (an open file stays readable after it is
// unlinked), or it sees the new manifest.
type segCache struct {
	root string
	mu   sync.Mutex
	open map[uint64]*segEntry
}

type segEntry struct {
	meta    storage.SegmentMeta
	seg     *storage.Segment
	refs    int
	removed bool
}

// maxOpenSegments bounds the files kept open while unreferenced.
const maxOpenSegments = 256

func newSegCache(root string) *segCache {
	return &segCache{root: root, open: map[uint64]*segEntry{}}
}

// acquireLocked opens (or reuses) the segments and takes a reference on
// each. REQUIRES: c.mu held.
func (c *segCache) acquireLocked(metas []storage.SegmentMeta) ([]*segEntry, error) {
	out := make([]*segEntry, 0, len(metas))
	for _, m := range metas {
		e, ok := c.open[m.ID]
		if !ok {
			seg, err := storage.OpenSegment(filepath.Join(c.root, filepath.FromSlash(m.Path)))
			if err != nil {
				c.releaseLocked(out)
				return nil, err
			}
			e = &segEntry{meta: m, seg: seg}
			c.open[m.ID] = e
		}
		e.refs++
		out = append(out, e)
	}
	if len(c.open) > maxOpenSegments {
		for id, e := range c.open {
			if e.refs == 0 {
				e.seg.Close()
				delete(c.open, id)
			}
			if len(c.open) <= maxOpenSegments/2 {
				break
			}
		}
	}
	return out, nil
}

func (c *segCache) release(es []*segEntry) {
	c.mu.Lock()
	c.releaseLocked(es)
	c.mu.Unlock()
}

func (c *segCache) releaseLocked(es []*segEntry) {
	for _, e := range es {
		e.refs--
		if e.refs == 0 && e.removed {
			e.seg.Close()
		}
	}
}

// remove deletes the files of segments that left the manifest (a
// storage.CompactOptions.RemoveSegments).
func (c *segCache) remove(root string, old []storage.SegmentMeta) []error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range old {
		if e, ok := c.open[m.ID]; ok {
			delete(c.open, m.ID)
			e.removed = true
			if e.refs == 0 {
				e.seg.Close()
			}
		}
	}
	return storage.RemoveSegmentFiles(root, old)
}

// close closes every unreferenced file.
func (c *segCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, e := range c.open {
		if e.refs == 0 {
			e.seg.Close()
		}
		delete(c.open, id)
	}
}
