package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sync"

	"github.com/fineod/fineod/schema"
	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/bitpack"
	"github.com/parquet-go/parquet-go/format"
)

// Range reads of time, integer and float columns.
//
// A query that names its series and a time range needs a few hundred rows
// of a 16Ki-row group. parquet-go decodes a column chunk a whole page at a
// time (one page per column and row group at our page size), so such a
// read would decode and copy every row of the group. readRange instead
// reads the chunk's data pages itself (located by the page index), skips
// pages outside the rows wanted, and decodes a page only as far as its
// last wanted row, copying just the wanted ones. It handles the layouts
// fineod writes (DATA_PAGE_V2; DELTA_BINARY_PACKED or PLAIN INT64,
// BYTE_STREAM_SPLIT or PLAIN DOUBLE; ZSTD or no compression); for anything
// else it reports false and the caller decodes the chunk with parquet-go.

// errPageFormat marks a page that is not what its header says.
var errPageFormat = errors.New("storage: malformed segment page")

// pageBufs holds the read and decompression buffers of range reads.
type pageBufs struct {
	raw, plain []byte
	out        []uint64
	scratch    []byte
	mini       [128]int64
}

var pageBufPool = sync.Pool{New: func() any { return new(pageBufs) }}

var zstdDecoders = sync.Pool{New: func() any {
	d, err := zstd.NewReader(nil, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxMemory(maxPagePlain))
	if err != nil {
		panic(err)
	}
	return d
}}

// maxPagePlain bounds a page's decompressed size for range reads (pages
// of fineod's writer are a few hundred KiB).
const maxPagePlain = 256 << 20

// unpackPadding is the slack bitpack.Unpack may read past its input.
const unpackPadding = bitpack.PaddingInt64 + 8

// readRange decodes rows [lo, hi) (row numbers within row group gi) of
// column ci into d, which then holds exactly those rows (d.base = lo).
// ok is false, with d untouched, when the chunk's layout is not one it
// handles.
func (s *Segment) readRange(gi, ci, lo, hi int, d *colData) (ok bool, err error) {
	c := &s.cols[ci]
	isInt := c.Kind == colKindTime || (c.Kind == colKindField && (c.Type == schema.TypeInt || c.Type == schema.TypeUint))
	isFloat := c.Kind == colKindField && c.Type == schema.TypeFloat
	if !isInt && !isFloat {
		return false, nil
	}
	md := s.pf.Metadata()
	if gi >= len(md.RowGroups) || ci >= len(md.RowGroups[gi].Columns) {
		return false, nil
	}
	cm := &md.RowGroups[gi].Columns[ci].MetaData
	if cm.DictionaryPageOffset != 0 || (cm.Codec != format.Zstd && cm.Codec != format.Uncompressed) {
		return false, nil
	}
	ois := s.pf.OffsetIndexes()
	k := gi*len(md.RowGroups[gi].Columns) + ci
	if k >= len(ois) || len(ois[k].PageLocations) == 0 {
		return false, nil
	}
	locs := ois[k].PageLocations
	n := int(md.RowGroups[gi].NumRows)
	if lo < 0 || hi > n || lo > hi {
		return false, fmt.Errorf("storage: segment rows [%d, %d) outside row group of %d", lo, hi, n)
	}

	bufs := pageBufPool.Get().(*pageBufs)
	defer pageBufPool.Put(bufs)
	d.reset()
	d.base = lo
	d.null = appendFalse(d.null, hi-lo)
	if isInt {
		d.i = append(d.i[:0], make([]int64, hi-lo)...)
	} else {
		d.f = append(d.f[:0], make([]float64, hi-lo)...)
	}
	for p := range locs {
		first := int(locs[p].FirstRowIndex)
		end := n
		if p+1 < len(locs) {
			end = int(locs[p+1].FirstRowIndex)
		}
		if end <= lo || first >= hi {
			continue
		}
		from, to := max(lo, first), min(hi, end)
		var cps []int64
		if p == 0 && isInt {
			// They index the chunk's values, so the first page's too. A
			// list longer than the chunk's values allow is not used.
			cps = s.checkpoints(gi, ci)
			if every := int64(s.cps.Every); len(cps) > 0 && (cm.NumValues < 1 || int64(len(cps)) > (cm.NumValues-1)/every ||
				(c.Kind == colKindTime && int64(len(cps)) != (cm.NumValues-1)/every)) {
				cps = nil
			}
		}
		handled, err := s.readPage(bufs, locs[p], c.Kind == colKindField, isInt, first, end, from, to, cps, s.cps.Every, d)
		if err != nil || !handled {
			d.reset()
			d.base = 0
			return false, err
		}
	}
	return true, nil
}

