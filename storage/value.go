package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/fineod/fineod/schema"
)

// A point value is the point's physical fields, sorted by field id:
//
//	repeated: uvarint(field id << 3 | type) | value
//
// where value is 8 bytes little-endian for float (IEEE 754 bits), integer
// and unsigned; uvarint length + bytes for string; one byte for boolean.
// A second write of the same point is stored as a Pebble merge operand and
// merged field by field, the newer operand winning (last write wins).
// These constants are part of the on-disk format.

// FieldValue is one decoded field of a point.
type FieldValue struct {
	ID   uint32
	Type schema.Type
	F    float64
	I    int64 // TypeInt, and TypeUint's bits
	S    []byte
	B    bool
}

// Value returns the field as a Go value: float64, int64, uint64, string or bool.
func (f FieldValue) Value() any {
	switch f.Type {
	case schema.TypeFloat:
		return f.F
	case schema.TypeInt:
		return f.I
	case schema.TypeUint:
		return uint64(f.I)
	case schema.TypeString:
		return string(f.S)
	case schema.TypeBool:
		return f.B
	}
	return nil
}

var errBadValue = errors.New("storage: corrupt point value")

func appendField(dst []byte, id uint32, typ schema.Type) []byte {
	return binary.AppendUvarint(dst, uint64(id)<<3|uint64(typ))
}

func appendFloat(dst []byte, id uint32, v float64) []byte {
	dst = appendField(dst, id, schema.TypeFloat)
	return binary.LittleEndian.AppendUint64(dst, math.Float64bits(v))
}

func appendInt(dst []byte, id uint32, typ schema.Type, v int64) []byte {
	dst = appendField(dst, id, typ)
	return binary.LittleEndian.AppendUint64(dst, uint64(v))
}

func appendString(dst []byte, id uint32, v []byte) []byte {
	dst = appendField(dst, id, schema.TypeString)
	dst = binary.AppendUvarint(dst, uint64(len(v)))
	return append(dst, v...)
}

func appendBool(dst []byte, id uint32, v bool) []byte {
	dst = appendField(dst, id, schema.TypeBool)
	if v {
		return append(dst, 1)
	}
	return append(dst, 0)
}

// decodeField decodes the field at the start of b and returns the rest.
// f.S aliases b.
func decodeField(b []byte, f *FieldValue) ([]byte, error) {
	h, n := binary.Uvarint(b)
	if n <= 0 {
		return nil, errBadValue
	}
	b = b[n:]
	f.ID, f.Type = uint32(h>>3), schema.Type(h&7)
	switch f.Type {
	case schema.TypeFloat, schema.TypeInt, schema.TypeUint:
		if len(b) < 8 {
			return nil, errBadValue
		}
		u := binary.LittleEndian.Uint64(b)
		if f.Type == schema.TypeFloat {
			f.F = math.Float64frombits(u)
		} else {
			f.I = int64(u)
		}
		return b[8:], nil
	case schema.TypeString:
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return nil, errBadValue
		}
		f.S = b[n : n+int(l)]
		return b[n+int(l):], nil
	case schema.TypeBool:
		if len(b) < 1 {
			return nil, errBadValue
		}
		f.B = b[0] != 0
		return b[1:], nil
	}
	return nil, fmt.Errorf("%w: unknown type %d", errBadValue, f.Type)
}

// DecodeValue appends the fields of an encoded point value to dst.
// String values alias v.
func DecodeValue(v []byte, dst []FieldValue) ([]FieldValue, error) {
	var err error
	for len(v) > 0 {
		var f FieldValue
		if v, err = decodeField(v, &f); err != nil {
			return dst, err
		}
		dst = append(dst, f)
	}
	return dst, nil
}

// fieldSpan is one encoded field inside a value.
type fieldSpan struct {
	id  uint32
	enc []byte
}

func splitFields(v []byte, dst []fieldSpan) ([]fieldSpan, error) {
	for len(v) > 0 {
		var f FieldValue
		rest, err := decodeField(v, &f)
		if err != nil {
			return dst, err
		}
		dst = append(dst, fieldSpan{f.ID, v[:len(v)-len(rest)]})
		v = rest
	}
	return dst, nil
}

