package lineprotocol

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// ErrUnencodable is returned, wrapped with the reason, by AppendPoint for a
// point that line protocol cannot express or that Parser would reject.
var ErrUnencodable = errors.New("lineprotocol: point cannot be encoded")

// AppendPoint appends one line of line protocol for the point to dst,
// terminated by '\n', and returns the extended buffer. Names and values are
// escaped as needed; tags are written in the order given (sort them by key
// for the canonical form) and must have distinct keys; t is written in
// nanoseconds. Parser reads the line back as the same point.
//
// AppendPoint returns dst unchanged and an error wrapping ErrUnencodable if
// the point has no fields, an empty measurement, tag key, tag value or field
// key, a measurement that starts with '#' or a tab, a newline anywhere but
// in a string value, a tag or field named "time", a NaN or infinite float,
// or a field of unknown type.
func AppendPoint(dst, measurement []byte, tags []Tag, fields []Field, t int64) ([]byte, error) {
	if err := checkPoint(measurement, tags, fields); err != nil {
		return dst, err
	}
	dst = appendEscaped(dst, measurement, &measurementSpecial)
	for _, tag := range tags {
		dst = append(dst, ',')
		dst = appendEscaped(dst, tag.Key, &keySpecial)
		dst = append(dst, '=')
		dst = appendEscaped(dst, tag.Value, &keySpecial)
	}
	for i, f := range fields {
		if i == 0 {
			dst = append(dst, ' ')
		} else {
			dst = append(dst, ',')
		}
		dst = appendEscaped(dst, f.Key, &keySpecial)
		dst = append(dst, '=')
		switch f.Type {
		case Float:
			dst = strconv.AppendFloat(dst, f.F, 'g', -1, 64)
		case Int:
			dst = strconv.AppendInt(dst, f.I, 10)
			dst = append(dst, 'i')
		case Uint:
			dst = strconv.AppendUint(dst, f.U, 10)
			dst = append(dst, 'u')
		case String:
			dst = append(dst, '"')
			for _, c := range f.S {
				if c == '"' || c == '\\' {
					dst = append(dst, '\\')
				}
				dst = append(dst, c)
			}
			dst = append(dst, '"')
		case Bool:
			dst = strconv.AppendBool(dst, f.B)
		}
	}
	dst = append(dst, ' ')
	dst = strconv.AppendInt(dst, t, 10)
	return append(dst, '\n'), nil
}

// appendEscaped appends s with a backslash before each special character.
// A backslash is escaped only where it would otherwise escape what follows
// it (before a special character or another backslash, or at the end), so
// that "C:\dir" stays readable and reads the same in InfluxDB 1.x.
func appendEscaped(dst, s []byte, special *[256]bool) []byte {
	for i, c := range s {
		if c == '\\' {
			if i+1 == len(s) || special[s[i+1]] {
				dst = append(dst, '\\')
			}
		} else if special[c] {
			dst = append(dst, '\\')
		}
		dst = append(dst, c)
	}
	return dst
}

func checkPoint(measurement []byte, tags []Tag, fields []Field) error {
	switch {
	case len(measurement) == 0:
		return fmt.Errorf("%w: empty measurement", ErrUnencodable)
	case measurement[0] == '#' || measurement[0] == '\t':
		return fmt.Errorf("%w: measurement %q starts with %q", ErrUnencodable, measurement, measurement[0])
	case hasNewline(measurement):
		return fmt.Errorf("%w: newline in measurement %q", ErrUnencodable, measurement)
	case len(fields) == 0:
		return fmt.Errorf("%w: no fields", ErrUnencodable)
	}
	for _, tag := range tags {
		switch {
		case len(tag.Key) == 0 || len(tag.Value) == 0:
			return fmt.Errorf("%w: empty tag key or value (%q=%q)", ErrUnencodable, tag.Key, tag.Value)
		case string(tag.Key) == "time":
			return fmt.Errorf("%w: tag key \"time\"", ErrUnencodable)
		case hasNewline(tag.Key) || hasNewline(tag.Value):
			return fmt.Errorf("%w: newline in tag %q=%q", ErrUnencodable, tag.Key, tag.Value)
		}
	}
	for _, f := range fields {
		switch {
		case len(f.Key) == 0:
			return fmt.Errorf("%w: empty field key", ErrUnencodable)
		case string(f.Key) == "time":
			return fmt.Errorf("%w: field key \"time\"", ErrUnencodable)
		case hasNewline(f.Key):
			return fmt.Errorf("%w: newline in field key %q", ErrUnencodable, f.Key)
		case f.Type == Float && (math.IsNaN(f.F) || math.IsInf(f.F, 0)):
			return fmt.Errorf("%w: field %q is %v", ErrUnencodable, f.Key, f.F)
		case f.Type < Float || f.Type > Bool:
			return fmt.Errorf("%w: field %q has type %v", ErrUnencodable, f.Key, f.Type)
		}
	}
	return nil
}

func hasNewline(b []byte) bool {
	for _, c := range b {
		if c == '\n' {
			return true
		}
	}
	return false
}
