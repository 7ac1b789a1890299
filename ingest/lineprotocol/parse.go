package lineprotocol

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strconv"
	"unsafe"
)

// Reasons for rejecting a line. They are InfluxDB 1.x's words where InfluxDB
// has specific ones. A few reasons are built with fmt where they name the
// offending value.
const (
	reasonMissingMeasurement = "missing measurement"
	reasonMissingTagKey      = "missing tag key"
	reasonMissingTagValue    = "missing tag value"
	reasonInvalidTagFormat   = "invalid tag format"
	reasonDuplicateTags      = "duplicate tags"
	reasonMissingFields      = "missing fields"
	reasonMissingFieldKey    = "missing field key"
	reasonMissingFieldValue  = "missing field value"
	reasonInvalidFieldFormat = "invalid field format"
	reasonUnbalancedQuotes   = "unbalanced quotes"
	reasonInvalidNumber      = "invalid number"
	reasonInvalidBoolean     = "invalid boolean"
	reasonBadTimestamp       = "bad timestamp"
	reasonTimeOutOfRange     = "time outside range"
	reasonTextAfterTimestamp = "unexpected text after timestamp"
)

// Characters that a backslash escapes in each kind of token. A backslash
// before any other character is a literal backslash.
var valueStop = [256]bool{',': true, ' ': true} // ends a number or boolean

// scanToken returns the index of the first byte at or after i that is in
// stop and not escaped by a backslash (len(line) if none), and whether it
// passed a backslash. Every stop table holds the backslash; the special
// tables below double as stop tables.
func scanToken(line []byte, i int, stop *[256]bool) (int, bool) {
	esc := false
	for {
		for i < len(line) && !stop[line[i]] {
			i++
		}
		if i >= len(line) {
			return len(line), esc
		}
		if line[i] != '\\' {
			return i, esc
		}
		esc = true
		i += 2
	}
}

// Characters that a backslash escapes in each kind of token (and so must
// be escaped when written). A backslash before any other character is a
// literal backslash.
var (
	measurementSpecial = [256]bool{',': true, ' ': true, '\\': true}
	keySpecial         = [256]bool{',': true, '=': true, ' ': true, '\\': true}
	stringSpecial      = [256]bool{'"': true, '\\': true}
)

var timeKey = []byte("time")

// parseLine parses one line (no leading blanks, no line ending) into p and
// returns "" or the reason the line is malformed.
func (p *Parser) parseLine(line []byte) string {
	n := len(line)

	// Measurement: up to an unescaped ',' (tags follow) or ' ' (fields follow).
	i, esc := scanToken(line, 0, &measurementSpecial)
	if i == 0 {
		return reasonMissingMeasurement // the line starts with ','
	}
	p.measurement = p.token(line[:i], esc, &measurementSpecial)
	if i == n {
		return reasonMissingFields
	}

	// Tag set.
	if line[i] == ',' {
		for {
			i++ // skip ','
			start := i
			i, esc = scanToken(line, i, &keySpecial)
			if i == start {
				return reasonMissingTagKey
			}
			if i == n || line[i] != '=' {
				return reasonMissingTagValue
			}
			key := p.token(line[start:i], esc, &keySpecial)
			if bytes.Equal(key, timeKey) {
				return fmt.Sprintf("invalid tag key: input tag \"time\" on measurement %q is invalid", p.measurement)
			}

			i++ // skip '='
			start = i
			i, esc = scanToken(line, i, &keySpecial)
			if i < n && line[i] == '=' {
				return reasonInvalidTagFormat
			}
			if i == start {
				return reasonMissingTagValue
			}
			p.tags = append(p.tags, Tag{Key: key, Value: p.token(line[start:i], esc, &keySpecial)})
			if i == n {
				return reasonMissingFields
			}
			if line[i] == ' ' {
				break
			}
		}
		if !sortTags(p.tags) {
			return reasonDuplicateTags
		}
	}

	// Field set, after one or more spaces.
	for i < n && line[i] == ' ' {
		i++
	}
	if i == n {
		return reasonMissingFields
	}
	for {
		start := i
		i, esc = scanToken(line, i, &keySpecial)
		if i == n || line[i] != '=' {
			return reasonInvalidFieldFormat // a key without '=value'
		}
		if i == start {
			return reasonMissingFieldKey
		}
		f := Field{Key: p.token(line[start:i], esc, &keySpecial)}
		if bytes.Equal(f.Key, timeKey) {
			return fmt.Sprintf("invalid field name: input field \"time\" on measurement %q is invalid", p.measurement)
		}

		i++ // skip '='
		if i == n || line[i] == ',' || line[i] == ' ' {
			return reasonMissingFieldValue
		}
		if line[i] == '"' {
			i++
			start = i
			i, esc = scanToken(line, i, &stringSpecial)
			if i >= n {
				return reasonUnbalancedQuotes
			}
			f.Type = String
			f.S = p.token(line[start:i], esc, &stringSpecial)
			i++ // skip '"'
			if i < n && line[i] != ',' && line[i] != ' ' {
				return reasonInvalidFieldFormat
			}
		} else {
			start = i
			for i < n && !valueStop[line[i]] {
				i++
			}
			if reason := parseValue(line[start:i], &f); reason != "" {
				return reason
			}
		}
		p.fields = append(p.fields, f)
		if i == n || line[i] == ' ' {
			break
		}
		i++ // skip ','
	}
	p.dedupFields()

	// Optional timestamp, after one or more spaces; then only spaces.
	for i < n && line[i] == ' ' {
		i++
	}
	if i == n {
		p.time = p.defaultTime
		return ""
	}
	start := i
	for i < n && line[i] != ' ' {
		i++
	}
	t, reason := parseTime(line[start:i], p.prec)
	if reason != "" {
		return reason
	}
	for i < n && line[i] == ' ' {
		i++
	}
	if i != n {
		return reasonTextAfterTimestamp
	}
	p.time = t
	return ""
}

