package ingest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Event time patterns. A pattern says how the time of a JSON event is
// written; see the comment at the top of events.go for the rules. Patterns
// are compiled once (at NewHandler for Config.EventTimePatterns, once per
// request for ?time_format=) into a timePattern.

// timePattern is a compiled time pattern.
type timePattern struct {
	src     string   // as the user wrote it, for messages
	rfc3339 bool     // "rfc3339"
	unit    int64    // "epoch_*": nanoseconds per unit
	layouts []string // Go layouts, tried in order
	err     error    // a configured pattern that does not compile
}

// epochUnits are the named epoch patterns and their units in nanoseconds.
var epochUnits = map[string]int64{
	"epoch_s":  1e9,
	"epoch_ms": 1e6,
	"epoch_us": 1e3,
	"epoch_ns": 1,
}

// CheckTimePattern reports whether p is a valid event time pattern: a Go
// reference layout, a strftime-style pattern or one of the names rfc3339,
// epoch_s, epoch_ms, epoch_us and epoch_ns.
func CheckTimePattern(p string) error {
	_, err := compileTimePattern(p)
	return err
}

func compileTimePattern(p string) (*timePattern, error) {
	name := strings.ToLower(strings.TrimSpace(p))
	if name == "rfc3339" {
		return &timePattern{src: p, rfc3339: true}, nil
	}
	if u, ok := epochUnits[name]; ok {
		return &timePattern{src: p, unit: u}, nil
	}
	if strings.TrimSpace(p) == "" {
		return nil, errors.New("empty time pattern")
	}
	if strings.HasPrefix(name, "epoch") || strings.HasPrefix(name, "rfc") {
		return nil, fmt.Errorf("unknown time pattern name %q (want rfc3339, epoch_s, epoch_ms, epoch_us or epoch_ns)", p)
	}
	if strings.Contains(p, "%") {
		layouts, err := strftimeLayouts(p)
		if err != nil {
			return nil, fmt.Errorf("time pattern %q: %v", p, err)
		}
		return &timePattern{src: p, layouts: layouts}, nil
	}
	// A Go layout must contain at least one element of the reference
	// time; otherwise it is a typo (or an unknown name) that would read
	// every value as year 1.
	if layoutSample(false).Format(p) == p {
		return nil, fmt.Errorf("time pattern %q is neither a Go layout (like \"2006-01-02 15:04:05\"), a strftime pattern (like \"%%Y-%%m-%%d %%H:%%M:%%S\") nor one of rfc3339, epoch_s, epoch_ms, epoch_us, epoch_ns", p)
	}
	return &timePattern{src: p, layouts: []string{p}}, nil
}

// layoutSample is a time whose every layout element formats to text other
// than the element itself (in the morning, or in the afternoon if pm), so
// that formatting a layout shows which parts of it are elements.
func layoutSample(pm bool) time.Time {
	h := 4
	if pm {
		h = 16
	}
	return time.Date(2001, 2, 3, h, 7, 8, 123456789, time.FixedZone("XYZ", 5*3600+30*60))
}

// strftimeElems maps strftime directives to Go layout elements.
var strftimeElems = map[byte]string{
	'Y': "2006",
	'y': "06",
	'm': "01",
	'd': "02",
	'e': "_2",
	'j': "002",
	'H': "15",
	'I': "03",
	'M': "04",
	'S': "05",
	'p': "PM",
	'b': "Jan",
	'h': "Jan",
	'B': "January",
	'a': "Mon",
	'A': "Monday",
	'z': "Z0700", // also tried as Z07:00, see strftimeLayouts
	'Z': "MST",
}

