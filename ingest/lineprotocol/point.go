package lineprotocol

import (
	"errors"
	"fmt"
	"strconv"
)

// Precision is the unit of the timestamps in a request body, as the number of
// nanoseconds per unit. The zero value means Nanosecond.
type Precision int64

// The precisions InfluxDB accepts (v1 and v2 names are both understood by
// ParsePrecision).
const (
	Nanosecond  Precision = 1
	Microsecond Precision = 1e3
	Millisecond Precision = 1e6
	Second      Precision = 1e9
	Minute      Precision = 60e9
	Hour        Precision = 3600e9
)

// ErrInvalidPrecision is returned, wrapped, by ParsePrecision.
var ErrInvalidPrecision = errors.New("lineprotocol: invalid precision")

// ParsePrecision parses the precision query parameter of a write request.
// It accepts the InfluxDB v2 names "ns", "us", "ms", "s", the v1 names "n",
// "u", "ms", "s", "m", "h", and "µ", "µs" (micro sign or Greek mu) for
// microseconds. The empty string means nanoseconds. Anything else returns an
// error wrapping ErrInvalidPrecision.
func ParsePrecision(s string) (Precision, error) {
	switch s {
	case "", "n", "ns":
		return Nanosecond, nil
	case "u", "us", "µ", "µs", "μ", "μs": // U+00B5 micro sign and U+03BC Greek mu
		return Microsecond, nil
	case "ms":
		return Millisecond, nil
	case "s":
		return Second, nil
	case "m":
		return Minute, nil
	case "h":
		return Hour, nil
	}
	return 0, fmt.Errorf("%w %q", ErrInvalidPrecision, s)
}

// String returns the v2 name of p ("ns", "us", "ms", "s") or the v1 name for
// minutes and hours ("m", "h"); other values print as a number of nanoseconds.
func (p Precision) String() string {
	switch p {
	case 0, Nanosecond:
		return "ns"
	case Microsecond:
		return "us"
	case Millisecond:
		return "ms"
	case Second:
		return "s"
	case Minute:
		return "m"
	case Hour:
		return "h"
	}
	return strconv.FormatInt(int64(p), 10) + "ns"
}

// FieldType is the type of a field value, decided by its syntax.
type FieldType uint8

// Field types. The zero FieldType is not a valid type.
const (
	Float  FieldType = iota + 1 // 1.5, -2, 1e-3: a number without suffix
	Int                         // 12i: int64
	Uint                        // 12u: uint64
	String                      // "text"
	Bool                        // t, true, F, FALSE, ...
)

// String returns the lower-case name of t.
func (t FieldType) String() string {
	switch t {
	case Float:
		return "float"
	case Int:
		return "integer"
	case Uint:
		return "unsigned"
	case String:
		return "string"
	case Bool:
		return "boolean"
	}
	return "FieldType(" + strconv.Itoa(int(t)) + ")"
}

// Tag is one key=value pair of a point's tag set, unescaped.
type Tag struct {
	Key, Value []byte
}

// Field is one key=value pair of a point's field set, unescaped. Type says
// which one of F, I, U, S or B holds the value; the others are zero.
type Field struct {
	Key  []byte
	Type FieldType
	F    float64
	I    int64
	U    uint64
	S    []byte
	B    bool
}

// LineError describes one malformed line of a request body. It is the value
// Parser.Err returns, and callers can keep it: it does not change when the
// parser moves on. Raw aliases the buffer given to Parser.Reset.
type LineError struct {
	Line   int    // 1-based number of the line in the buffer where the bad point starts
	Reason string // what is wrong, in InfluxDB's words, e.g. "missing fields"
	Raw    []byte // the line as received, without leading blanks and line ending
}

// maxRawInError is how much of a bad line LineError.Error quotes.
const maxRawInError = 1024

// Error formats e as InfluxDB does, prefixed with the line number:
//
//	line 3: unable to parse 'cpu,host=a': missing fields
//
// A raw line longer than 1 KiB is cut and ends in "...".
func (e *LineError) Error() string {
	raw := e.Raw
	suffix := ""
	if len(raw) > maxRawInError {
		raw, suffix = raw[:maxRawInError], "..."
	}
	return fmt.Sprintf("line %d: unable to parse '%s%s': %s", e.Line, raw, suffix, e.Reason)
}