// readPage decodes rows [from, to) of the page holding rows [first, end).
func (s *Segment) readPage(bufs *pageBufs, loc format.PageLocation, optional, isInt bool, first, end, from, to int, cps []int64, every int, d *colData) (bool, error) {
	size := int(loc.CompressedPageSize)
	if size <= 0 || size > 1<<30 {
		return false, fmt.Errorf("%w: page size %d", errPageFormat, size)
	}
	if cap(bufs.raw) < size {
		bufs.raw = make([]byte, size)
	}
	raw := bufs.raw[:size]
	if _, err := s.f.ReadAt(raw, loc.Offset); err != nil {
		return false, fmt.Errorf("storage: read segment page: %w", err)
	}
	var h pageHeader
	hl, err := h.parse(raw)
	if err != nil {
		return false, err
	}
	if h.typ != format.DataPageV2 || !h.v2 {
		return false, nil
	}
	if int(h.numRows) != end-first || h.numValues != h.numRows || h.repLen != 0 || h.numNulls < 0 || h.numNulls > h.numValues {
		return false, nil
	}
	body := raw[hl:]
	if int(h.defLen) > len(body) || int(h.compressedSize) != len(body) {
		return false, fmt.Errorf("%w: level or body length", errPageFormat)
	}
	defs, data := body[:h.defLen], body[h.defLen:]
	rows := end - first
	// vi[r] for a page with NULLs: the value index of row r (-1 if NULL).
	var present []bool
	if h.numNulls > 0 {
		if !optional {
			return false, fmt.Errorf("%w: NULLs in a required column", errPageFormat)
		}
		present = make([]bool, rows)
		if err := decodeLevels(defs, present); err != nil {
			return false, err
		}
	}
	if h.uncompressedSize-h.defLen > maxPagePlain {
		return false, nil
	}
	if h.compressed && len(data) > 0 {
		dec := zstdDecoders.Get().(*zstd.Decoder)
		out, err := dec.DecodeAll(data, bufs.plain[:0])
		zstdDecoders.Put(dec)
		if err != nil {
			return false, fmt.Errorf("storage: segment page: %w", err)
		}
		bufs.plain = out
		data = out
	}
	if len(data) != int(h.uncompressedSize)-int(h.defLen) {
		return false, fmt.Errorf("%w: %d data bytes, header says %d", errPageFormat, len(data), int(h.uncompressedSize)-int(h.defLen))
	}
	nvals := int(h.numValues - h.numNulls)
	// The value indexes [va, vb) that rows [from, to) hold.
	va, vb := from-first, to-first
	if present != nil {
		va, vb = 0, 0
		for r := 0; r < to-first; r++ {
			if r == from-first {
				va = vb
			}
			if present[r] {
				vb++
			}
		}
		for r := from - first; r < to-first; r++ {
			d.null[r+first-d.base] = !present[r]
		}
	}
	if vb > nvals {
		return false, fmt.Errorf("%w: %d values for %d rows", errPageFormat, nvals, rows)
	}
	if cap(bufs.out) < vb-va {
		bufs.out = make([]uint64, vb-va)
	}
	out := bufs.out[:vb-va]
	switch {
	case isInt && h.encoding == format.DeltaBinaryPacked:
		if err := decodeDeltaInt64(data, va, vb, bufs, out, cps, every); err != nil {
			return false, err
		}
	case h.encoding == format.Plain:
		if len(data) < nvals*8 {
			return false, fmt.Errorf("%w: short PLAIN page", errPageFormat)
		}
		for k := va; k < vb; k++ {
			out[k-va] = binary.LittleEndian.Uint64(data[k*8:])
		}
	case !isInt && h.encoding == format.ByteStreamSplit:
		if len(data) != nvals*8 {
			return false, fmt.Errorf("%w: BYTE_STREAM_SPLIT page of %d bytes for %d values", errPageFormat, len(data), nvals)
		}
		for k := va; k < vb; k++ {
			var x uint64
			for b := 0; b < 8; b++ {
				x |= uint64(data[b*nvals+k]) << (8 * b)
			}
			out[k-va] = x
		}
	default:
		return false, nil
	}
	// Decoded values land at the rows' positions: dense when the page
	// has no NULL, spread over the present rows otherwise.
	k := 0
	for r := from - first; r < to-first; r++ {
		if present != nil && !present[r] {
			continue
		}
		if isInt {
			d.i[r+first-d.base] = int64(out[k])
		} else {
			d.f[r+first-d.base] = math.Float64frombits(out[k])
		}
		k++
	}
	return true, nil
}