// token returns raw as a key or value: raw itself (capacity-limited so that
// appending to it cannot overwrite the buffer) if esc is false, or else raw
// unescaped into p.scratch.
func (p *Parser) token(raw []byte, esc bool, special *[256]bool) []byte {
	if !esc {
		return raw[:len(raw):len(raw)]
	}
	start := len(p.scratch)
	for j := 0; j < len(raw); j++ {
		c := raw[j]
		if c == '\\' && j+1 < len(raw) && special[raw[j+1]] {
			j++
			c = raw[j]
		}
		p.scratch = append(p.scratch, c)
	}
	return p.scratch[start:len(p.scratch):len(p.scratch)]
}

// parseValue parses an unquoted field value: a number or a boolean.
func parseValue(v []byte, f *Field) string {
	switch c := v[0]; {
	case c >= '0' && c <= '9', c == '-', c == '.', c == '+':
		return parseNumber(v, f)
	case c == 'N' || c == 'n':
		return reasonInvalidNumber // NaN is not a value, as in InfluxDB
	}
	switch string(v) {
	case "t", "T", "true", "True", "TRUE":
		f.Type, f.B = Bool, true
		return ""
	case "f", "F", "false", "False", "FALSE":
		f.Type, f.B = Bool, false
		return ""
	}
	return reasonInvalidBoolean
}

// parseNumber parses v as an integer (suffix i), an unsigned integer (suffix
// u) or a float (no suffix; decimal digits, one '.', an optional exponent).
func parseNumber(v []byte, f *Field) string {
	last := v[len(v)-1]
	if last == 'i' || last == 'u' {
		digits := v[:len(v)-1]
		neg := len(digits) > 0 && digits[0] == '-'
		if neg {
			digits = digits[1:]
		}
		if len(digits) == 0 {
			return reasonInvalidNumber
		}
		for _, c := range digits {
			if c < '0' || c > '9' {
				return reasonInvalidNumber
			}
		}
		if last == 'u' {
			if neg {
				return reasonInvalidNumber
			}
			if len(digits) < 20 {
				f.Type, f.U = Uint, smallUint(digits)
				return ""
			}
			u, err := strconv.ParseUint(unsafeString(digits), 10, 64)
			if err != nil {
				return fmt.Sprintf("unable to parse unsigned %s: value out of range", digits)
			}
			f.Type, f.U = Uint, u
			return ""
		}
		if len(digits) < 19 {
			x := int64(smallUint(digits))
			if neg {
				x = -x
			}
			f.Type, f.I = Int, x
			return ""
		}
		x, err := strconv.ParseInt(unsafeString(v[:len(v)-1]), 10, 64)
		if err != nil {
			return fmt.Sprintf("unable to parse integer %s: value out of range", v[:len(v)-1])
		}
		f.Type, f.I = Int, x
		return ""
	}

	// Float. Restrict the alphabet first: strconv.ParseFloat also accepts
	// hexadecimal, underscores, "Inf" and "NaN", which line protocol does not.
	digits := 0
	for j, c := range v {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' || c == 'e' || c == 'E':
		case c == '-':
			if j > 0 && v[j-1] != 'e' && v[j-1] != 'E' {
				return reasonInvalidNumber
			}
		case c == '+':
			if j == 0 || (v[j-1] != 'e' && v[j-1] != 'E') {
				return reasonInvalidNumber
			}
		default:
			return reasonInvalidNumber
		}
	}
	if digits == 0 {
		return reasonInvalidNumber
	}
	x, err := strconv.ParseFloat(unsafeString(v), 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return fmt.Sprintf("unable to parse float %s: value out of range", v)
		}
		return reasonInvalidNumber
	}
	f.Type, f.F = Float, x
	return ""
}

