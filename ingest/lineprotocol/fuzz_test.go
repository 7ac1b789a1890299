package lineprotocol

import "testing"

// FuzzParse checks that the parser never panics, that what it accepts is
// canonical (sorted unique tags, unique fields), and that every accepted
// point encodes with AppendPoint and parses back to the same point.
// The seed corpus is in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	f.Add([]byte("cpu,host=a,region=eu usage=1.5,n=3i 1700000000000000000\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		checkRoundTrip(t, body)
	})
}