// mergeValues merges two encoded point values; fields of newer win.
func mergeValues(dst, older, newer []byte) ([]byte, error) {
	var bufA, bufB [16]fieldSpan
	a, err := splitFields(older, bufA[:0])
	if err != nil {
		return nil, err
	}
	b, err := splitFields(newer, bufB[:0])
	if err != nil {
		return nil, err
	}
	// Both are sorted by id (appendPoint writes them sorted); merge.
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		switch {
		case j == len(b) || (i < len(a) && a[i].id < b[j].id):
			dst = append(dst, a[i].enc...)
			i++
		case i == len(a) || b[j].id < a[i].id:
			dst = append(dst, b[j].enc...)
			j++
		default: // same field: newer wins
			dst = append(dst, b[j].enc...)
			i++
			j++
		}
	}
	return dst, nil
}

// pointMerger is the Pebble merge operator for point values. Reads of a
// point stored as merge operands go through it, so its mergers are pooled:
// Finish hands back the merger as the io.Closer that returns it (and its
// buffers) to the pool once Pebble is done with the value.
var pointMerger = &pebble.Merger{
	Name: "fineo.point.v1",
	Merge: func(key, value []byte) (pebble.ValueMerger, error) {
		m := mergerPool.Get().(*valueMerger)
		m.v = append(m.v[:0], value...)
		return m, nil
	},
}

var mergerPool = sync.Pool{New: func() any { return new(valueMerger) }}

// valueMerger merges operands into v; spare is scratch for the next merge.
type valueMerger struct{ v, spare []byte }

func (m *valueMerger) MergeNewer(value []byte) error {
	v, err := mergeValues(m.spare[:0], m.v, value)
	m.v, m.spare = v, m.v
	return err
}

func (m *valueMerger) MergeOlder(value []byte) error {
	v, err := mergeValues(m.spare[:0], value, m.v)
	m.v, m.spare = v, m.v
	return err
}

func (m *valueMerger) Finish(includesBase bool) ([]byte, io.Closer, error) {
	return m.v, m, nil
}

// Close returns the merger to the pool; the value Finish returned is no
// longer used.
func (m *valueMerger) Close() error {
	if cap(m.v) <= 64<<10 {
		mergerPool.Put(m)
	}
	return nil
}

// NextField splits the first field off an encoded point value without
// decoding it: its id, type and raw payload (8 little-endian bytes for
// numbers, the bytes of a string, one byte for a boolean). Readers that
// need a few fields of many points use it to skip the others cheaply.
func NextField(v []byte) (id uint32, typ schema.Type, payload, rest []byte, err error) {
	h, n := binary.Uvarint(v)
	if n <= 0 {
		return 0, 0, nil, nil, errBadValue
	}
	v = v[n:]
	id, typ = uint32(h>>3), schema.Type(h&7)
	switch typ {
	case schema.TypeFloat, schema.TypeInt, schema.TypeUint:
		if len(v) < 8 {
			return 0, 0, nil, nil, errBadValue
		}
		return id, typ, v[:8], v[8:], nil
	case schema.TypeString:
		l, n := binary.Uvarint(v)
		if n <= 0 || uint64(len(v)-n) < l {
			return 0, 0, nil, nil, errBadValue
		}
		return id, typ, v[n : n+int(l)], v[n+int(l):], nil
	case schema.TypeBool:
		if len(v) < 1 {
			return 0, 0, nil, nil, errBadValue
		}
		return id, typ, v[:1], v[1:], nil
	}
	return 0, 0, nil, nil, fmt.Errorf("%w: unknown type %d", errBadValue, typ)
}

// FieldFromPayload decodes a payload returned by NextField.
func FieldFromPayload(id uint32, typ schema.Type, payload []byte) FieldValue {
	f := FieldValue{ID: id, Type: typ}
	switch typ {
	case schema.TypeFloat:
		f.F = math.Float64frombits(binary.LittleEndian.Uint64(payload))
	case schema.TypeInt, schema.TypeUint:
		f.I = int64(binary.LittleEndian.Uint64(payload))
	case schema.TypeString:
		f.S = payload
	case schema.TypeBool:
		f.B = payload[0] != 0
	}
	return f
}
