package gen

import (
	"math/rand/v2"
	"strconv"
)

type truckModel struct {
	name                                        string
	loadCapacity, fuelCapacity, fuelConsumption float64
}

// The tag value sets of TSBS's IoT use case.
var (
	driverChoices        = []string{"Derek", "Rodney", "Albert", "Andy", "Seth", "Trish"}
	fleetChoices         = []string{"East", "West", "North", "South"}
	deviceVersionChoices = []string{"v1.0", "v1.5", "v2.0", "v2.3"}
	modelChoices         = []truckModel{
		{"F-150", 2000, 200, 15},
		{"G-2000", 5000, 300, 19},
		{"H-2", 1500, 150, 12},
	}

	readingsFields    = []string{"latitude", "longitude", "elevation", "velocity", "heading", "grade", "fuel_consumption"}
	readingsPrecision = []int{5, 5, 0, 0, 0, 0, 1}
	diagnosticsFields = []string{"fuel_state", "current_load", "status"}
)

const (
	maxLoad          = 5000.0
	loadChangeChance = 0.05
)

// truck is one IoT truck: a fixed tag set, 7 readings walks and 3 diagnostics.
type truck struct {
	readingsPrefix    []byte
	diagnosticsPrefix []byte
	readings          [7]walk
	fuel              walk // refuels to max when it reaches min
	load              float64
	status            walk
}

func newTruck(id int, r *rand.Rand) *truck {
	m := modelChoices[r.IntN(len(modelChoices))]
	tags := [][2]string{
		{"name", "truck_" + strconv.Itoa(id)},
		{"fleet", pick(r, fleetChoices)},
		{"driver", pick(r, driverChoices)},
		{"model", m.name},
		{"device_version", pick(r, deviceVersionChoices)},
		{"load_capacity", strconv.FormatFloat(m.loadCapacity, 'f', -1, 64)},
		{"fuel_capacity", strconv.FormatFloat(m.fuelCapacity, 'f', -1, 64)},
		{"nominal_fuel_consumption", strconv.FormatFloat(m.fuelConsumption, 'f', -1, 64)},
	}
	var tagBytes []byte
	for _, t := range tags {
		tagBytes = AppendTag(tagBytes, t[0], t[1])
	}
	t := &truck{}
	t.readingsPrefix = append(append(AppendMeasurement(nil, "readings"), tagBytes...), ' ')
	t.diagnosticsPrefix = append(append(AppendMeasurement(nil, "diagnostics"), tagBytes...), ' ')

	geo := uniform(-0.005, 0.005)
	big := uniform(-10, 10)
	small := uniform(-5, 5)
	t.readings = [7]walk{
		{state: r.Float64() * 90, min: -90, max: 90, step: geo},
		{state: r.Float64() * 180, min: -180, max: 180, step: geo},
		{state: r.Float64() * 500, min: 0, max: 5000, step: big},
		{state: 0, min: 0, max: 100, step: big},
		{state: r.Float64() * 360, min: 0, max: 360, step: small},
		{state: 0, min: 0, max: 100, step: small},
		{state: 25, min: 0, max: 50, step: small},
	}
	t.fuel = walk{state: 1, min: 0, max: 1, step: uniform(-0.001, 0)}
	t.load = r.Float64() * maxLoad
	t.status = walk{state: 0, min: 0, max: 5, step: normal}
	return t
}

func (t *truck) lines() int { return 2 }

func (t *truck) appendLine(dst []byte, which int, ts int64) []byte {
	if which == 0 {
		dst = append(dst, t.readingsPrefix...)
		for i := range t.readings {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, readingsFields[i]...)
			dst = append(dst, '=')
			dst = appendFloat(dst, round(t.readings[i].state, readingsPrecision[i]))
		}
	} else {
		dst = append(dst, t.diagnosticsPrefix...)
		dst = append(dst, "fuel_state="...)
		dst = appendFloat(dst, round(t.fuel.state, 1))
		dst = append(dst, ",current_load="...)
		dst = appendFloat(dst, round(t.load, 0))
		dst = append(dst, ",status="...)
		dst = appendInt(dst, int64(t.status.state))
	}
	dst = append(dst, ' ')
	return strconv.AppendInt(dst, ts, 10)
}

func (t *truck) advance(r *rand.Rand) {
	for i := range t.readings {
		t.readings[i].advance(r)
	}
	t.fuel.advance(r)
	if t.fuel.state == t.fuel.min {
		t.fuel.state = t.fuel.max
	}
	if r.Float64() < loadChangeChance {
		t.load = r.Float64() * maxLoad
	}
	t.status.advance(r)
}
