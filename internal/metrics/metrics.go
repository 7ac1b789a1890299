// Package metrics is a small registry of counters and gauges written in the
// Prometheus text exposition format (version 0.0.4). It exists so that the
// servers can expose /metrics without a client library; every metric is a
// typed atomic, safe for concurrent use.
package metrics

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
)

// Counter is a monotonically increasing value.
type Counter struct{ v atomic.Uint64 }

// Add adds n.
func (c *Counter) Add(n uint64) { c.v.Add(n) }

// Inc adds one.
func (c *Counter) Inc() { c.v.Add(1) }

// Load returns the value.
func (c *Counter) Load() uint64 { return c.v.Load() }

// Gauge is a value that goes up and down.
type Gauge struct{ bits atomic.Uint64 }

// Set sets the value.
func (g *Gauge) Set(v float64) { g.bits.Store(math.Float64bits(v)) }

// Load returns the value.
func (g *Gauge) Load() float64 { return math.Float64frombits(g.bits.Load()) }

type metric struct {
	name, help, typ string
	labels          string // rendered {k="v",...} or ""
	value           func() float64
}

// Registry holds named metrics. It is safe for concurrent use.
type Registry struct {
	mu      sync.Mutex
	metrics []metric
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{} }

// Counter registers and returns a new counter.
func (r *Registry) Counter(name, help string, labels ...string) *Counter {
	c := &Counter{}
	r.add(metric{name: name, help: help, typ: "counter", labels: renderLabels(labels), value: func() float64 { return float64(c.Load()) }})
	return c
}

// Gauge registers and returns a new gauge.
func (r *Registry) Gauge(name, help string, labels ...string) *Gauge {
	g := &Gauge{}
	r.add(metric{name: name, help: help, typ: "gauge", labels: renderLabels(labels), value: g.Load})
	return g
}

// GaugeFunc registers a gauge whose value is computed at scrape time.
func (r *Registry) GaugeFunc(name, help string, f func() float64, labels ...string) {
	r.add(metric{name: name, help: help, typ: "gauge", labels: renderLabels(labels), value: f})
}

// CounterFunc registers a counter whose value is computed at scrape time.
func (r *Registry) CounterFunc(name, help string, f func() float64, labels ...string) {
	r.add(metric{name: name, help: help, typ: "counter", labels: renderLabels(labels), value: f})
}

func (r *Registry) add(m metric) {
	r.mu.Lock()
	r.metrics = append(r.metrics, m)
	r.mu.Unlock()
}

// renderLabels renders label pairs k1, v1, k2, v2...
func renderLabels(kv []string) string {
	if len(kv) == 0 {
		return ""
	}
	s := "{"
	for i := 0; i+1 < len(kv); i += 2 {
		if i > 0 {
			s += ","
		}
		s += kv[i] + "=" + strconv.Quote(kv[i+1])
	}
	return s + "}"
}

// WriteText writes every metric in the Prometheus text format, grouped by
// name with one HELP and TYPE line each.
func (r *Registry) WriteText(w io.Writer) error {
	r.mu.Lock()
	ms := append([]metric(nil), r.metrics...)
	r.mu.Unlock()
	sort.SliceStable(ms, func(i, j int) bool { return ms[i].name < ms[j].name })
	last := ""
	for _, m := range ms {
		if m.name != last {
			if _, err := fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", m.name, m.help, m.name, m.typ); err != nil {
				return err
			}
			last = m.name
		}
		if _, err := fmt.Fprintf(w, "%s%s %s\n", m.name, m.labels, strconv.FormatFloat(m.value(), 'g', -1, 64)); err != nil {
			return err
		}
	}
	return nil
}
