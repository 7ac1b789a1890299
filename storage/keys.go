package storage

import "encoding/binary"

// Row store key layout. Every key starts with a one-byte keyspace prefix.
// These constants are part of the on-disk format.
//
//	meta     0x00 | name                                              -> value
//	point    0x01 | tenant u32 | table u32 | series u64 | time u64    -> point value (value.go)
//	series   0x02 | tenant u32 | table u32 | tag key \0 value \0 ...  -> series u64
//	seriesid 0x03 | tenant u32 | table u32 | series u64               -> tag key \0 value \0 ...
//	tagindex 0x04 | tenant u32 | table u32 | key \0 value \0 | series u64 -> (empty)
//	errors   0x05 | tenant u32 | time u64 | log index u64 | seq u32   -> error row (JSON)
//	manifest 0x06 | tenant u32 | table u32 | day u32 | segment id u64 -> segment meta (manifest.go)
//	meta     0x00 | "nextsegment"                                    -> next segment id u64
//
// Integers are big-endian; times are int64 nanoseconds with the sign bit
// flipped so that byte order is time order.
const (
	prefixMeta     byte = 0x00
	prefixPoint    byte = 0x01
	prefixSeries   byte = 0x02
	prefixSeriesID byte = 0x03
	prefixTagIndex byte = 0x04
	prefixErrors   byte = 0x05
)

// Meta keys.
var (
	keyAppliedIndex = []byte{prefixMeta, 'a', 'p', 'p', 'l', 'i', 'e', 'd'}
	keyCatalog      = []byte{prefixMeta, 'c', 'a', 't', 'a', 'l', 'o', 'g'}
	keyNextSeries   = []byte{prefixMeta, 's', 'e', 'r', 'i', 'e', 's'}
)

const pointKeyLen = 1 + 4 + 4 + 8 + 8

func encodeTime(t int64) uint64 { return uint64(t) ^ (1 << 63) }
func decodeTime(u uint64) int64 { return int64(u ^ (1 << 63)) }

func appendTablePrefix(dst []byte, p byte, tenant, table uint32) []byte {
	dst = append(dst, p)
	dst = binary.BigEndian.AppendUint32(dst, tenant)
	return binary.BigEndian.AppendUint32(dst, table)
}

func putPointKey(dst []byte, tenant, table uint32, series uint64, t int64) {
	dst[0] = prefixPoint
	binary.BigEndian.PutUint32(dst[1:], tenant)
	binary.BigEndian.PutUint32(dst[5:], table)
	binary.BigEndian.PutUint64(dst[9:], series)
	binary.BigEndian.PutUint64(dst[17:], encodeTime(t))
}

func appendPointKey(dst []byte, tenant, table uint32, series uint64, t int64) []byte {
	dst = appendTablePrefix(dst, prefixPoint, tenant, table)
	dst = binary.BigEndian.AppendUint64(dst, series)
	return binary.BigEndian.AppendUint64(dst, encodeTime(t))
}

func appendSeriesIDKey(dst []byte, tenant, table uint32, series uint64) []byte {
	dst = appendTablePrefix(dst, prefixSeriesID, tenant, table)
	return binary.BigEndian.AppendUint64(dst, series)
}

// appendTagString appends tags (key, value, key, value...) as key\0value\0...
func appendTagString(dst []byte, tags []string) []byte {
	for _, s := range tags {
		dst = append(dst, s...)
		dst = append(dst, 0)
	}
	return dst
}

// parseTagString splits key\0value\0... into key, value, ...
func parseTagString(b []byte) []string {
	var out []string
	start := 0
	for i, c := range b {
		if c == 0 {
			out = append(out, string(b[start:i]))
			start = i + 1
		}
	}
	return out
}

// prefixEnd returns the smallest key greater than every key with prefix p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// TagString encodes a series' tags (key, value, ... sorted by key) as the
// row store and segments order series: SegmentRows.TagKey returns the same
// encoding, and series sort by it.
func TagString(tags []string) string { return string(appendTagString(nil, tags)) }