// strftimeLayouts converts a strftime-style pattern to Go layouts: one,
// or more when it has %z (with and without a colon in the offset) or %p
// (upper and lower case), to be tried in order. It fails
// on unknown directives and on literal text that Go would read as a
// layout element (such as "1" or "Jan"), which it detects by formatting
// sample times with the layout and with each element on its own.
func strftimeLayouts(p string) ([]string, error) {
	type part struct {
		text string
		elem bool
	}
	var parts []part
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			parts = append(parts, part{text: lit.String()})
			lit.Reset()
		}
	}
	hasZ, hasP := false, false
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '%' {
			lit.WriteByte(c)
			continue
		}
		if i+1 == len(p) {
			return nil, errors.New("a lone % at the end (write %% for a literal %)")
		}
		i++
		d := p[i]
		switch d {
		case '%':
			lit.WriteByte('%')
			continue
		case 'f':
			// Go reads a fraction as part of its separator: ".999999999"
			// takes any number of digits after a '.' or ','.
			s := lit.String()
			if s == "" || (s[len(s)-1] != '.' && s[len(s)-1] != ',') {
				return nil, errors.New("%f must follow a '.' or ','")
			}
			lit.Reset()
			lit.WriteString(s[:len(s)-1])
			flush()
			parts = append(parts, part{text: s[len(s)-1:] + "999999999", elem: true})
			continue
		}
		e, ok := strftimeElems[d]
		if !ok {
			return nil, fmt.Errorf("unsupported directive %%%c (supported: %%Y %%y %%m %%d %%e %%j %%H %%I %%M %%S %%f %%p %%b %%B %%a %%A %%z %%Z %%%%)", d)
		}
		hasZ = hasZ || d == 'z'
		hasP = hasP || d == 'p'

		flush()
		parts = append(parts, part{text: e, elem: true})
	}
	flush()
	var layout strings.Builder
	for _, pt := range parts {
		layout.WriteString(pt.text)
	}
	l := layout.String()
	for _, pm := range []bool{false, true} {
		t := layoutSample(pm)
		var want strings.Builder
		for _, pt := range parts {
			if pt.elem {
				want.WriteString(t.Format(pt.text))
			} else {
				want.WriteString(pt.text)
			}
		}
		if t.Format(l) != want.String() {
			return nil, fmt.Errorf("its literal text would be read as part of a date (as Go layout %q); use %%-directives only for date parts", l)
		}
	}
	layouts := []string{l}
	if hasZ {
		layouts = append(layouts, strings.ReplaceAll(l, "Z0700", "Z07:00"))
	}
	if hasP { // Go reads "PM" as AM/PM and "pm" as am/pm
		for _, l := range layouts {
			layouts = append(layouts, strings.ReplaceAll(l, "PM", "pm"))
		}
	}
	return layouts, nil
}

// Valid event times: int64 nanoseconds since the epoch.
var (
	minEventTime = time.Unix(0, math.MinInt64)
	maxEventTime = time.Unix(0, math.MaxInt64)
)

var errTimeRange = errors.New("time out of range (years 1678 to 2262)")

// eventTime reads an event's time with no pattern: epoch seconds,
// milliseconds, microseconds or nanoseconds by magnitude (a JSON number or
// a string holding one), or RFC 3339.
func eventTime(v any) (int64, error) { return parseEventTime(v, nil) }

// parseEventTime reads an event's time v (a value decoded with UseNumber)
// by pattern p, or by the default rules if p is nil.
func parseEventTime(v any, p *timePattern) (int64, error) {
	switch {
	case p == nil:
		switch x := v.(type) {
		case json.Number:
			return epochNumber(x, 0)
		case string:
			if isJSONNumber(x) {
				return epochNumber(json.Number(x), 0)
			}
			return rfc3339Time(x)
		}
		return 0, fmt.Errorf("%s is not a time", jsonText(v))
	case p.unit != 0:
		switch x := v.(type) {
		case json.Number:
			return epochNumber(x, p.unit)
		case string:
			if isJSONNumber(x) {
				return epochNumber(json.Number(x), p.unit)
			}
		}
		return 0, mismatch(v, p, "")
	case p.rfc3339:
		if s, ok := v.(string); ok {
			ns, err := rfc3339Time(s)
			if err == errTimeRange {
				return 0, err
			}
			if err == nil {
				return ns, nil
			}
		}
		return 0, mismatch(v, p, "")
	}
	var s string
	switch x := v.(type) {
	case string:
		s = x
	case json.Number: // 20240601 with the layout 20060102
		s = string(x)
	default:
		return 0, mismatch(v, p, "")
	}
	var first error
	for _, l := range p.layouts {
		t, err := time.ParseInLocation(l, s, time.UTC)
		if err == nil {
			return timeNanos(t)
		}
		if first == nil {
			first = err
		}
	}
	detail := ""
	var pe *time.ParseError
	if errors.As(first, &pe) {
		switch {
		case pe.Message != "":
			detail = strings.TrimPrefix(pe.Message, ": ")
		case pe.ValueElem != "":
			detail = fmt.Sprintf("at %q", pe.ValueElem)
		}
	}
	return 0, mismatch(v, p, detail)
}

