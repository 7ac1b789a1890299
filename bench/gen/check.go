package gen

import (
	"errors"
	"fmt"
	"strings"
)

// This file holds a small, strict line-protocol reader. It exists so that the
// generator's tests and the loader's row and value counts do not depend on the
// server's parser. It checks structure (measurement, tags, fields, timestamp) and
// the syntax of each field value; it is not meant to be fast or complete.

// KV is one tag or field as it appears on a line, unescaped.
type KV struct {
	Key   string
	Value string // field values keep their type suffix or quotes, unescaped inside
}

// Line is one parsed line.
type Line struct {
	Measurement  string
	Tags         []KV
	Fields       []KV
	Timestamp    int64
	HasTimestamp bool
}

var errEmpty = errors.New("empty line")

// scanUntil returns the index of the first byte at or after i that is one of
// stops and is not escaped with a backslash, or len(b).
func scanUntil(b []byte, i int, stops string) int {
	for i < len(b) {
		c := b[i]
		if c == '\\' && i+1 < len(b) {
			i += 2
			continue
		}
		if strings.IndexByte(stops, c) >= 0 {
			return i
		}
		i++
	}
	return i
}

func unescape(b []byte) string {
	if !containsByte(b, '\\') {
		return string(b)
	}
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		if b[i] == '\\' && i+1 < len(b) {
			switch b[i+1] {
			case ',', '=', ' ', '"', '\\':
				i++
			}
		}
		out = append(out, b[i])
	}
	return string(out)
}

func containsByte(b []byte, c byte) bool {
	for _, x := range b {
		if x == c {
			return true
		}
	}
	return false
}

// Parse parses one line (without its trailing newline).
func Parse(line []byte) (Line, error) {
	var l Line
	_, err := walkCount(line, &l)
	return l, err
}

// CountFields checks one line and returns its number of fields. It allocates
// nothing.
func CountFields(line []byte) (int, error) {
	return walkCount(line, nil)
}

// walkCount checks b; when l is not nil it also fills l.
func walkCount(b []byte, l *Line) (int, error) {
	if len(b) == 0 {
		return 0, errEmpty
	}
	if b[0] == '#' {
		return 0, errors.New("comment line")
	}
	i := scanUntil(b, 0, ", ")
	if i == 0 {
		return 0, errors.New("missing measurement")
	}
	if i == len(b) {
		return 0, errors.New("missing fields")
	}
	if l != nil {
		l.Measurement = unescape(b[:i])
	}
	// Tags.
	for b[i] == ',' {
		ks := i + 1
		ke := scanUntil(b, ks, ",= ")
		if ke == ks {
			return 0, fmt.Errorf("empty tag key at byte %d", ks)
		}
		if ke == len(b) || b[ke] != '=' {
			return 0, fmt.Errorf("tag without '=' at byte %d", ks)
		}
		vs := ke + 1
		ve := scanUntil(b, vs, ", ")
		if ve == vs {
			return 0, fmt.Errorf("empty tag value at byte %d", vs)
		}
		if ve == len(b) {
			return 0, errors.New("missing fields")
		}
		if l != nil {
			l.Tags = append(l.Tags, KV{Key: unescape(b[ks:ke]), Value: unescape(b[vs:ve])})
		}
		i = ve
	}
	// b[i] == ' ': fields follow.
	i++
	n := 0
	for {
		ks := i
		ke := scanUntil(b, ks, ",= ")
		if ke == ks {
			return 0, fmt.Errorf("empty field key at byte %d", ks)
		}
		if ke == len(b) || b[ke] != '=' {
			return 0, fmt.Errorf("field without '=' at byte %d", ks)
		}
		vs := ke + 1
		var ve int
		if vs < len(b) && b[vs] == '"' {
			ve = vs + 1
			for ve < len(b) && b[ve] != '"' {
				if b[ve] == '\\' && ve+1 < len(b) {
					ve++
				}
				ve++
			}
			if ve == len(b) {
				return 0, fmt.Errorf("unterminated string at byte %d", vs)
			}
			ve++ // past the closing quote
			if l != nil {
				l.Fields = append(l.Fields, KV{Key: unescape(b[ks:ke]), Value: "\"" + unescape(b[vs+1:ve-1]) + "\""})
			}
		} else {
			ve = vs
			for ve < len(b) && b[ve] != ',' && b[ve] != ' ' {
				ve++
			}
			if !validScalar(b[vs:ve]) {
				return 0, fmt.Errorf("bad field value %q", b[vs:ve])
			}
			if l != nil {
				l.Fields = append(l.Fields, KV{Key: unescape(b[ks:ke]), Value: string(b[vs:ve])})
			}
		}
		n++
		if ve == len(b) {
			return n, nil
		}
		if b[ve] == ' ' {
			i = ve + 1
			break
		}
		i = ve + 1 // ','
	}
	// Timestamp.
	ts, ok := parseInt(b[i:])
	if !ok {
		return 0, fmt.Errorf("bad timestamp %q", b[i:])
	}
	if l != nil {
		l.Timestamp = ts
		l.HasTimestamp = true
	}
	return n, nil
}

func parseInt(b []byte) (int64, bool) {
	neg := false
	if len(b) > 0 && b[0] == '-' {
		neg = true
		b = b[1:]
	}
	if len(b) == 0 || len(b) > 19 {
		return 0, false
	}
	var v int64
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if v < 0 {
		return 0, false
	}
	if neg {
		v = -v
	}
	return v, true
}

func allDigits(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// validScalar accepts line-protocol floats, integers (i), unsigned integers (u)
// and booleans.
func validScalar(b []byte) bool {
	if len(b) == 0 {
		return false
	}
	switch string(b) {
	case "t", "T", "true", "True", "TRUE", "f", "F", "false", "False", "FALSE":
		return true
	}
	last := b[len(b)-1]
	if last == 'i' {
		d := b[:len(b)-1]
		if len(d) > 0 && (d[0] == '-' || d[0] == '+') {
			d = d[1:]
		}
		return allDigits(d)
	}
	if last == 'u' {
		return allDigits(b[:len(b)-1])
	}
	// float: [+-]? digits [. digits] [eE [+-] digits], or . digits
	i := 0
	if b[i] == '-' || b[i] == '+' {
		i++
	}
	digits := 0
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		i++
		digits++
	}
	if i < len(b) && b[i] == '.' {
		i++
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '-' || b[i] == '+') {
			i++
		}
		if !allDigits(b[i:]) {
			return false
		}
		return true
	}
	return i == len(b)
}