// decodeLevels decodes the RLE/bit-packed hybrid definition levels of a
// column whose maximum level is 1 (bit width 1) into present.
func decodeLevels(b []byte, present []bool) error {
	i := 0
	for i < len(present) {
		h, n := binary.Uvarint(b)
		if n <= 0 {
			return fmt.Errorf("%w: definition levels", errPageFormat)
		}
		b = b[n:]
		if h&1 == 0 { // RLE run: count, then the value in one byte
			count := int(h >> 1)
			if len(b) < 1 || count > len(present)-i || b[0] > 1 {
				return fmt.Errorf("%w: definition level run", errPageFormat)
			}
			v := b[0] == 1
			b = b[1:]
			for j := 0; j < count; j++ {
				present[i+j] = v
			}
			i += count
			continue
		}
		groups := int(h >> 1) // bit-packed: groups of 8 values, one byte each
		if groups > len(b) {
			return fmt.Errorf("%w: definition level bits", errPageFormat)
		}
		for g := 0; g < groups; g++ {
			for j := 0; j < 8 && i < len(present); j++ {
				present[i] = b[g]>>j&1 == 1
				i++
			}
		}
		b = b[groups:]
	}
	return nil
}

// decodeDeltaInt64 decodes values [va, vb) of a DELTA_BINARY_PACKED
// stream into out, stopping at the block holding value vb-1. cps, if not
// nil, are the stream's checkpoints (cps[k] is value (k+1)*every): decoding
// then starts at the last one at or before va, skipping the blocks before
// it by their headers.
func decodeDeltaInt64(b []byte, va, vb int, bufs *pageBufs, out []uint64, cps []int64, every int) error {
	if va >= vb {
		return nil
	}
	uv := func() (uint64, error) {
		x, n := binary.Uvarint(b)
		if n <= 0 {
			return 0, fmt.Errorf("%w: DELTA_BINARY_PACKED header", errPageFormat)
		}
		b = b[n:]
		return x, nil
	}
	blockSize, err := uv()
	if err != nil {
		return err
	}
	miniBlocks, err := uv()
	if err != nil {
		return err
	}
	total, err := uv()
	if err != nil {
		return err
	}
	zz, err := uv()
	if err != nil {
		return err
	}
	if blockSize == 0 || blockSize%128 != 0 || miniBlocks == 0 || blockSize%miniBlocks != 0 || (blockSize/miniBlocks)%32 != 0 || blockSize > 1<<16 {
		return fmt.Errorf("%w: DELTA_BINARY_PACKED block %d/%d", errPageFormat, blockSize, miniBlocks)
	}
	if uint64(vb) > total {
		return fmt.Errorf("%w: value %d of %d", errPageFormat, vb, total)
	}
	miniSize := int(blockSize / miniBlocks)
	v := int64(zz>>1) ^ -int64(zz&1)
	if va == 0 {
		out[0] = uint64(v)
	}
	idx := 1 // index of the next value
	if k := min(va/max(every, 1), len(cps)); k > 0 && every%int(blockSize) == 0 {
		// Skip the blocks before value k*every: each is a min delta, the
		// miniblocks' bit widths, then the miniblocks.
		at := k * every
		for blk := 0; blk < at/int(blockSize); blk++ {
			if _, err := uv(); err != nil {
				return err
			}
			if uint64(len(b)) < miniBlocks {
				return fmt.Errorf("%w: DELTA_BINARY_PACKED bit widths", errPageFormat)
			}
			n := 0
			for _, w := range b[:miniBlocks] {
				n += miniSize * int(w) / 8
			}
			if n > len(b)-int(miniBlocks) {
				return fmt.Errorf("%w: DELTA_BINARY_PACKED block", errPageFormat)
			}
			b = b[int(miniBlocks)+n:]
		}
		v, idx = cps[k-1], at+1
		if at == va {
			out[0] = uint64(v)
		}
	}
	var mini []int64
	if miniSize <= len(bufs.mini) {
		mini = bufs.mini[:miniSize:miniSize]
	} else {
		mini = make([]int64, miniSize)
	}
	for idx < vb {
		zz, err := uv()
		if err != nil {
			return err
		}
		minDelta := int64(zz>>1) ^ -int64(zz&1)
		if uint64(len(b)) < miniBlocks {
			return fmt.Errorf("%w: DELTA_BINARY_PACKED bit widths", errPageFormat)
		}
		widths := b[:miniBlocks]
		b = b[miniBlocks:]
		for m := 0; m < int(miniBlocks) && idx < vb; m++ {
			w := uint(widths[m])
			if w > 64 {
				return fmt.Errorf("%w: bit width %d", errPageFormat, w)
			}
			full := miniSize * int(w) / 8
			nb := full
			if nb > len(b) {
				// The last miniblock may be cut short when it holds
				// only the stream's final values.
				if min(total-uint64(idx), uint64(miniSize))*uint64(w) > 8*uint64(len(b)) {
					return fmt.Errorf("%w: DELTA_BINARY_PACKED miniblock", errPageFormat)
				}
				nb = len(b)
			}
			if w == 0 && idx+miniSize <= va {
				// A run of equal deltas before the wanted values.
				v += minDelta * int64(miniSize)
				idx += miniSize
				continue
			}
			if w > 0 {
				src := b
				if len(b) < full+unpackPadding {
					// Near the end: unpack from a zero-padded copy.
					src = append(bufs.scratch[:0], b[:nb]...)
					src = append(src, make([]byte, full-nb+unpackPadding)...)
					bufs.scratch = src
				}
				bitpack.Unpack(mini, src, w)
				b = b[nb:]
			} else {
				clear(mini)
			}
			if idx+miniSize <= va {
				var sum int64
				for _, x := range mini {
					sum += x
				}
				v += minDelta*int64(miniSize) + sum
				idx += miniSize
				continue
			}
			cnt := min(miniSize, vb-idx)
			j := 0
			for ; j < cnt && idx+j < va; j++ {
				v += minDelta + mini[j]
			}
			o := out[idx+j-va : idx+cnt-va]
			for k, x := range mini[j:cnt] {
				v += minDelta + x
				o[k] = uint64(v)
			}
			idx += cnt
		}
	}
	return nil
}