// smallUint converts at most 19 decimal digits; it cannot overflow.
func smallUint(digits []byte) uint64 {
	var x uint64
	for _, c := range digits {
		x = x*10 + uint64(c-'0')
	}
	return x
}

// parseTime parses a timestamp in units of prec and returns nanoseconds.
func parseTime(v []byte, prec Precision) (int64, string) {
	digits := v
	neg := digits[0] == '-'
	if neg {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		return 0, reasonBadTimestamp
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, reasonBadTimestamp
		}
	}
	if len(digits) > 19 {
		return 0, reasonTimeOutOfRange
	}
	u := smallUint(digits) // 19 digits fit in a uint64
	var t int64
	switch {
	case !neg && u <= math.MaxInt64:
		t = int64(u)
	case neg && u <= 1<<63:
		t = int64(-u) // wraps to MinInt64 for 1<<63
	default:
		return 0, reasonTimeOutOfRange
	}
	if prec > 1 {
		if t > math.MaxInt64/int64(prec) || t < math.MinInt64/int64(prec) {
			return 0, reasonTimeOutOfRange
		}
		t *= int64(prec)
	}
	return t, ""
}

// sortTags sorts tags by key and reports whether the keys are unique.
func sortTags(tags []Tag) bool {
	if len(tags) <= 32 {
		for i := 1; i < len(tags); i++ {
			for j := i; j > 0 && compareKeys(tags[j].Key, tags[j-1].Key) < 0; j-- {
				tags[j], tags[j-1] = tags[j-1], tags[j]
			}
		}
	} else {
		slices.SortFunc(tags, func(a, b Tag) int { return bytes.Compare(a.Key, b.Key) })
	}
	for i := 1; i < len(tags); i++ {
		if bytes.Equal(tags[i].Key, tags[i-1].Key) {
			return false
		}
	}
	return true
}

// compareKeys is bytes.Compare for non-empty keys, faster when the first
// bytes differ, as they mostly do among the tag keys of a line.
func compareKeys(a, b []byte) int {
	if a[0] != b[0] {
		return int(a[0]) - int(b[0])
	}
	return bytes.Compare(a, b)
}

// dedupFields removes every field whose key appears again later in the line,
// so that the last value of a key wins, as it does in InfluxDB.
func (p *Parser) dedupFields() {
	fields := p.fields
	if len(fields) < 2 {
		return
	}
	if len(fields) > 64 {
		p.dedupFieldsSorted()
		return
	}
	// Compare cheap fingerprints first, and keys only when they match.
	var fpArray [64]uint64
	fps := fpArray[:len(fields)]
	for i, f := range fields {
		fps[i] = fingerprint(f.Key)
	}
	out := 0
	for i := range fields {
		dup := false
		for j := i + 1; j < len(fps); j++ {
			if fps[j] == fps[i] && bytes.Equal(fields[j].Key, fields[i].Key) {
				dup = true
				break
			}
		}
		if !dup {
			if out != i {
				fields[out] = fields[i]
			}
			out++
		}
	}
	p.fields = fields[:out]
}

// dedupFieldsSorted is dedupFields for long field sets: O(n log n).
func (p *Parser) dedupFieldsSorted() {
	fields := p.fields
	order := p.order[:0]
	for i := range fields {
		order = append(order, int32(i))
	}
	p.order = order
	slices.SortStableFunc(order, func(a, b int32) int { return bytes.Compare(fields[a].Key, fields[b].Key) })
	// Within a run of equal keys the stable sort keeps line order; all but
	// the last of the run lose. Mark them by clearing their Type.
	for k := 0; k+1 < len(order); k++ {
		if bytes.Equal(fields[order[k]].Key, fields[order[k+1]].Key) {
			fields[order[k]].Type = 0
		}
	}
	out := 0
	for _, f := range fields {
		if f.Type != 0 {
			fields[out] = f
			out++
		}
	}
	p.fields = fields[:out]
}

// fingerprint packs a key's length and its first and last bytes.
func fingerprint(k []byte) uint64 {
	n := len(k)
	if n == 0 {
		return 0
	}
	return uint64(n)<<32 | uint64(k[0])<<24 | uint64(k[n/2])<<16 | uint64(k[n-1])<<8
}

// unsafeString views b as a string without copying. The string must not
// outlive the call it is passed to (strconv copies what it keeps).
func unsafeString(b []byte) string {
	return unsafe.String(unsafe.SliceData(b), len(b))
}
