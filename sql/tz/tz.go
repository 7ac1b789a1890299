// Package tz resolves time zone names as PostgreSQL does, for the SQL
// engine and the wire protocol server (which formats timestamptz values in
// the session's TimeZone).
//
//   - IANA names ("America/New_York", "UTC", "EST5EDT") load from the
//     system zoneinfo; when the exact spelling is not found, a
//     case-insensitive match is used ("america/new_york"), as PostgreSQL
//     matches zone names regardless of case.
//   - Other names are POSIX TZ strings ("UTC+3", "+05:30", "<+0330>-3:30",
//     "EST5EDT,M3.2.0,M11.1.0"). The POSIX offset is west of Greenwich, so
//     "UTC+3" is three hours behind UTC: the sign is the opposite of ISO
//     8601's. A daylight-saving name without rules uses the US rules, as
//     PostgreSQL's posixrules does.
//   - For the TimeZone setting only (LoadSetting), a plain number is hours
//     east of Greenwich in the ISO sign convention ("5", "-3.5"), shown as
//     PostgreSQL shows it ("<+05>-05").
//   - For AT TIME ZONE, date_trunc and time_bucket (LoadZone), the fixed
//     abbreviations of PostgreSQL's Default set are tried first ("EST" is
//     always -05, "CEST" +02).
package tz

