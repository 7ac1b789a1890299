package gen

import (
	"math"
	"math/rand/v2"
	"strconv"
)

// walk is a clamped random walk: each step adds a draw from step and clamps the
// state to [min, max] (TSBS's ClampedRandomWalkDistribution).
type walk struct {
	state, min, max float64
	step            func(r *rand.Rand) float64
}

func (w *walk) advance(r *rand.Rand) {
	w.state += w.step(r)
	if w.state < w.min {
		w.state = w.min
	} else if w.state > w.max {
		w.state = w.max
	}
}

func normal(r *rand.Rand) float64 { return r.NormFloat64() }

func uniform(lo, hi float64) func(r *rand.Rand) float64 {
	return func(r *rand.Rand) float64 { return lo + r.Float64()*(hi-lo) }
}

// round rounds v to p decimal places (TSBS's FloatPrecision).
func round(v float64, p int) float64 {
	s := math.Pow10(p)
	return math.Round(v*s) / s
}

func appendFloat(dst []byte, v float64) []byte {
	return strconv.AppendFloat(dst, v, 'f', -1, 64)
}

func appendInt(dst []byte, v int64) []byte {
	dst = strconv.AppendInt(dst, v, 10)
	return append(dst, 'i')
}
