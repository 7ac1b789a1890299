package gen

import (
	"math/rand/v2"
	"strconv"
)

type region struct {
	name        string
	datacenters []string
}

// The tag value sets of TSBS's DevOps use case.
var (
	regions = []region{
		{"us-east-1", []string{"us-east-1a", "us-east-1b", "us-east-1c", "us-east-1e"}},
		{"us-west-1", []string{"us-west-1a", "us-west-1b"}},
		{"us-west-2", []string{"us-west-2a", "us-west-2b", "us-west-2c"}},
		{"eu-west-1", []string{"eu-west-1a", "eu-west-1b", "eu-west-1c"}},
		{"eu-central-1", []string{"eu-central-1a", "eu-central-1b"}},
		{"ap-southeast-1", []string{"ap-southeast-1a", "ap-southeast-1b"}},
		{"ap-southeast-2", []string{"ap-southeast-2a", "ap-southeast-2b"}},
		{"ap-northeast-1", []string{"ap-northeast-1a", "ap-northeast-1c"}},
		{"sa-east-1", []string{"sa-east-1a", "sa-east-1b", "sa-east-1c"}},
	}
	teamChoices        = []string{"SF", "NYC", "LON", "CHI"}
	osChoices          = []string{"Ubuntu16.10", "Ubuntu16.04LTS", "Ubuntu15.10"}
	archChoices        = []string{"x64", "x86"}
	environmentChoices = []string{"production", "staging", "test"}

	cpuFields = []string{
		"usage_user", "usage_system", "usage_idle", "usage_nice", "usage_iowait",
		"usage_irq", "usage_softirq", "usage_steal", "usage_guest", "usage_guest_nice",
	}
)

const (
	rackChoices           = 100
	serviceChoices        = 20
	serviceVersionChoices = 2
)

func pick(r *rand.Rand, s []string) string { return s[r.IntN(len(s))] }

// host is one DevOps machine: a fixed tag set and 10 usage walks.
type host struct {
	prefix []byte // "cpu,hostname=...,service_environment=... "
	walks  [10]walk
	float  bool
}

func newHost(id int, r *rand.Rand, float bool) *host {
	reg := regions[r.IntN(len(regions))]
	tags := [][2]string{
		{"hostname", "host_" + strconv.Itoa(id)},
		{"region", reg.name},
		{"datacenter", pick(r, reg.datacenters)},
		{"rack", strconv.Itoa(r.IntN(rackChoices))},
		{"os", pick(r, osChoices)},
		{"arch", pick(r, archChoices)},
		{"team", pick(r, teamChoices)},
		{"service", strconv.Itoa(r.IntN(serviceChoices))},
		{"service_version", strconv.Itoa(r.IntN(serviceVersionChoices))},
		{"service_environment", pick(r, environmentChoices)},
	}
	h := &host{float: float}
	h.prefix = AppendMeasurement(nil, "cpu")
	for _, t := range tags {
		h.prefix = AppendTag(h.prefix, t[0], t[1])
	}
	h.prefix = append(h.prefix, ' ')
	for i := range h.walks {
		h.walks[i] = walk{state: r.Float64() * 100, min: 0, max: 100, step: normal}
	}
	return h
}

func (h *host) lines() int { return 1 }

func (h *host) appendLine(dst []byte, _ int, ts int64) []byte {
	dst = append(dst, h.prefix...)
	for i := range h.walks {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = append(dst, cpuFields[i]...)
		dst = append(dst, '=')
		if h.float {
			dst = appendFloat(dst, h.walks[i].state)
		} else {
			dst = appendInt(dst, int64(h.walks[i].state))
		}
	}
	dst = append(dst, ' ')
	return strconv.AppendInt(dst, ts, 10)
}

func (h *host) advance(r *rand.Rand) {
	for i := range h.walks {
		h.walks[i].advance(r)
	}
}
