package tz

import (
	"testing"
	"time"
)

func TestLoad(t *testing.T) {
	at := time.Date(2016, 7, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		name  string
		set   bool // LoadSetting
		show  string
		off   int // at 2016-07-01
		fails bool
	}{
		{name: "UTC", set: true, show: "UTC"},
		{name: "utc", set: true, show: "UTC"},
		{name: "america/new_york", set: true, show: "America/New_York", off: -4 * 3600},
		{name: "UTC+3", set: true, show: "UTC+3", off: -3 * 3600},
		{name: "GMT-2", set: true, show: "GMT-2", off: 2 * 3600},
		{name: "+05:30", set: true, show: "+05:30", off: -(5*3600 + 1800)},
		{name: "<+0330>-3:30", set: true, show: "<+0330>-3:30", off: 3*3600 + 1800},
		{name: "5", set: true, show: "<+05>-05", off: 5 * 3600},
		{name: "-3.5", set: true, show: "<-03:30>+03:30", off: -(3*3600 + 1800)},
		{name: "0", set: true, show: "<+00>-00"},
		{name: "5", off: -5 * 3600},
		{name: "EST5EDT,M3.2.0,M11.1.0", set: true, show: "EST5EDT,M3.2.0,M11.1.0", off: -4 * 3600},
		{name: "FOO5BAR", set: true, show: "FOO5BAR", off: -4 * 3600},
		{name: "Foo/Bar", set: true, fails: true},
		{name: "Local", set: true, fails: true},
		{name: "", set: true, fails: true},
		{name: "FOO", fails: true},
		{name: "UTC+3x,", fails: true},
	} {
		var loc *time.Location
		var show string
		var err error
		if c.set {
			loc, show, err = LoadSetting(c.name)
		} else {
			loc, err = LoadZone(c.name)
		}
		if c.fails {
			if err == nil {
				t.Errorf("%q: no error", c.name)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", c.name, err)
			continue
		}
		if c.set && show != c.show {
			t.Errorf("%q shows as %q, want %q", c.name, show, c.show)
		}
		if _, off := at.In(loc).Zone(); off != c.off {
			t.Errorf("%q: offset %d, want %d", c.name, off, c.off)
		}
	}
	// The abbreviation is fixed where the zone file would have DST.
	loc, err := LoadZone("EST")
	if err != nil {
		t.Fatal(err)
	}
	if _, off := at.In(loc).Zone(); off != -5*3600 {
		t.Errorf("EST offset %d", off)
	}
	// A POSIX zone with rules is in standard time in winter.
	loc, _ = Load("EST5EDT,M3.2.0,M11.1.0")
	if _, off := time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC).In(loc).Zone(); off != -5*3600 {
		t.Errorf("winter offset %d", off)
	}
}
