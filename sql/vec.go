package sql

import (
	"hash/maphash"
	"math"
	"strings"
)

// newVec returns a vector of type t with n zero rows and no NULLs.
func newVec(t Type, n int) *Vector {
	v := &Vector{Type: t}
	switch phys(t) {
	case physF64:
		v.F64 = make([]float64, n)
	case physStr:
		v.Str = make([]string, n)
	case physBool:
		v.Bool = make([]bool, n)
	default:
		v.I64 = make([]int64, n)
	}
	return v
}

func (v *Vector) isNull(i int) bool { return v.Null != nil && v.Null[i] }

// setNull marks row i NULL, allocating the Null slice on first use.
func (v *Vector) setNull(i, n int) {
	if v.Null == nil {
		v.Null = make([]bool, n)
	}
	v.Null[i] = true
}

func (v *Vector) hasNulls() bool {
	for _, x := range v.Null {
		if x {
			return true
		}
	}
	return false
}

// gather returns a new vector of v's rows sel.
func gather(v *Vector, sel []int32) Vector {
	out := Vector{Type: v.Type}
	switch phys(v.Type) {
	case physF64:
		out.F64 = make([]float64, len(sel))
		for j, i := range sel {
			out.F64[j] = v.F64[i]
		}
	case physStr:
		out.Str = make([]string, len(sel))
		for j, i := range sel {
			out.Str[j] = v.Str[i]
		}
	case physBool:
		out.Bool = make([]bool, len(sel))
		for j, i := range sel {
			out.Bool[j] = v.Bool[i]
		}
	default:
		out.I64 = make([]int64, len(sel))
		for j, i := range sel {
			out.I64[j] = v.I64[i]
		}
	}
	if v.Null != nil {
		out.Null = make([]bool, len(sel))
		for j, i := range sel {
			out.Null[j] = v.Null[i]
		}
	}
	return out
}

// gatherBatch returns a new batch of b's rows sel.
func gatherBatch(b *Batch, sel []int32) *Batch {
	out := &Batch{Len: len(sel), Cols: make([]Vector, len(b.Cols))}
	for c := range b.Cols {
		out.Cols[c] = gather(&b.Cols[c], sel)
	}
	return out
}

// appendRow appends row i of src to dst (same physical kind); dst keeps a
// Null slice in step with its values.
func appendRow(dst *Vector, src *Vector, i int) {
	null := src.Null != nil && src.Null[i]
	switch phys(dst.Type) {
	case physF64:
		dst.F64 = append(dst.F64, src.F64[i])
	case physStr:
		dst.Str = append(dst.Str, src.Str[i])
	case physBool:
		dst.Bool = append(dst.Bool, src.Bool[i])
	default:
		dst.I64 = append(dst.I64, src.I64[i])
	}
	dst.Null = append(dst.Null, null)
}

// appendNullRow appends a NULL to dst.
func appendNullRow(dst *Vector) {
	switch phys(dst.Type) {
	case physF64:
		dst.F64 = append(dst.F64, 0)
	case physStr:
		dst.Str = append(dst.Str, "")
	case physBool:
		dst.Bool = append(dst.Bool, false)
	default:
		dst.I64 = append(dst.I64, 0)
	}
	dst.Null = append(dst.Null, true)
}

// appendVec appends n rows of src to dst.
func appendVec(dst *Vector, src *Vector, n int) {
	switch phys(dst.Type) {
	case physF64:
		dst.F64 = append(dst.F64, src.F64[:n]...)
	case physStr:
		dst.Str = append(dst.Str, src.Str[:n]...)
	case physBool:
		dst.Bool = append(dst.Bool, src.Bool[:n]...)
	default:
		dst.I64 = append(dst.I64, src.I64[:n]...)
	}
	if src.Null != nil {
		dst.Null = append(dst.Null, src.Null[:n]...)
	} else {
		for range n {
			dst.Null = append(dst.Null, false)
		}
	}
}

// copyBatch deep-copies a batch (scan batches are reused by the scanner).
func copyBatch(b *Batch) *Batch {
	out := &Batch{Len: b.Len, Cols: make([]Vector, len(b.Cols))}
	for c := range b.Cols {
		out.Cols[c].Type = b.Cols[c].Type
		appendVec(&out.Cols[c], &b.Cols[c], b.Len)
	}
	return out
}

// rowTable is a materialised set of rows in columns.
type rowTable struct {
	cols []Vector
	n    int
}

func newRowTable(types []Type) *rowTable {
	t := &rowTable{cols: make([]Vector, len(types))}
	for i, ty := range types {
		t.cols[i].Type = ty
	}
	return t
}

func (t *rowTable) appendBatch(b *Batch) {
	for c := range t.cols {
		appendVec(&t.cols[c], &b.Cols[c], b.Len)
	}
	t.n += b.Len
}

func (t *rowTable) appendRowFrom(b *Batch, i int) {
	for c := range t.cols {
		appendRow(&t.cols[c], &b.Cols[c], i)
	}
	t.n++
}

// emitRows sends rows sel of t downstream in batches.
func (t *rowTable) emitRows(sel []int32, emit func(*Batch) error) error {
	const chunk = 4096
	b := &Batch{Cols: t.cols}
	for len(sel) > 0 {
		k := min(len(sel), chunk)
		if err := emit(gatherBatch(b, sel[:k])); err != nil {
			return err
		}
		sel = sel[k:]
	}
	return nil
}

