package schema

import "sort"

// Tenants lists every tenant, by id.
func (c *Catalog) Tenants() []*Tenant {
	c.mu.RLock()
	out := make([]*Tenant, 0, len(c.mu.tenantsByID))
	for _, t := range c.mu.tenantsByID {
		out = append(out, t)
	}
	c.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}