import (
	"encoding/binary"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

var cache sync.Map // name -> *time.Location (IANA and POSIX names)

// Load returns the zone for an IANA name or a POSIX TZ string.
func Load(name string) (*time.Location, error) {
	if v, ok := cache.Load(name); ok {
		return v.(*time.Location), nil
	}
	loc, _, err := load(name)
	if err != nil {
		return nil, err
	}
	cache.Store(name, loc)
	return loc, nil
}

// load returns the zone and the name PostgreSQL shows for it.
func load(name string) (*time.Location, string, error) {
	bad := fmt.Errorf("time zone %q not recognized", name)
	if name == "" || name == "Local" || strings.ContainsAny(name, "\x00") {
		return nil, "", bad
	}
	if isIANAName(name) {
		if loc, err := time.LoadLocation(name); err == nil {
			return loc, name, nil
		}
		if canon, ok := foldedNames()[strings.ToLower(name)]; ok {
			if loc, err := time.LoadLocation(canon); err == nil {
				return loc, canon, nil
			}
		}
	}
	std, ok := parsePOSIX(name)
	if !ok {
		return nil, "", bad
	}
	loc, err := posixLocation(name, std)
	if err != nil {
		return nil, "", bad
	}
	return loc, name, nil
}

// isIANAName reports whether name may be a zoneinfo file name.
func isIANAName(name string) bool {
	if strings.HasPrefix(name, "/") || strings.Contains(name, "..") || strings.Contains(name, "\\") {
		return false
	}
	return true
}

// LoadSetting resolves a value of the TimeZone setting and returns the
// zone and the value as SHOW TimeZone reports it.
func LoadSetting(value string) (*time.Location, string, error) {
	v := strings.TrimSpace(value)
	if h, err := strconv.ParseFloat(v, 64); err == nil && !math.IsNaN(h) && !math.IsInf(h, 0) {
		secs := int(math.Round(h * 3600))
		if secs < -15*3600-59*60 || secs > 15*3600+59*60 {
			return nil, "", fmt.Errorf("UTC timezone offset is out of range")
		}
		return Offset(secs), OffsetName(secs), nil
	}
	if v, ok := cache.Load(value); ok {
		loc := v.(*time.Location)
		return loc, loc.String(), nil
	}
	loc, canon, err := load(value)
	if err != nil {
		return nil, "", err
	}
	cache.Store(value, loc)
	return loc, canon, nil
}

// Offset is a fixed zone secs east of Greenwich, named as PostgreSQL names
// it.
func Offset(secs int) *time.Location {
	return time.FixedZone(OffsetName(secs), secs)
}

// OffsetName is PostgreSQL's name of a fixed offset secs east of
// Greenwich: "<+05:30>-05:30".
func OffsetName(secs int) string {
	iso := isoOffset(secs)
	posix := isoOffset(-secs)
	if secs == 0 {
		posix = "-00"
	}
	return "<" + iso + ">" + posix
}

func isoOffset(secs int) string {
	sign := "+"
	if secs < 0 {
		sign, secs = "-", -secs
	}
	s := sign + two(secs/3600)
	if m, x := secs/60%60, secs%60; m != 0 || x != 0 {
		s += ":" + two(m)
		if x != 0 {
			s += ":" + two(x)
		}
	}
	return s
}

func two(x int) string {
	if x < 10 {
		return "0" + strconv.Itoa(x)
	}
	return strconv.Itoa(x)
}

// abbrevs are the fixed-offset abbreviations of PostgreSQL's Default
// timezone_abbreviations set most often used (seconds east).
var abbrevs = map[string]int{
	"utc": 0, "gmt": 0, "ut": 0, "z": 0, "zulu": 0, "wet": 0,
	"est": -5 * 3600, "edt": -4 * 3600, "cst": -6 * 3600, "cdt": -5 * 3600,
	"mst": -7 * 3600, "mdt": -6 * 3600, "pst": -8 * 3600, "pdt": -7 * 3600,
	"akst": -9 * 3600, "akdt": -8 * 3600, "hst": -10 * 3600, "ast": -4 * 3600, "adt": -3 * 3600,
	"nst": -(3*3600 + 1800), "ndt": -(2*3600 + 1800),
	"cet": 3600, "cest": 2 * 3600, "met": 3600, "mest": 2 * 3600, "west": 3600, "bst": 3600,
	"eet": 2 * 3600, "eest": 3 * 3600, "ist": 2 * 3600, "jst": 9 * 3600, "kst": 9 * 3600,
	"hkt": 8 * 3600, "awst": 8 * 3600, "acst": 9*3600 + 1800, "acdt": 10*3600 + 1800,
	"aest": 10 * 3600, "aedt": 11 * 3600, "nzst": 12 * 3600, "nzdt": 13 * 3600,
}

var abbrevLocs sync.Map // lower-case abbreviation -> *time.Location

// LoadZone resolves a zone argument of AT TIME ZONE, date_trunc or
// time_bucket: a fixed abbreviation, an IANA name or a POSIX TZ string.
func LoadZone(name string) (*time.Location, error) {
	low := strings.ToLower(strings.TrimSpace(name))
	if secs, ok := abbrevs[low]; ok {
		if v, ok := abbrevLocs.Load(low); ok {
			return v.(*time.Location), nil
		}
		loc := time.FixedZone(strings.ToUpper(low), secs)
		abbrevLocs.Store(low, loc)
		return loc, nil
	}
	return Load(name)
}

// Abbrev returns the fixed offset (seconds east) of an abbreviation, for
// zone names inside timestamp literals.
func Abbrev(name string) (int, bool) {
	secs, ok := abbrevs[strings.ToLower(name)]
	return secs, ok
}

var (
	foldOnce sync.Once
	folded   map[string]string
)

// zoneDirs are where zoneinfo files are looked for (as package time does).
var zoneDirs = []string{"/usr/share/zoneinfo/", "/usr/share/lib/zoneinfo/", "/usr/lib/locale/TZ/", "/etc/zoneinfo/"}

// foldedNames maps lower-cased zone names to their spelling on disk.
func foldedNames() map[string]string {
	foldOnce.Do(func() {
		folded = map[string]string{}
		dirs := zoneDirs
		if z := os.Getenv("ZONEINFO"); z != "" {
			dirs = append([]string{z}, dirs...)
		}
		for _, dir := range dirs {
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				continue
			}
			filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return nil
				}
				rel, err := filepath.Rel(dir, p)
				if err != nil {
					return nil
				}
				rel = filepath.ToSlash(rel)
				if _, ok := folded[strings.ToLower(rel)]; !ok {
					folded[strings.ToLower(rel)] = rel
				}
				return nil
			})
			break
		}
	})
	return folded
}