func mismatch(v any, p *timePattern, detail string) error {
	if detail != "" {
		detail = " (" + detail + ")"
	}
	return fmt.Errorf("%s does not match the time pattern %q%s", jsonText(v), p.src, detail)
}

// jsonText is v as it was written in JSON, shortened for messages.
func jsonText(v any) string {
	var s string
	switch x := v.(type) {
	case json.Number:
		s = string(x)
	default:
		b, _ := json.Marshal(v)
		s = string(b)
	}
	if len(s) > 100 {
		s = s[:100] + "..."
	}
	return s
}

func rfc3339Time(s string) (int64, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, fmt.Errorf("%s is neither epoch time nor RFC 3339", jsonText(s))
	}
	return timeNanos(t)
}

func timeNanos(t time.Time) (int64, error) {
	if t.Before(minEventTime) || t.After(maxEventTime) {
		return 0, errTimeRange
	}
	return t.UnixNano(), nil
}

// isJSONNumber reports whether s is exactly a JSON number.
func isJSONNumber(s string) bool {
	if s == "" || (s[0] != '-' && (s[0] < '0' || s[0] > '9')) {
		return false
	}
	last := s[len(s)-1]
	return last >= '0' && last <= '9' && json.Valid([]byte(s))
}

// epochNumber reads an epoch time in unit u (nanoseconds per unit), or by
// magnitude if u is 0.
func epochNumber(x json.Number, u int64) (int64, error) {
	if i, err := strconv.ParseInt(string(x), 10, 64); err == nil {
		return epochInt(i, u)
	}
	if ns, ok, err := epochDecimal(string(x), u); ok {
		return ns, err
	}
	f, err := x.Float64()
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("%s is not a time", x)
	}
	return epochFloat(f, u)
}

// epochUnit is the nanoseconds per unit of an epoch number of magnitude a.
func epochUnit(a float64) int64 {
	switch {
	case a < 1e10:
		return 1e9 // seconds
	case a < 1e13:
		return 1e6 // milliseconds
	case a < 1e16:
		return 1e3 // microseconds
	}
	return 1 // nanoseconds
}

// epochInt scales an integer epoch time in unit u (0: by magnitude) to
// nanoseconds exactly.
func epochInt(i int64, u int64) (int64, error) {
	a := math.Abs(float64(i))
	if u == 0 {
		u = epochUnit(a)
	}
	if a > float64(math.MaxInt64/u) {
		return 0, errTimeRange
	}
	return i * u, nil
}

// epochDecimal reads a plain decimal ("1717200000.25") exactly: the
// integer part picks the unit unless u is given, the fraction is kept to
// the nanosecond. ok is false for other forms (exponents), which
// epochFloat reads.
func epochDecimal(s string, u int64) (ns int64, ok bool, err error) {
	ip, fp, found := strings.Cut(s, ".")
	if !found || strings.ContainsAny(s, "eE") {
		return 0, false, nil
	}
	neg := strings.HasPrefix(ip, "-")
	i, err := strconv.ParseInt(ip, 10, 64)
	if err != nil {
		return 0, false, nil
	}
	if u == 0 {
		u = epochUnit(math.Abs(float64(i)))
	}
	base, err := epochInt(i, u)
	if err != nil {
		return 0, true, err
	}
	// fraction of one unit, in nanoseconds: digits beyond the
	// nanosecond are dropped.
	var frac int64
	scale := u
	for _, c := range fp {
		if c < '0' || c > '9' {
			return 0, false, nil
		}
		scale /= 10
		frac += int64(c-'0') * scale
		if scale == 0 {
			break
		}
	}
	if neg {
		if base < math.MinInt64+frac {
			return 0, true, errTimeRange
		}
		return base - frac, true, nil
	}
	if base > math.MaxInt64-frac {
		return 0, true, errTimeRange
	}
	return base + frac, true, nil
}

// epochFloat scales a fractional epoch time in unit u (0: by magnitude)
// to nanoseconds.
func epochFloat(f float64, u int64) (int64, error) {
	if u == 0 {
		u = epochUnit(math.Abs(f))
	}
	ns := f * float64(u)
	if math.Abs(ns) >= math.MaxInt64 {
		return 0, errTimeRange
	}
	return int64(math.Round(ns)), nil
}
