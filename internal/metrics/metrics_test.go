package metrics

import (
	"strings"
	"testing"
)

func TestWriteText(t *testing.T) {
	r := NewRegistry()
	c := r.Counter("fineo_points_total", "Points written.")
	r.Counter("fineo_errors_total", "Errors.", "kind", "bad_input").Add(2)
	r.Counter("fineo_errors_total", "Errors.", "kind", "processing")
	g := r.Gauge("fineo_lag", "Lag.")
	r.GaugeFunc("fineo_size_bytes", "Size.", func() float64 { return 1.5e9 })
	c.Add(3)
	g.Set(-1.25)
	var sb strings.Builder
	if err := r.WriteText(&sb); err != nil {
		t.Fatal(err)
	}
	want := `# HELP fineo_errors_total Errors.
# TYPE fineo_errors_total counter
fineo_errors_total{kind="bad_input"} 2
fineo_errors_total{kind="processing"} 0
# HELP fineo_lag Lag.
# TYPE fineo_lag gauge
fineo_lag -1.25
# HELP fineo_points_total Points written.
# TYPE fineo_points_total counter
fineo_points_total 3
# HELP fineo_size_bytes Size.
# TYPE fineo_size_bytes gauge
fineo_size_bytes 1.5e+09
`
	if sb.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", sb.String(), want)
	}
}
