package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
)

// segmentNameLen is the length of a segment file name: the segment index as
// zero-padded decimal digits. Part of the on-disk format.
const segmentNameLen = 8

// firstSegmentIndex is the index of the first segment of a new WAL.
const firstSegmentIndex = 1

// segmentName returns the file name of segment i, for example "00000001".
func segmentName(i int) string {
	return fmt.Sprintf("%0*d", segmentNameLen, i)
}

// segmentPath returns the path of segment i in dir.
func segmentPath(dir string, i int) string {
	return filepath.Join(dir, segmentName(i))
}

// parseSegmentName returns the index named by a segment file name and
// whether name is one.
func parseSegmentName(name string) (int, bool) {
	if len(name) != segmentNameLen {
		return 0, false
	}
	for _, c := range name {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	i, err := strconv.Atoi(name)
	if err != nil || i < firstSegmentIndex {
		return 0, false
	}
	return i, true
}

// listSegments returns the indices of the segment files in dir, ascending.
// Other files are ignored.
func listSegments(dir string) ([]int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var segs []int
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		if i, ok := parseSegmentName(e.Name()); ok {
			segs = append(segs, i)
		}
	}
	slices.Sort(segs)
	return segs, nil
}

// checkContiguous returns a *CorruptionError if segs has a gap.
func checkContiguous(dir string, segs []int) error {
	for k := 1; k < len(segs); k++ {
		if segs[k] != segs[k-1]+1 {
			return &CorruptionError{Dir: dir, Segment: segs[k-1] + 1, Err: errMissingSegment}
		}
	}
	return nil
}
