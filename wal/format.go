package wal

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
)

// These constants are part of the on-disk format; see the package doc.
const (
	// PageSize is the size of a page. Fragments never cross a page boundary.
	PageSize = 32 * 1024
	// headerSize is the size of a fragment header: type, length, CRC-32C.
	headerSize = 7
	// formatVersion is stored in the high four bits of every type byte.
	formatVersion = 1
	// maxFragmentPayload is the largest payload of one fragment.
	maxFragmentPayload = PageSize - headerSize
)

// fragKind is the low four bits of a fragment's type byte.
type fragKind uint8

const (
	fragFull   fragKind = 1 // a whole record
	fragFirst  fragKind = 2 // the first part of a record
	fragMiddle fragKind = 3 // a middle part of a record
	fragLast   fragKind = 4 // the last part of a record
)

// padByte is the type byte that starts zero padding to the end of the page.
const padByte = 0x00

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// typeByte returns the type byte of a fragment of kind k in this version.
func typeByte(k fragKind) byte { return formatVersion<<4 | byte(k) }

// parseTypeByte splits a non-padding type byte and checks it.
func parseTypeByte(b byte) (fragKind, error) {
	if v := b >> 4; v != formatVersion {
		return 0, fmt.Errorf("unknown format version %d (type byte %#02x)", v, b)
	}
	k := fragKind(b & 0x0f)
	if k < fragFull || k > fragLast {
		return 0, fmt.Errorf("unknown fragment kind %d (type byte %#02x)", k, b)
	}
	return k, nil
}

// fragmentCRC returns the checksum of a fragment: over the type byte, the
// two length bytes and the payload.
func fragmentCRC(hdr []byte, payload []byte) uint32 {
	c := crc32.Update(0, castagnoli, hdr[:3])
	return crc32.Update(c, castagnoli, payload)
}

// appendFragment appends one fragment to dst.
func appendFragment(dst []byte, k fragKind, payload []byte) []byte {
	var hdr [headerSize]byte
	hdr[0] = typeByte(k)
	binary.BigEndian.PutUint16(hdr[1:3], uint16(len(payload)))
	binary.BigEndian.PutUint32(hdr[3:7], fragmentCRC(hdr[:], payload))
	dst = append(dst, hdr[:]...)
	return append(dst, payload...)
}

// appendRecord appends rec, framed as fragments, to dst, which continues a
// segment at byte offset off. It returns dst and the new offset.
func appendRecord(dst []byte, off int64, rec []byte) ([]byte, int64) {
	first := true
	for {
		rem := PageSize - int(off%PageSize)
		if rem < headerSize {
			dst = append(dst, make([]byte, rem)...)
			off += int64(rem)
			continue
		}
		n := min(rem-headerSize, len(rec))
		last := n == len(rec)
		var k fragKind
		switch {
		case first && last:
			k = fragFull
		case first:
			k = fragFirst
		case last:
			k = fragLast
		default:
			k = fragMiddle
		}
		dst = appendFragment(dst, k, rec[:n])
		off += int64(headerSize + n)
		rec = rec[n:]
		first = false
		if last {
			return dst, off
		}
	}
}

// encodedSize returns how many bytes appendRecord adds for a record of n
// bytes written at segment offset off, padding included.
func encodedSize(off int64, n int) int64 {
	start := off
	for {
		rem := PageSize - int(off%PageSize)
		if rem < headerSize {
			off += int64(rem)
			continue
		}
		take := min(rem-headerSize, n)
		off += int64(headerSize + take)
		n -= take
		if n == 0 {
			return off - start
		}
	}
}
