package sql

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/fineod/fineod/sql/tz"
)

// tsText is a timestamp literal: the wall clock it writes and the zone
// it names, if any.
type tsText struct {
	wall    int64          // the wall clock as ns (UTC)
	special bool           // epoch, infinity: wall is also the instant
	hasOff  bool           // an offset or Z
	off     int64          // ns east, with hasOff
	loc     *time.Location // a zone name ("America/New_York")
}

// instant is the literal as a timestamptz; a literal without a zone is in
// zone z (called only then).
func (t tsText) instant(z func() *zconv) int64 {
	switch {
	case t.special:
		return t.wall
	case t.hasOff:
		return t.wall - t.off
	case t.loc != nil:
		return newZconv(t.loc).fromLocal(t.wall)
	}
	return z().fromLocal(t.wall)
}

// parseTimestamp reads a timestamptz literal in UTC (tests and callers
// without a session).
func parseTimestamp(s string) (int64, error) {
	t, err := parseTimeText(s)
	if err != nil {
		return 0, err
	}
	return t.instant(func() *zconv { return utcZone }), nil
}

// parseTimeText reads a timestamp literal in the forms PostgreSQL accepts
// most often: '2016-01-01', '2016-01-01 00:00:00', '2016-01-01T00:00:00Z',
// '2016-01-01 00:00:00.123+00', '... +05:30', '... UTC', '... EST',
// '... America/New_York', 'epoch', 'infinity'.
func parseTimeText(s string) (tsText, error) {
	in := s
	bad := func() (tsText, error) {
		return tsText{}, errorf(CodeInvalidDatetime, "invalid input syntax for type timestamp with time zone: %q", in)
	}
	s = strings.TrimSpace(s)
	switch strings.ToLower(s) {
	case "epoch":
		return tsText{special: true}, nil
	case "infinity", "+infinity":
		return tsText{wall: math.MaxInt64, special: true}, nil
	case "-infinity":
		return tsText{wall: math.MinInt64, special: true}, nil
	}
	var out tsText
	if i := strings.LastIndexByte(s, ' '); i > 0 && i+1 < len(s) && isLetter(s[i+1]) {
		name := s[i+1:]
		if secs, ok := tz.Abbrev(name); ok {
			out.hasOff, out.off = true, int64(secs)*1e9
		} else if loc, err := tz.Load(name); err == nil {
			out.loc = loc
		} else {
			return bad()
		}
		s = strings.TrimSpace(s[:i])
	} else if n := len(s); n > 0 && (s[n-1] == 'Z' || s[n-1] == 'z') {
		s, out.hasOff = strings.TrimSpace(s[:n-1]), true
	} else if i := strings.LastIndexAny(s, "+-"); i > 10 {
		secs, ok := parseOffset(s[i+1:])
		if !ok {
			return bad()
		}
		if s[i] == '-' {
			secs = -secs
		}
		out.hasOff, out.off = true, secs*1e9
		s = strings.TrimSpace(s[:i])
	}
	if len(s) > 10 && (s[10] == 'T' || s[10] == 't') {
		s = s[:10] + " " + s[11:]
	}
	var layout string
	switch {
	case len(s) == 10:
		layout = "2006-01-02"
	case len(s) == 16:
		layout = "2006-01-02 15:04"
	case len(s) >= 19:
		layout = "2006-01-02 15:04:05"
		if len(s) > 19 {
			layout += ".999999999"
		}
	default:
		return bad()
	}
	t, err := time.Parse(layout, s)
	if err != nil {
		return bad()
	}
	out.wall = t.UnixNano()
	return out, nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// parseOffset reads hh, hhmm, hh:mm or hh:mm:ss as seconds.
func parseOffset(z string) (int64, bool) {
	if len(z) == 4 && !strings.Contains(z, ":") {
		z = z[:2] + ":" + z[2:]
	}
	p := strings.Split(z, ":")
	if len(p) > 3 {
		return 0, false
	}
	var secs int64
	for k, f := range p {
		if len(f) == 0 || len(f) > 2 {
			return 0, false
		}
		x, err := strconv.Atoi(f)
		if err != nil || x < 0 || (k > 0 && x > 59) || (k == 0 && x > 15) {
			return 0, false
		}
		secs += int64(x) * []int64{3600, 60, 1}[k]
	}
	return secs, true
}

// ivl is an interval literal: months and days kept apart (added to a
// timestamptz in the session's zone), the rest in ns.
type ivl struct {
	months int64
	days   int64
	ns     int64
}

func (v ivl) approxNs() int64 { return v.ns + v.days*nsPerDay + v.months*30*nsPerDay }

var ivlUnits = map[string]struct {
	months int64
	ns     int64
}{
	"microsecond": {0, 1e3}, "microseconds": {0, 1e3}, "us": {0, 1e3}, "usec": {0, 1e3}, "usecs": {0, 1e3},
	"millisecond": {0, 1e6}, "milliseconds": {0, 1e6}, "ms": {0, 1e6}, "msec": {0, 1e6}, "msecs": {0, 1e6},
	"second": {0, 1e9}, "seconds": {0, 1e9}, "s": {0, 1e9}, "sec": {0, 1e9}, "secs": {0, 1e9},
	"minute": {0, 60e9}, "minutes": {0, 60e9}, "m": {0, 60e9}, "min": {0, 60e9}, "mins": {0, 60e9},
	"hour": {0, 3600e9}, "hours": {0, 3600e9}, "h": {0, 3600e9}, "hr": {0, 3600e9}, "hrs": {0, 3600e9},
	"day": {0, nsPerDay}, "days": {0, nsPerDay}, "d": {0, nsPerDay},
	"week": {0, 7 * nsPerDay}, "weeks": {0, 7 * nsPerDay}, "w": {0, 7 * nsPerDay},
	"month": {1, 0}, "months": {1, 0}, "mon": {1, 0}, "mons": {1, 0},
	"year": {12, 0}, "years": {12, 0}, "y": {12, 0}, "yr": {12, 0}, "yrs": {12, 0},
}

// parseInterval reads '1 hour', '5 minutes 30 seconds', '1 day 02:00:00',
// '1h', '-2 days', '00:15:00'.
func parseInterval(s string) (ivl, error) {
	bad := func() (ivl, error) {
		return ivl{}, errorf(CodeInvalidDatetime, "invalid input syntax for type interval: %q", s)
	}
	f := strings.Fields(strings.ToLower(strings.TrimPrefix(strings.TrimSpace(s), "@")))
	if len(f) == 0 {
		return bad()
	}
	var out ivl
	for i := 0; i < len(f); i++ {
		tok := f[i]
		if strings.Contains(tok, ":") {
			ns, ok := parseClock(tok)
			if !ok {
				return bad()
			}
			out.ns += ns
			continue
		}
		// split number and unit: "1h", "1.5", "hours"
		j := 0
		for j < len(tok) && (tok[j] == '-' || tok[j] == '+' || tok[j] == '.' || (tok[j] >= '0' && tok[j] <= '9')) {
			j++
		}
		if j == 0 {
			return bad()
		}
		num, err := strconv.ParseFloat(tok[:j], 64)
		if err != nil {
			return bad()
		}
		unit := tok[j:]
		if unit == "" {
			if i+1 < len(f) {
				i++
				unit = f[i]
			} else {
				unit = "second"
			}
		}
		u, ok := ivlUnits[unit]
		if !ok {
			return bad()
		}
		var days float64
		switch {
		case u.months != 0:
			m := num * float64(u.months)
			whole := math.Trunc(m)
			out.months += int64(whole)
			days = (m - whole) * 30
		case u.ns%nsPerDay == 0:
			days = num * float64(u.ns/nsPerDay)
		default:
			out.ns += int64(math.Round(num * float64(u.ns)))
		}
		if days != 0 {
			whole := math.Trunc(days)
			out.days += int64(whole)
			out.ns += int64(math.Round((days - whole) * float64(nsPerDay)))
		}
	}
	if len(f) > 1 && f[len(f)-1] == "ago" {
		out.months, out.days, out.ns = -out.months, -out.days, -out.ns
	}
	return out, nil
}

func parseClock(tok string) (int64, bool) {
	neg := strings.HasPrefix(tok, "-")
	tok = strings.TrimPrefix(tok, "-")
	p := strings.Split(tok, ":")
	if len(p) < 2 || len(p) > 3 {
		return 0, false
	}
	h, err1 := strconv.ParseInt(p[0], 10, 64)
	m, err2 := strconv.ParseInt(p[1], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	ns := h*3600e9 + m*60e9
	if len(p) == 3 {
		s, err := strconv.ParseFloat(p[2], 64)
		if err != nil {
			return 0, false
		}
		ns += int64(math.Round(s * 1e9))
	}
	if neg {
		ns = -ns
	}
	return ns, true
}

// floorDiv is floor(a/b) for b > 0.
func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && (a < 0) {
		q--
	}
	return q
}

// truncTime implements date_trunc in UTC.
func truncTime(unit string, ns int64) (int64, error) {
	t := time.Unix(0, ns).UTC()
	y, mo, d := t.Date()
	switch strings.ToLower(unit) {
	case "microsecond", "microseconds":
		return floorDiv(ns, 1e3) * 1e3, nil
	case "millisecond", "milliseconds":
		return floorDiv(ns, 1e6) * 1e6, nil
	case "second", "seconds":
		return floorDiv(ns, 1e9) * 1e9, nil
	case "minute", "minutes":
		return floorDiv(ns, 60e9) * 60e9, nil
	case "hour", "hours":
		return floorDiv(ns, 3600e9) * 3600e9, nil
	case "day", "days":
		return floorDiv(ns, nsPerDay) * nsPerDay, nil
	case "week", "weeks":
		day := floorDiv(ns, nsPerDay) * nsPerDay
		wd := (int64(t.Weekday()) + 6) % 7 // Monday = 0
		return day - wd*nsPerDay, nil
	case "month", "months":
		return time.Date(y, mo, 1, 0, 0, 0, 0, time.UTC).UnixNano(), nil
	case "quarter":
		return time.Date(y, (mo-1)/3*3+1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), nil
	case "year", "years":
		return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), nil
	case "decade":
		return time.Date(y-y%10, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), nil
	case "century":
		return time.Date((y-1)/100*100+1, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), nil
	case "millennium":
		return time.Date((y-1)/1000*1000+1, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano(), nil
	}
	_ = d
	return 0, errorf(CodeInvalidParameter, "unit %q not recognized for type timestamp with time zone", unit)
}

// extractField implements extract / date_part in UTC.
func extractField(field string, ns int64) (float64, error) {
	t := time.Unix(0, ns).UTC()
	switch strings.ToLower(field) {
	case "epoch":
		return float64(ns) / 1e9, nil
	case "year", "years":
		return float64(t.Year()), nil
	case "isoyear":
		y, _ := t.ISOWeek()
		return float64(y), nil
	case "quarter":
		return float64((int(t.Month())-1)/3 + 1), nil
	case "month", "months":
		return float64(t.Month()), nil
	case "week":
		_, w := t.ISOWeek()
		return float64(w), nil
	case "day", "days":
		return float64(t.Day()), nil
	case "dow":
		return float64(t.Weekday()), nil
	case "isodow":
		return float64((int(t.Weekday())+6)%7 + 1), nil
	case "doy":
		return float64(t.YearDay()), nil
	case "hour", "hours":
		return float64(t.Hour()), nil
	case "minute", "minutes":
		return float64(t.Minute()), nil
	case "second", "seconds":
		return float64(t.Second()) + float64(t.Nanosecond()/1000)/1e6, nil
	case "milliseconds":
		return float64(t.Second())*1e3 + float64(t.Nanosecond()/1000)/1e3, nil
	case "microseconds":
		return float64(t.Second())*1e6 + float64(t.Nanosecond()/1000), nil
	case "decade":
		return float64(t.Year() / 10), nil
	case "century":
		return float64((t.Year()-1)/100 + 1), nil
	case "millennium":
		return float64((t.Year()-1)/1000 + 1), nil
	case "timezone", "timezone_hour", "timezone_minute":
		return 0, nil
	}
	return 0, errorf(CodeInvalidParameter, "unit %q not recognized for type timestamp with time zone", field)
}

// addMonths adds whole months to a timestamp, clamping the day of month as
// PostgreSQL does (Jan 31 + 1 month = Feb 28/29).
func addMonths(ns int64, months int64) int64 {
	if months == 0 {
		return ns
	}
	t := time.Unix(0, ns).UTC()
	y, m, d := t.Date()
	total := int64(y)*12 + int64(m-1) + months
	ny, nm := int(floorDiv(total, 12)), time.Month(total-floorDiv(total, 12)*12+1)
	last := time.Date(ny, nm+1, 0, 0, 0, 0, 0, time.UTC).Day()
	if d > last {
		d = last
	}
	h, mi, s := t.Clock()
	return time.Date(ny, nm, d, h, mi, s, t.Nanosecond(), time.UTC).UnixNano()
}

// tsbOrigin is TimescaleDB's default time_bucket origin (Monday 2000-01-03).
var tsbOrigin = time.Date(2000, 1, 3, 0, 0, 0, 0, time.UTC).UnixNano()

// bucketMonths buckets a timestamp into month-wide buckets counted from origin.
func bucketMonths(ns int64, months int64, origin int64) int64 {
	t := time.Unix(0, ns).UTC()
	o := time.Unix(0, origin).UTC()
	diff := int64(t.Year()-o.Year())*12 + int64(t.Month()-o.Month())
	b := floorDiv(diff, months) * months
	r := addMonths(origin, b)
	if r > ns {
		r = addMonths(origin, b-months)
	}
	return r
}
