package sql

import (
	"math"
	"strings"
	"time"

	"github.com/fineod/fineod/sql/tz"
)

// Time zones. A timestamptz is an instant (ns since the epoch); a
// timestamp is a wall clock, stored as the instant that clock shows in
// UTC. The session's TimeZone (Session.loc) governs conversions between
// the two and every calendar computation on timestamptz: date_trunc,
// extract, ts ± interval with days or months, casts from and to text and
// timestamp, AT TIME ZONE. Expressions ask execCtx.zone() for it when they
// run, so plans (cached and shared between sessions) do not depend on the
// zone; while constants are folded at bind time there is no zone, and an
// expression that asks for it is left unfolded (see binder.fold).

// zconv converts between instants and wall clocks in one zone. It caches
// the zone period last looked up (most timestamps of a batch share it).
type zconv struct {
	loc        *time.Location
	utc        bool
	start, end int64 // [start, end): instants of the cached period
	off        int64 // its offset east, ns
}

func newZconv(loc *time.Location) *zconv {
	z := &zconv{loc: loc, start: 1, end: 0}
	if loc == time.UTC {
		z.utc = true
	}
	return z
}

var utcZone = &zconv{loc: time.UTC, utc: true}

func isInf(ns int64) bool { return ns == math.MaxInt64 || ns == math.MinInt64 }

// period caches the zone period of instant ns.
func (z *zconv) period(ns int64) {
	t := time.Unix(0, ns).In(z.loc)
	_, off := t.Zone()
	s, e := t.ZoneBounds()
	z.off = int64(off) * 1e9
	z.start, z.end = math.MinInt64, math.MaxInt64
	if !s.IsZero() && s.Year() > 1678 {
		z.start = s.UnixNano()
	}
	if !e.IsZero() && e.Year() < 2262 {
		z.end = e.UnixNano()
	}
}

// offset is the zone's offset east (ns) at instant ns.
func (z *zconv) offset(ns int64) int64 {
	if z.utc || isInf(ns) {
		return 0
	}
	if ns < z.start || ns >= z.end {
		z.period(ns)
	}
	return z.off
}

// toLocal is the wall clock of instant ns.
func (z *zconv) toLocal(ns int64) int64 {
	return ns + z.offset(ns)
}

// fromLocal is the instant wall clock w shows, resolved as PostgreSQL's
// DetermineTimeZoneOffset does: a time skipped by a spring-forward
// transition takes the offset before it, an ambiguous time in a fall-back
// transition the offset after it.
func (z *zconv) fromLocal(w int64) int64 {
	if z.utc || isInf(w) {
		return w
	}
	const day = nsPerDay
	if w < math.MinInt64/2 || w > math.MaxInt64/2 {
		return w - z.offset(w)
	}
	if z.start <= w-day && w+day < z.end {
		return w - z.off
	}
	// The first boundary after w minus a day (offsets are under a day and
	// transitions more than two days apart).
	z.period(w - day)
	before, boundary := z.off, z.end
	if boundary == math.MaxInt64 {
		return w - before
	}
	after := time.Unix(0, boundary).In(z.loc)
	_, a := after.Zone()
	afterOff := int64(a) * 1e9
	bt, at := w-before, w-afterOff
	switch {
	case bt < boundary && at < boundary:
		return bt
	case bt >= boundary && at >= boundary:
		return at
	case bt > at:
		return bt
	}
	return at
}

// zone is the session's time zone. While constants are folded (no
// session) it records that the expression depends on the zone and
// answers UTC.
func (ec *execCtx) zone() *zconv {
	if ec == nil {
		return utcZone
	}
	if ec.loc == nil {
		ec.zoneUsed = true
		return utcZone
	}
	if ec.zc == nil {
		ec.zc = newZconv(ec.loc)
	}
	return ec.zc
}

// zoneByName resolves a zone argument (AT TIME ZONE, date_trunc,
// time_bucket), caching the last one.
func (ec *execCtx) zoneByName(name string) (*zconv, error) {
	if ec != nil && ec.named != nil && ec.namedName == name {
		return ec.named, nil
	}
	loc, err := tz.LoadZone(name)
	if err != nil {
		return nil, errorf(CodeInvalidParameter, "time zone %q not recognized", name)
	}
	z := newZconv(loc)
	if ec != nil {
		ec.named, ec.namedName = z, name
	}
	return z, nil
}

// formatTimestampIn is timestamptz text output in zone z: ISO style with
// the offset ("2016-01-01 00:00:00-05", "+05:30").
func formatTimestampIn(ns int64, z *zconv) string {
	if ns == math.MaxInt64 {
		return "infinity"
	}
	if ns == math.MinInt64 {
		return "-infinity"
	}
	off := z.offset(ns)
	s := formatTimestamp(ns+off, false)
	secs := off / 1e9
	sign := byte('+')
	if secs < 0 {
		sign, secs = '-', -secs
	}
	b := append([]byte(s), sign)
	b = append(b, pad2(secs/3600)...)
	if m, x := secs/60%60, secs%60; m != 0 || x != 0 {
		b = append(b, ':')
		b = append(b, pad2(m)...)
		if x != 0 {
			b = append(b, ':')
			b = append(b, pad2(x)...)
		}
	}
	return string(b)
}

// truncLocal is date_trunc of instant ns in zone z. Units of a day and
// more find the offset of the truncated wall clock again; smaller units
// keep the instant's offset (PostgreSQL's timestamptz_trunc).
func truncLocal(unit string, ns int64, z *zconv) (int64, error) {
	if isInf(ns) {
		return ns, nil
	}
	unit = strings.ToLower(unit)
	off := z.offset(ns)
	w, err := truncTime(unit, ns+off)
	if err != nil {
		return 0, err
	}
	switch unit {
	case "microsecond", "microseconds", "millisecond", "milliseconds", "second", "seconds",
		"minute", "minutes", "hour", "hours":
		return w - off, nil
	}
	return z.fromLocal(w), nil
}

// extractLocal is extract of a timestamptz field in zone z (epoch is
// absolute; timezone fields give z's offset).
func extractLocal(field string, ns int64, z *zconv) (float64, error) {
	switch strings.ToLower(field) {
	case "epoch":
		return float64(ns) / 1e9, nil
	case "timezone":
		return float64(z.offset(ns) / 1e9), nil
	case "timezone_hour":
		return float64(z.offset(ns) / 1e9 / 3600), nil
	case "timezone_minute":
		return float64(z.offset(ns) / 1e9 / 60 % 60), nil
	}
	return extractField(field, z.toLocal(ns))
}

// addMonthsLocal adds calendar months and days to instant ns in zone z,
// as PostgreSQL's timestamptz_pl_interval does before adding the time
// part.
func addMonthsDaysLocal(ns, months, days int64, z *zconv) int64 {
	if (months == 0 && days == 0) || isInf(ns) {
		return ns
	}
	w := z.toLocal(ns)
	w = addMonths(w, months)
	w += days * nsPerDay
	return z.fromLocal(w)
}