// pageHeader is the part of a Parquet PageHeader (Thrift compact
// protocol) that range reads use.
type pageHeader struct {
	typ                              format.PageType
	uncompressedSize, compressedSize int32
	v2                               bool // data_page_header_v2 present
	numValues, numNulls, numRows     int32
	encoding                         format.Encoding
	defLen, repLen                   int32
	compressed                       bool
}

// parse decodes a page header at the start of b and returns its length.
func (h *pageHeader) parse(b []byte) (int, error) {
	t := thriftReader{b: b}
	h.compressed = true
	t.readStruct(func(id int16, typ byte) bool {
		switch {
		case id == 1 && typ == thriftI32:
			h.typ = format.PageType(t.readInt())
		case id == 2 && typ == thriftI32:
			h.uncompressedSize = int32(t.readInt())
		case id == 3 && typ == thriftI32:
			h.compressedSize = int32(t.readInt())
		case id == 8 && typ == thriftStruct:
			h.v2 = true
			t.readStruct(func(id int16, typ byte) bool {
				switch {
				case id == 1 && typ == thriftI32:
					h.numValues = int32(t.readInt())
				case id == 2 && typ == thriftI32:
					h.numNulls = int32(t.readInt())
				case id == 3 && typ == thriftI32:
					h.numRows = int32(t.readInt())
				case id == 4 && typ == thriftI32:
					h.encoding = format.Encoding(t.readInt())
				case id == 5 && typ == thriftI32:
					h.defLen = int32(t.readInt())
				case id == 6 && typ == thriftI32:
					h.repLen = int32(t.readInt())
				case id == 7 && (typ == thriftTrue || typ == thriftFalse):
					h.compressed = typ == thriftTrue
				default:
					return false
				}
				return true
			})
		default:
			return false
		}
		return true
	})
	if t.err != nil {
		return 0, t.err
	}
	if h.defLen < 0 || h.repLen < 0 || h.compressedSize < 0 || h.uncompressedSize < 0 {
		return 0, fmt.Errorf("%w: negative length in page header", errPageFormat)
	}
	return t.off, nil
}

