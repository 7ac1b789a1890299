package pgwire

import (
	"testing"
	"time"
)

// TestSetLocation: timestamptz values are shown in the zone the backend
// reports, including POSIX zones and PostgreSQL's offset form.
func TestSetLocation(t *testing.T) {
	at := time.Date(2016, 7, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		zone string
		want string
	}{
		{"UTC", "2016-07-01 00:00:00+00"},
		{"America/New_York", "2016-06-30 20:00:00-04"},
		{"UTC+3", "2016-06-30 21:00:00-03"},
		{"+05:30", "2016-06-30 18:30:00-05:30"},
		{"<+05>-05", "2016-07-01 05:00:00+05"},
	} {
		c0 := &conn{}
		c0.setLocation(c.zone)
		got, err := appendText(nil, OIDTimestamptz, at, c0.loc)
		if err != nil || string(got) != c.want {
			t.Errorf("%s: %q %v, want %q", c.zone, got, err, c.want)
		}
	}
}
