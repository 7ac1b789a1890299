// Package ingest holds fineod's write endpoints and input parsers.
//
// http.go serves the InfluxDB-compatible HTTP API: POST /write (v1),
// POST /api/v2/write (v2), /ping, /health, and the /query statements writers
// send before writing (influxql.go). A request body (gzip allowed, limited
// in size after decompression) is parsed by ingest/lineprotocol; good lines
// go into a schema.Builder, bad ones become error rows stored with the same
// batch, and the response is 204 only after the Writer (the engine) says the
// batch is durable. With bad lines the answer is 400 with each bad line's
// number and reason, and the good lines are written — InfluxDB's partial
// write.
//
// events.go serves POST /api/v1/events, JSON events (one object or an array):
// table and time keys (configurable, and per request), time patterns (per
// table or per request: Go layouts, strftime patterns, rfc3339, epoch
// units), tags, flattened fields, and a result per event by position; see
// the comment at the top of the file for the rules.
//
// The package declares the Writer interface it needs; the engine implements
// it. It does not import the engine.
package ingest