// parsePOSIX validates a POSIX TZ string std offset [dst [offset] [,rule]]
// and returns the standard time's offset in seconds east of Greenwich.
func parsePOSIX(s string) (int, bool) {
	name := func() bool {
		if strings.HasPrefix(s, "<") {
			i := strings.IndexByte(s, '>')
			if i < 0 {
				return false
			}
			s = s[i+1:]
			return true
		}
		i := 0
		for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
			i++
		}
		s = s[i:]
		return true
	}
	offset := func() (int, bool) {
		sign := 1
		if s != "" && (s[0] == '+' || s[0] == '-') {
			if s[0] == '-' {
				sign = -1
			}
			s = s[1:]
		}
		secs, ok := clock(&s, 24*7-1)
		return sign * secs, ok
	}
	if !name() {
		return 0, false
	}
	stdOff, ok := offset()
	if !ok {
		return 0, false
	}
	if s == "" {
		return -stdOff, true
	}
	before := s
	if !name() || s == before {
		return 0, false
	}
	if s != "" && s[0] != ',' {
		if _, ok := offset(); !ok {
			return 0, false
		}
	}
	if s == "" {
		return -stdOff, true
	}
	// ,start[/time],end[/time]
	for k := 0; k < 2; k++ {
		if s == "" || s[0] != ',' {
			return 0, false
		}
		s = s[1:]
		if !rule(&s) {
			return 0, false
		}
		if s != "" && s[0] == '/' {
			s = s[1:]
			if s != "" && (s[0] == '+' || s[0] == '-') {
				s = s[1:]
			}
			if _, ok := clock(&s, 167); !ok {
				return 0, false
			}
		}
	}
	return -stdOff, s == ""
}

// clock reads hh[:mm[:ss]] with hh at most maxH.
func clock(s *string, maxH int) (int, bool) {
	num := func() (int, bool) {
		i := 0
		for i < len(*s) && (*s)[i] >= '0' && (*s)[i] <= '9' {
			i++
		}
		if i == 0 || i > 3 {
			return 0, false
		}
		n, _ := strconv.Atoi((*s)[:i])
		*s = (*s)[i:]
		return n, true
	}
	h, ok := num()
	if !ok || h > maxH {
		return 0, false
	}
	secs := h * 3600
	for _, mul := range []int{60, 1} {
		if *s == "" || (*s)[0] != ':' {
			break
		}
		*s = (*s)[1:]
		x, ok := num()
		if !ok || x > 59 {
			return 0, false
		}
		secs += x * mul
	}
	return secs, true
}

// rule reads Jn, n or Mm.w.d.
func rule(s *string) bool {
	digits := func() (int, bool) {
		i := 0
		for i < len(*s) && (*s)[i] >= '0' && (*s)[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, false
		}
		n, err := strconv.Atoi((*s)[:i])
		*s = (*s)[i:]
		return n, err == nil
	}
	switch {
	case strings.HasPrefix(*s, "J"):
		*s = (*s)[1:]
		n, ok := digits()
		return ok && n >= 1 && n <= 365
	case strings.HasPrefix(*s, "M"):
		*s = (*s)[1:]
		m, ok := digits()
		if !ok || m < 1 || m > 12 || !strings.HasPrefix(*s, ".") {
			return false
		}
		*s = (*s)[1:]
		w, ok := digits()
		if !ok || w < 1 || w > 5 || !strings.HasPrefix(*s, ".") {
			return false
		}
		*s = (*s)[1:]
		d, ok := digits()
		return ok && d <= 6
	}
	n, ok := digits()
	return ok && n <= 365
}

// posixLocation builds a zone from a POSIX TZ string: zoneinfo data with
// no transitions whose footer is the string, so package time applies the
// string's rules to every instant.
func posixLocation(tzstr string, stdOff int) (*time.Location, error) {
	abbr := "LMT\x00"
	header := func(b []byte, version byte) []byte {
		b = append(b, "TZif"...)
		b = append(b, version)
		b = append(b, make([]byte, 15)...)
		for _, n := range []uint32{0, 0, 0, 0, 1, uint32(len(abbr))} { // isut, isstd, leap, time, type, char
			b = binary.BigEndian.AppendUint32(b, n)
		}
		return b
	}
	body := func(b []byte) []byte {
		b = binary.BigEndian.AppendUint32(b, uint32(int32(stdOff)))
		b = append(b, 0, 0) // isdst, abbreviation index
		return append(b, abbr...)
	}
	var b []byte
	b = body(header(b, '2'))
	b = body(header(b, '2'))
	b = append(b, '\n')
	b = append(b, tzstr...)
	b = append(b, '\n')
	return time.LoadLocationFromTZData(tzstr, b)
}