// Thrift compact protocol types.
const (
	thriftTrue   = 1
	thriftFalse  = 2
	thriftByte   = 3
	thriftI16    = 4
	thriftI32    = 5
	thriftI64    = 6
	thriftDouble = 7
	thriftBinary = 8
	thriftList   = 9
	thriftSet    = 10
	thriftMap    = 11
	thriftStruct = 12
)

// thriftReader reads the Thrift compact protocol; the first error sticks.
type thriftReader struct {
	b     []byte
	off   int
	err   error
	depth int
}

func (t *thriftReader) fail() {
	if t.err == nil {
		t.err = fmt.Errorf("%w: page header", errPageFormat)
	}
}

func (t *thriftReader) byte1() byte {
	if t.err != nil || t.off >= len(t.b) {
		t.fail()
		return 0
	}
	c := t.b[t.off]
	t.off++
	return c
}

func (t *thriftReader) uvarint() uint64 {
	if t.err != nil {
		return 0
	}
	x, n := binary.Uvarint(t.b[t.off:])
	if n <= 0 {
		t.fail()
		return 0
	}
	t.off += n
	return x
}

// readInt reads a zigzag varint (i16, i32, i64).
func (t *thriftReader) readInt() int64 {
	x := t.uvarint()
	return int64(x>>1) ^ -int64(x&1)
}

// readStruct reads fields until STOP, calling field for each; a field it
// does not read (field returns false) is skipped.
func (t *thriftReader) readStruct(field func(id int16, typ byte) bool) {
	t.depth++
	defer func() { t.depth-- }()
	if t.depth > 32 {
		t.fail()
		return
	}
	var last int16
	for t.err == nil {
		c := t.byte1()
		if c == 0 {
			return
		}
		typ := c & 0x0f
		id := last + int16(c>>4)
		if c>>4 == 0 {
			id = int16(t.readInt())
		}
		last = id
		if !field(id, typ) {
			t.skip(typ)
		}
	}
}

// skip skips one value of type typ.
func (t *thriftReader) skip(typ byte) {
	t.depth++
	defer func() { t.depth-- }()
	if t.depth > 32 {
		t.fail()
		return
	}
	switch typ {
	case thriftTrue, thriftFalse:
	case thriftByte:
		t.byte1()
	case thriftI16, thriftI32, thriftI64:
		t.uvarint()
	case thriftDouble:
		if t.off+8 > len(t.b) {
			t.fail()
			return
		}
		t.off += 8
	case thriftBinary:
		n := t.uvarint()
		if t.err == nil && n > uint64(len(t.b)-t.off) {
			t.fail()
			return
		}
		t.off += int(n)
	case thriftList, thriftSet:
		c := t.byte1()
		n := uint64(c >> 4)
		if n == 15 {
			n = t.uvarint()
		}
		et := c & 0x0f
		for i := uint64(0); i < n && t.err == nil; i++ {
			if et == thriftTrue || et == thriftFalse {
				t.byte1() // list booleans take a byte each
			} else {
				t.skip(et)
			}
		}
	case thriftMap:
		n := t.uvarint()
		if n == 0 {
			return
		}
		kv := t.byte1()
		for i := uint64(0); i < n && t.err == nil; i++ {
			for _, et := range [2]byte{kv >> 4, kv & 0x0f} {
				if et == thriftTrue || et == thriftFalse {
					t.byte1() // map booleans take a byte each
				} else {
					t.skip(et)
				}
			}
		}
	case thriftStruct:
		t.readStruct(func(int16, byte) bool { return false })
	default:
		t.fail()
	}
}