func (t *rowTable) emitAll(emit func(*Batch) error) error {
	const chunk = 4096
	for off := 0; off < t.n; off += chunk {
		k := min(t.n-off, chunk)
		b := &Batch{Len: k, Cols: make([]Vector, len(t.cols))}
		for c := range t.cols {
			b.Cols[c] = sliceVec(&t.cols[c], off, off+k)
		}
		if err := emit(b); err != nil {
			return err
		}
	}
	return nil
}

func sliceVec(v *Vector, lo, hi int) Vector {
	out := Vector{Type: v.Type}
	switch phys(v.Type) {
	case physF64:
		out.F64 = v.F64[lo:hi:hi]
	case physStr:
		out.Str = v.Str[lo:hi:hi]
	case physBool:
		out.Bool = v.Bool[lo:hi:hi]
	default:
		out.I64 = v.I64[lo:hi:hi]
	}
	if v.Null != nil {
		out.Null = v.Null[lo:hi:hi]
	}
	return out
}

var hashSeed = maphash.MakeSeed()

func mix64(h, x uint64) uint64 {
	h ^= x + 0x9e3779b97f4a7c15 + (h << 6) + (h >> 2)
	h ^= h >> 31
	h *= 0xbf58476d1ce4e5b9
	return h
}

// hashVec folds column v into the row hashes h.
func hashVec(h []uint64, v *Vector, n int) {
	switch phys(v.Type) {
	case physF64:
		for i := range n {
			f := v.F64[i]
			if f == 0 {
				f = 0 // -0 == 0
			}
			h[i] = mix64(h[i], math.Float64bits(f))
		}
	case physStr:
		for i := range n {
			h[i] = mix64(h[i], maphash.String(hashSeed, v.Str[i]))
		}
	case physBool:
		for i := range n {
			x := uint64(0)
			if v.Bool[i] {
				x = 1
			}
			h[i] = mix64(h[i], x)
		}
	default:
		for i := range n {
			h[i] = mix64(h[i], uint64(v.I64[i]))
		}
	}
	if v.Null != nil {
		for i := range n {
			if v.Null[i] {
				h[i] = mix64(h[i], 0x5bd1e995)
			}
		}
	}
}

// sameValue reports whether a[i] and b[j] are equal, NULLs equal to NULLs
// (grouping semantics). Both vectors have the same physical kind.
func sameValue(a *Vector, i int, b *Vector, j int) bool {
	an, bn := a.isNull(i), b.isNull(j)
	if an || bn {
		return an == bn
	}
	switch phys(a.Type) {
	case physF64:
		return a.F64[i] == b.F64[j] || (math.IsNaN(a.F64[i]) && math.IsNaN(b.F64[j]))
	case physStr:
		return a.Str[i] == b.Str[j]
	case physBool:
		return a.Bool[i] == b.Bool[j]
	}
	return a.I64[i] == b.I64[j]
}

// compareValues orders non-NULL a[i] and b[j] (-1, 0, 1); NaN sorts last.
func compareValues(a *Vector, i int, b *Vector, j int) int {
	switch phys(a.Type) {
	case physF64:
		x, y := a.F64[i], b.F64[j]
		switch {
		case x < y:
			return -1
		case x > y:
			return 1
		case x == y:
			return 0
		case math.IsNaN(x) && math.IsNaN(y):
			return 0
		case math.IsNaN(x):
			return 1
		}
		return -1
	case physStr:
		return strings.Compare(a.Str[i], b.Str[j])
	case physBool:
		x, y := a.Bool[i], b.Bool[j]
		if x == y {
			return 0
		}
		if !x {
			return -1
		}
		return 1
	}
	x, y := a.I64[i], b.I64[j]
	if x < y {
		return -1
	}
	if x > y {
		return 1
	}
	return 0
}

// hashTable maps key tuples to dense group ids (0, 1, 2, ...). Keys are
// kept in columns; NULLs group together.
type hashTable struct {
	keys   []Vector
	n      int
	head   map[uint64]int32
	next   []int32
	hashes []uint64
}

func newHashTable(types []Type) *hashTable {
	h := &hashTable{keys: make([]Vector, len(types)), head: map[uint64]int32{}}
	for i, t := range types {
		h.keys[i].Type = t
	}
	return h
}

// lookup fills gids with the group of each of the n rows of cols, adding
// new groups when insert is set (else -1 for an unknown key).
func (ht *hashTable) lookup(cols []*Vector, n int, gids []int32, insert bool) {
	if cap(ht.hashes) < n {
		ht.hashes = make([]uint64, n)
	}
	h := ht.hashes[:n]
	for i := range h {
		h[i] = 0
	}
	for _, c := range cols {
		hashVec(h, c, n)
	}
	for i := range n {
		if i > 0 && h[i] == h[i-1] && gids[i-1] >= 0 && ht.rowEqual(cols, i, gids[i-1]) {
			gids[i] = gids[i-1]
			continue
		}
		g, ok := ht.head[h[i]]
		found := int32(-1)
		if ok {
			for ; g >= 0; g = ht.next[g] {
				if ht.rowEqual(cols, i, g) {
					found = g
					break
				}
			}
		}
		if found < 0 && insert {
			found = int32(ht.n)
			for c := range cols {
				appendRow(&ht.keys[c], cols[c], i)
			}
			if prev, ok := ht.head[h[i]]; ok {
				ht.next = append(ht.next, prev)
			} else {
				ht.next = append(ht.next, -1)
			}
			ht.head[h[i]] = found
			ht.n++
		}
		gids[i] = found
	}
}

func (ht *hashTable) rowEqual(cols []*Vector, i int, g int32) bool {
	for c := range cols {
		if !sameValue(cols[c], i, &ht.keys[c], int(g)) {
			return false
		}
	}
	return true
}
