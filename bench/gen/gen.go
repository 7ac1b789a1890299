// Package gen generates deterministic benchmark data in InfluxDB line protocol,
// modelled on the two use cases of the Time Series Benchmark Suite (TSBS):
//
//   - cpu-only (DevOps): one "cpu" row per host per interval, 10 tags and 10
//     integer usage_* fields, each a clamped random walk in 0..100.
//   - iot (trucks): one "readings" row (7 float fields) and one "diagnostics"
//     row (fuel_state, current_load, status) per truck per interval, with the
//     truck's tags.
//
// The output depends only on the Config (including Seed): the same Config gives
// the same bytes. Rows are ordered by time, then by host or truck, as TSBS does.
package gen

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strings"
	"time"
)

// UseCase names a data set.
type UseCase string

// The supported use cases.
const (
	CPUOnly UseCase = "cpu-only"
	IoT     UseCase = "iot"
)

// ParseUseCase accepts "cpu-only" (also "cpu", "devops") and "iot" (also "trucks").
func ParseUseCase(s string) (UseCase, error) {
	switch strings.ToLower(s) {
	case "cpu-only", "cpu", "devops":
		return CPUOnly, nil
	case "iot", "trucks", "truck":
		return IoT, nil
	}
	return "", fmt.Errorf("unknown use case %q (want cpu-only or iot)", s)
}

// DefaultStart is the first timestamp TSBS uses: 2016-01-01T00:00:00Z.
var DefaultStart = time.Date(2016, 1, 1, 0, 0, 0, 0, time.UTC)

// Config selects what to generate.
type Config struct {
	UseCase  UseCase
	Scale    int           // hosts (cpu-only) or trucks (iot)
	Start    time.Time     // first timestamp
	Duration time.Duration // rows are generated for [Start, Start+Duration)
	Interval time.Duration // time between two rows of one host or truck
	Seed     uint64
	// CPUFloat emits the cpu usage_* fields as floats (as older TSBS releases
	// did) instead of integers with the "i" suffix (as TSBS does now).
	CPUFloat bool
}

// DefaultConfig is DevOps cpu-only, 100 hosts, one day at 10 s, seed 1.
func DefaultConfig() Config {
	return Config{
		UseCase:  CPUOnly,
		Scale:    100,
		Start:    DefaultStart,
		Duration: 24 * time.Hour,
		Interval: 10 * time.Second,
		Seed:     1,
	}
}

func (c Config) validate() error {
	if c.Scale <= 0 {
		return errors.New("scale must be positive")
	}
	if c.Interval <= 0 {
		return errors.New("interval must be positive")
	}
	if c.Duration < 0 {
		return errors.New("duration must not be negative")
	}
	if c.UseCase != CPUOnly && c.UseCase != IoT {
		return fmt.Errorf("unknown use case %q", c.UseCase)
	}
	return nil
}

// Steps is the number of timestamps per host or truck.
func (c Config) Steps() int64 {
	return int64((c.Duration + c.Interval - 1) / c.Interval)
}

// RowsPerStep is the number of lines one host or truck emits per timestamp.
func (c Config) RowsPerStep() int {
	if c.UseCase == IoT {
		return 2
	}
	return 1
}

// Rows is the total number of lines the Config generates.
func (c Config) Rows() int64 {
	return c.Steps() * int64(c.Scale) * int64(c.RowsPerStep())
}

// Values is the total number of field values the Config generates.
func (c Config) Values() int64 {
	if c.UseCase == IoT {
		return c.Steps() * int64(c.Scale) * int64(len(readingsFields)+len(diagnosticsFields))
	}
	return c.Rows() * int64(len(cpuFields))
}

// entity is one simulated host or truck.
type entity interface {
	lines() int
	appendLine(dst []byte, which int, ts int64) []byte
	advance(r *rand.Rand)
}

// Generator produces the lines of one Config, one at a time.
type Generator struct {
	cfg      Config
	rng      *rand.Rand
	entities []entity
	steps    int64
	step     int64 // current time step
	ent      int   // current entity within the step
	sub      int   // current line within the entity
	startNS  int64
	stepNS   int64
}

// New returns a Generator for cfg.
func New(cfg Config) (*Generator, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	g := &Generator{
		cfg:     cfg,
		rng:     rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x9e3779b97f4a7c15)),
		steps:   cfg.Steps(),
		startNS: cfg.Start.UnixNano(),
		stepNS:  int64(cfg.Interval),
	}
	g.entities = make([]entity, cfg.Scale)
	for i := range g.entities {
		switch cfg.UseCase {
		case CPUOnly:
			g.entities[i] = newHost(i, g.rng, cfg.CPUFloat)
		case IoT:
			g.entities[i] = newTruck(i, g.rng)
		}
	}
	return g, nil
}

// Config returns the generator's configuration.
func (g *Generator) Config() Config { return g.cfg }

// AppendNext appends the next line, with its trailing newline, to dst. It
// returns false, and dst unchanged, when all lines have been produced.
func (g *Generator) AppendNext(dst []byte) ([]byte, bool) {
	if g.step >= g.steps {
		return dst, false
	}
	e := g.entities[g.ent]
	dst = e.appendLine(dst, g.sub, g.startNS+g.step*g.stepNS)
	dst = append(dst, '\n')
	g.sub++
	if g.sub == e.lines() {
		g.sub = 0
		e.advance(g.rng)
		g.ent++
		if g.ent == len(g.entities) {
			g.ent = 0
			g.step++
		}
	}
	return dst, true
}

// WriteTo writes all remaining lines to w.
func (g *Generator) WriteTo(w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	var n int64
	buf := make([]byte, 0, 1024)
	for {
		var ok bool
		buf, ok = g.AppendNext(buf[:0])
		if !ok {
			break
		}
		m, err := bw.Write(buf)
		n += int64(m)
		if err != nil {
			return n, err
		}
	}
	return n, bw.Flush()
}

// Bytes generates everything into memory.
func Bytes(cfg Config) ([]byte, error) {
	g, err := New(cfg)
	if err != nil {
		return nil, err
	}
	// About 350 bytes per cpu row and 250 per iot row; a guess keeps copying down.
	out := make([]byte, 0, cfg.Rows()*360)
	for {
		var ok bool
		out, ok = g.AppendNext(out)
		if !ok {
			return out, nil
		}
	}
}
