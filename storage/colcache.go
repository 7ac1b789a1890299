package storage

import (
	"container/list"
	"sync"
)

// The decoded-column cache keeps row groups' columns as a scan decoded them
// (typed slices), so that scans of recently read history skip the page
// decompression and decoding — what Pebble's block cache does for the row
// store. Entries are shared read-only between scans; its size is bounded
// in bytes (SetDecodedCacheSize) and the least recently used go first.

type colKey struct {
	seg   *Segment
	group int
	col   int
}

type colEntry struct {
	key  colKey
	data colData // read-only once cached
	size int64
}

var colCache struct {
	sync.Mutex
	max   int64
	size  int64
	lru   *list.List // front = most recent
	index map[colKey]*list.Element
}

func init() {
	colCache.lru = list.New()
	colCache.index = map[colKey]*list.Element{}
	colCache.max = 128 << 20
}

// SetDecodedCacheSize bounds the decoded-column cache of all segments of
// the process (0 disables it). Default 128 MiB.
func SetDecodedCacheSize(bytes int64) {
	colCache.Lock()
	defer colCache.Unlock()
	colCache.max = bytes
	evictLocked()
}

func (d *colData) bytes() int64 {
	n := int64(len(d.null) + 8*len(d.i) + 8*len(d.f) + len(d.b) + 4*len(d.idx) + 24*len(d.bs))
	for _, b := range d.bs {
		n += int64(len(b))
	}
	for _, s := range d.dict {
		n += int64(len(s)) + 16
	}
	return n
}

func cachedColumn(k colKey) (colData, bool) {
	colCache.Lock()
	defer colCache.Unlock()
	e, ok := colCache.index[k]
	if !ok {
		return colData{}, false
	}
	colCache.lru.MoveToFront(e)
	return e.Value.(*colEntry).data, true
}

// cacheColumn keeps a copy of d (which the caller goes on using).
func cacheColumn(k colKey, d *colData) {
	size := d.bytes()
	colCache.Lock()
	defer colCache.Unlock()
	if colCache.max <= 0 || size > colCache.max/8 {
		return
	}
	if e, ok := colCache.index[k]; ok {
		old := e.Value.(*colEntry)
		if old.data.covers(d.base, d.base+len(d.null)) {
			return
		}
		// A range read of other rows: the new one replaces it.
		colCache.lru.Remove(e)
		delete(colCache.index, k)
		colCache.size -= old.size
	}
	c := colData{base: d.base,
		null: append([]bool(nil), d.null...), i: append([]int64(nil), d.i...), f: append([]float64(nil), d.f...),
		b: append([]bool(nil), d.b...), idx: append([]int32(nil), d.idx...), dict: append([]string(nil), d.dict...),
		bs: append([][]byte(nil), d.bs...), shared: true,
	}
	colCache.index[k] = colCache.lru.PushFront(&colEntry{key: k, data: c, size: size})
	colCache.size += size
	evictLocked()
}

func evictLocked() {
	for colCache.size > colCache.max && colCache.lru.Len() > 0 {
		e := colCache.lru.Back()
		ce := e.Value.(*colEntry)
		colCache.lru.Remove(e)
		delete(colCache.index, ce.key)
		colCache.size -= ce.size
	}
}

// forgetSegment drops a closed segment's columns.
func forgetSegment(s *Segment) {
	colCache.Lock()
	defer colCache.Unlock()
	for e := colCache.lru.Front(); e != nil; {
		next := e.Next()
		if ce := e.Value.(*colEntry); ce.key.seg == s {
			colCache.lru.Remove(e)
			delete(colCache.index, ce.key)
			colCache.size -= ce.size
		}
		e = next
	}
}
