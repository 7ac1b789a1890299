package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// schemaEnv is a running server with two tables written over line
// protocol, and a Postgres wire connection to it.
type schemaEnv struct {
	t    *testing.T
	bin  string
	addr string
	conn *pgx.Conn
}

func newSchemaEnv(t *testing.T) *schemaEnv {
	t.Helper()
	bin := buildBinary(t)
	pgAddr := freeAddr(t)
	s := startServer(t, bin, t.TempDir(), "--pg-addr", pgAddr)
	t.Cleanup(func() { s.kill9(t) })
	lp := "thermo,device=a temp=21.5\nthermostat,device=b temperature_f=70.7\nmeter,device=m kwh=1.5,volts=230i\n"
	resp, err := http.Post("http://"+s.addr+"/write", "text/plain", strings.NewReader(lp))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("write: %s", resp.Status)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, "postgres://fineo@"+pgAddr+"/fineo?sslmode=disable")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return &schemaEnv{t: t, bin: bin, addr: s.addr, conn: conn}
}

// call sends a request to the schema API.
func (e *schemaEnv) call(method, path, body string) (int, []byte) {
	e.t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+e.addr+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, b
}

// ok sends a request that must succeed and decodes the answer into v.
func (e *schemaEnv) ok(method, path, body string, v any) {
	e.t.Helper()
	status, b := e.call(method, path, body)
	if status != http.StatusOK {
		e.t.Fatalf("%s %s %s: %d %s", method, path, body, status, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		e.t.Fatalf("%s %s: %v in %s", method, path, err, b)
	}
}

// fails sends a request that must fail with status and an error message
// containing want.
func (e *schemaEnv) fails(method, path, body string, status int, want string) {
	e.t.Helper()
	got, b := e.call(method, path, body)
	var ej errorJSON
	if err := json.Unmarshal(b, &ej); err != nil {
		e.t.Fatalf("%s %s %s: answer is not JSON: %s", method, path, body, b)
	}
	if got != status || !strings.Contains(ej.Error, want) {
		e.t.Fatalf("%s %s %s: got %d %q, want %d with %q", method, path, body, got, ej.Error, status, want)
	}
}

func (e *schemaEnv) table(name string) tableJSON {
	e.t.Helper()
	var t tableJSON
	e.ok("GET", "/api/v1/schema/tables/"+name, "", &t)
	return t
}

// patchTable applies a table change and returns the table it answers.
func (e *schemaEnv) patchTable(name, body string) tableJSON {
	e.t.Helper()
	var t tableJSON
	e.ok("PATCH", "/api/v1/schema/tables/"+name, body, &t)
	return t
}

func (e *schemaEnv) patchColumn(table, column, body string) columnJSON {
	e.t.Helper()
	var c columnJSON
	e.ok("PATCH", "/api/v1/schema/tables/"+table+"/columns/"+column, body, &c)
	return c
}

type historyRow struct{ user, table, change, statement string }

// history reads fineo.schema_history over the Postgres wire.
func (e *schemaEnv) history() []historyRow {
	e.t.Helper()
	rows, err := e.conn.Query(context.Background(), `SELECT "user", table_name, change, statement FROM fineo.schema_history`)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []historyRow
	for rows.Next() {
		var h historyRow
		if err := rows.Scan(&h.user, &h.table, &h.change, &h.statement); err != nil {
			e.t.Fatal(err)
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		e.t.Fatal(err)
	}
	return out
}

// lastChange checks that SQL sees exactly one more schema change than n
// and that it is change (made over HTTP on table); it returns the new
// count.
func (e *schemaEnv) lastChange(n int, table, change string) int {
	e.t.Helper()
	h := e.history()
	if len(h) != n+1 {
		e.t.Fatalf("schema_history has %d rows, want %d: %v", len(h), n+1, h)
	}
	last := h[len(h)-1]
	if last.user != "http" || last.table != table || last.change != change || !strings.HasPrefix(last.statement, "PATCH /api/v1/schema/tables/") {
		e.t.Fatalf("last schema change %+v, want user http, table %q, change %q, statement PATCH ...", last, table, change)
	}
	return len(h)
}

// sqlTables lists the tables information_schema.tables shows.
func (e *schemaEnv) sqlTables() []string {
	e.t.Helper()
	rows, err := e.conn.Query(context.Background(), `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'`)
	if err != nil {
		e.t.Fatal(err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		e.t.Fatal(err)
	}
	return names
}

// cli runs fineod schema with args against the server.
func (e *schemaEnv) cli(args ...string) (string, error) {
	e.t.Helper()
	cmd := exec.Command(e.bin, append([]string{"schema", "--http-addr", e.addr}, args...)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String() + stderr.String(), err
	}
	return stdout.String(), nil
}

func (e *schemaEnv) cliOK(want string, args ...string) string {
	e.t.Helper()
	out, err := e.cli(args...)
	if err != nil {
		e.t.Fatalf("fineod schema %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	if !strings.Contains(out, want) {
		e.t.Fatalf("fineod schema %s printed\n%s\nwant %q in it", strings.Join(args, " "), out, want)
	}
	return out
}

func (e *schemaEnv) cliFails(want string, args ...string) {
	e.t.Helper()
	out, err := e.cli(args...)
	if err == nil {
		e.t.Fatalf("fineod schema %s succeeded:\n%s", strings.Join(args, " "), out)
	}
	if !strings.Contains(out, want) {
		e.t.Fatalf("fineod schema %s failed with\n%s\nwant %q in it", strings.Join(args, " "), out, want)
	}
}

func column(t tableJSON, name string) *columnJSON {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

func mustColumn(tb testing.TB, t tableJSON, name string) *columnJSON {
	tb.Helper()
	c := column(t, name)
	if c == nil {
		tb.Fatalf("table %s has no column %q: %+v", t.Name, name, t.Columns)
	}
	return c
}

func TestSchemaAPI(t *testing.T) {
	e := newSchemaEnv(t)
	n := len(e.history())

	// The whole schema.
	var s schemaJSON
	e.ok("GET", "/api/v1/schema", "", &s)
	if s.Database != "fineo" || len(s.Tables) != 3 {
		t.Fatalf("schema: %+v", s)
	}
	thermo := e.table("thermo")
	temp := mustColumn(t, thermo, "temp")
	if thermo.SchemaVersion != 0 || !slices.Equal(thermo.Tags, []string{"device"}) || temp.Type != "double precision" ||
		len(temp.Sources) != 1 || temp.Sources[0].Table != "thermo" || temp.Sources[0].Field != "temp" ||
		temp.Sources[0].RawType != "double precision" || thermo.TTL != "0s" || thermo.Strict {
		t.Fatalf("thermo: %+v", thermo)
	}
	var col columnJSON
	e.ok("GET", "/api/v1/schema/tables/thermo/columns/temp", "", &col)
	if col.Name != "temp" {
		t.Fatalf("column: %+v", col)
	}

	// Rename a column: the old name stays an alias and still finds it.
	col = e.patchColumn("thermo", "temp", `{"name": "temperature_c"}`)
	if col.Name != "temperature_c" || !slices.Equal(col.Aliases, []string{"temp"}) {
		t.Fatalf("renamed: %+v", col)
	}
	n = e.lastChange(n, "thermo", "rename column temp to temperature_c")
	e.ok("GET", "/api/v1/schema/tables/thermo/columns/temp", "", &col)
	if col.Name != "temperature_c" {
		t.Fatalf("by old name: %+v", col)
	}
	if v := e.table("thermo").SchemaVersion; v != 1 {
		t.Fatalf("schema version %d after one change", v)
	}

	// Field aliases.
	col = e.patchColumn("thermo", "temperature_c", `{"add_alias": "temp_c"}`)
	if !slices.Equal(col.Aliases, []string{"temp", "temp_c"}) {
		t.Fatalf("add alias: %+v", col)
	}
	n = e.lastChange(n, "thermo", "add field alias temp_c to column temperature_c")
	col = e.patchColumn("thermo", "temperature_c", `{"remove_alias": "temp_c"}`)
	if !slices.Equal(col.Aliases, []string{"temp"}) {
		t.Fatalf("remove alias: %+v", col)
	}
	n = e.lastChange(n, "thermo", "remove field alias temp_c from column temperature_c")

	// Drop and restore.
	col = e.patchColumn("thermo", "temperature_c", `{"hidden": true}`)
	if !col.Hidden {
		t.Fatalf("drop: %+v", col)
	}
	n = e.lastChange(n, "thermo", "drop column temperature_c")
	if c := mustColumn(t, e.table("thermo"), "temperature_c"); !c.Hidden || len(c.Sources) != 1 {
		t.Fatalf("dropped column keeps its sources: %+v", c)
	}
	col = e.patchColumn("thermo", "temperature_c", `{"hidden": false}`)
	if col.Hidden {
		t.Fatalf("restore: %+v", col)
	}
	n = e.lastChange(n, "thermo", "restore column temperature_c")

	// A type change with a conversion (the ref is the column itself).
	col = e.patchColumn("thermostat", "temperature_f", `{"type": "double precision", "using": "(temperature_f - 32) * 5 / 9"}`)
	if len(col.Sources) != 1 || !col.Sources[0].Sealed || len(col.Sources[0].Conversions) != 1 ||
		col.Sources[0].Conversions[0].Expr != "(temperature_f - 32) * 5 / 9" || col.Sources[0].Conversions[0].Ref != "temperature_f" {
		t.Fatalf("alter type: %+v", col)
	}
	n = e.lastChange(n, "thermostat", "alter column temperature_f type double precision using (temperature_f - 32) * 5 / 9")

	// Several table options in one body: one atomic change.
	tj := e.patchTable("thermo", `{"strict": true, "ttl": "30d"}`)
	if !tj.Strict || tj.TTLSeconds != 30*86400 || tj.TTL != "720h0m0s" || tj.SchemaVersion != 6 {
		t.Fatalf("strict + ttl: %+v", tj)
	}
	n = e.lastChange(n, "thermo", "set strict on; set ttl 720h0m0s")
	for _, c := range []struct {
		body string
		secs int64
	}{{`{"ttl": "720h"}`, 720 * 3600}, {`{"ttl": 3600}`, 3600}, {`{"ttl": "1d12h"}`, 36 * 3600}, {`{"ttl": 0}`, 0}} {
		if tj = e.patchTable("thermo", c.body); tj.TTLSeconds != c.secs {
			t.Fatalf("%s: %+v", c.body, tj)
		}
		n++
	}
	if tj.TTL != "0s" {
		t.Fatalf("ttl 0: %+v", tj)
	}
	tj = e.patchTable("thermo", `{"strict": false}`)
	if tj.Strict {
		t.Fatalf("strict off: %+v", tj)
	}
	n = e.lastChange(n, "thermo", "set strict off")

	// Table aliases: a plain one, then one that merges table thermostat.
	tj = e.patchTable("thermo", `{"add_alias": "thermo_legacy"}`)
	if !slices.Equal(tj.Aliases, []string{"thermo_legacy"}) {
		t.Fatalf("table alias: %+v", tj)
	}
	n = e.lastChange(n, "thermo", "add table alias thermo_legacy")
	if got := e.table("thermo_legacy"); got.Name != "thermo" {
		t.Fatalf("by table alias: %+v", got)
	}
	tj = e.patchTable("thermo_legacy", `{"remove_alias": "thermo_legacy"}`)
	if len(tj.Aliases) != 0 {
		t.Fatalf("remove table alias: %+v", tj)
	}
	n = e.lastChange(n, "thermo", "remove table alias thermo_legacy")
	tj = e.patchTable("thermo", `{"add_alias": "thermostat"}`)
	if !slices.Equal(tj.Members, []string{"thermostat"}) || column(tj, "temperature_f") == nil ||
		mustColumn(t, tj, "temperature_f").Sources[0].Table != "thermostat" {
		t.Fatalf("merge: %+v", tj)
	}
	n = e.lastChange(n, "thermo", "add table alias thermostat (merges table thermostat)")
	var s2 schemaJSON
	e.ok("GET", "/api/v1/schema", "", &s2)
	if len(s2.Tables) != 2 {
		t.Fatalf("a member is not a table of its own: %+v", s2.Tables)
	}
	if got := e.table("thermostat"); got.Name != "thermo" {
		t.Fatalf("member resolves to its table: %+v", got)
	}
	tj = e.patchTable("thermo", `{"remove_alias": "thermostat"}`)
	if len(tj.Members) != 0 || column(tj, "temperature_f") != nil {
		t.Fatalf("unmerge: %+v", tj)
	}
	n = e.lastChange(n, "thermo", "remove table alias thermostat (table thermostat stands alone)")

	// Rename the table: SQL sees the new name.
	tj = e.patchTable("thermo", `{"rename_to": "thermo2"}`)
	if tj.Name != "thermo2" || !slices.Equal(tj.Aliases, []string{"thermo"}) {
		t.Fatalf("rename table: %+v", tj)
	}
	n = e.lastChange(n, "thermo", "rename table thermo to thermo2") // the name when the change was made
	if tabs := e.sqlTables(); !slices.Contains(tabs, "thermo2") || slices.Contains(tabs, "thermo") {
		t.Fatalf("information_schema.tables after rename: %v", tabs)
	}
	if got := e.table("thermo"); got.Name != "thermo2" {
		t.Fatalf("old name resolves: %+v", got)
	}
	tj = e.patchTable("thermo2", `{"rename_to": "thermo"}`)
	if tj.Name != "thermo" || !slices.Equal(tj.Aliases, []string{"thermo2"}) {
		t.Fatalf("rename back: %+v", tj)
	}
	n = e.lastChange(n, "thermo2", "rename table thermo2 to thermo")

	// The general form, whose later ops see what earlier ones did: the
	// type change reads the column by its new name.
	tj = e.patchTable("thermo", `{"ops": [
		{"op": "add_column", "name": "humidity", "type": "bigint"},
		{"op": "rename_column", "column": "humidity", "name": "rh"},
		{"op": "alter_column_type", "column": "rh", "type": "double precision"},
		{"op": "alter_column_type", "column": "temperature_c", "type": "double precision", "using": "temp * 2"},
		{"op": "set_strict", "enabled": true},
		{"op": "set_ttl", "ttl": "1d"}]}`)
	rh := mustColumn(t, tj, "rh")
	tc := mustColumn(t, tj, "temperature_c")
	if rh.Type != "double precision" || !slices.Equal(rh.Aliases, []string{"humidity"}) || !tj.Strict || tj.TTLSeconds != 86400 ||
		len(tc.Sources[0].Conversions) != 1 || tc.Sources[0].Conversions[0].Ref != "temp" {
		t.Fatalf("ops: %+v", tj)
	}
	n = e.lastChange(n, "thermo", "add column humidity bigint; rename column humidity to rh; alter column rh type double precision; "+
		"alter column temperature_c type double precision using temp * 2; set strict on; set ttl 24h0m0s")
	version := tj.SchemaVersion

	// Errors. Refused changes change nothing, atomically.
	e.fails("GET", "/api/v1/schema/tables/nope", "", 404, `table "nope" does not exist`)
	e.fails("PATCH", "/api/v1/schema/tables/nope", `{"strict": true}`, 404, `table "nope" does not exist`)
	e.fails("GET", "/api/v1/schema?db=nope", "", 404, `database "nope" does not exist`)
	e.fails("GET", "/api/v1/schema/tables/thermo/columns/nope", "", 404, `column "nope" of table "thermo" does not exist`)
	e.fails("PATCH", "/api/v1/schema/tables/thermo/columns/nope", `{"name": "x"}`, 404, `column "nope"`)
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{"ops": [{"op": "rename_column", "column": "rh", "name": "rh2"},
		{"op": "drop_column", "column": "nope"}]}`, 404, `column "nope" does not exist`)
	e.fails("PATCH", "/api/v1/schema/tables/thermo/columns/rh", `{"name": "temperature_c"}`, 409, "already exists")
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{"rename_to": "meter"}`, 409, `table "meter" already exists`)
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{"add_alias": "thermo"}`, 409, "already names")
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{"strict": tru}`, 400, "invalid JSON")
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{"strict": true`, 400, "invalid JSON")
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `[1]`, 400, "want an object")
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{}`, 400, "no operations")
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{"strict": "yes"}`, 400, `"strict": want true or false`)
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{"strict": true, "strict": false}`, 400, "given twice")
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{"colour": "red"}`, 400, `unknown key "colour"`)
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{"ttl": "soon"}`, 400, `invalid ttl "soon"`)
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{"ttl": -5}`, 400, "invalid ttl")
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{"ops": [{"op": "explode"}]}`, 400, `unknown op "explode"`)
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{"ops": [{"op": "drop_column", "column": "rh", "colour": 1}]}`, 400, `unknown field "colour"`)
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{"ops": [{"op": "drop_column", "column": "rh", "name": "x"}]}`, 400, `drop_column takes no "name"`)
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{"ops": [{"op": "rename_column", "column": "rh"}]}`, 400, `rename_column needs "name"`)
	e.fails("PATCH", "/api/v1/schema/tables/thermo/columns/rh", `{"hidden": 1}`, 400, `"hidden": want true or false`)
	e.fails("PATCH", "/api/v1/schema/tables/thermo/columns/rh", `{"type": "geometry"}`, 400, "geometry")
	e.fails("PATCH", "/api/v1/schema/tables/thermo/columns/rh", `{"using": "rh * 2"}`, 400, `"using" needs "type"`)
	e.fails("PATCH", "/api/v1/schema/tables/thermo/columns/rh", `{"type": "bigint", "using": "rh + temperature_c"}`, 400, "exactly one column")
	e.fails("PATCH", "/api/v1/schema/tables/thermo/columns/rh", `{"type": "bigint", "using": "rh +"}`, 400, "using expression")
	e.fails("PATCH", "/api/v1/schema/tables/thermo/columns/rh", `{"type": "boolean", "using": "now()"}`, 400, "using expression")
	e.fails("PATCH", "/api/v1/schema/tables/thermo/columns/rh", `{"type": "bigint", "using": "x * 2", "ref": "x"}`, 404, `column "x"`)
	e.fails("PATCH", "/api/v1/schema/tables/thermo/columns/rh", `{"name": "device"}`, 400, "tag key")
	e.fails("PATCH", "/api/v1/schema/tables/thermo", `{"rename_to": "`+strings.Repeat("x", 2<<20)+`"}`, 413, "larger than")
	if tj = e.table("thermo"); tj.SchemaVersion != version || column(tj, "rh") == nil || column(tj, "rh2") != nil {
		t.Fatalf("a refused change changed the table: %+v", tj)
	}
	if h := e.history(); len(h) != n {
		t.Fatalf("refused changes are not history: %d rows, want %d", len(h), n)
	}

	// History over HTTP.
	var hj schemaHistoryJSON
	e.ok("GET", "/api/v1/schema/history?table=thermostat", "", &hj)
	if len(hj.History) != 1 || hj.History[0].User != "http" || !strings.Contains(hj.History[0].Statement, `"using":"(temperature_f - 32) * 5 / 9"`) {
		t.Fatalf("history: %+v", hj)
	}
}

func TestSchemaCLI(t *testing.T) {
	e := newSchemaEnv(t)
	n := len(e.history())

	out := e.cliOK("table meter")
	for _, want := range []string{"table thermo", "table thermostat", "kwh", "volts", "bigint"} {
		if !strings.Contains(out, want) {
			t.Fatalf("fineod schema printed\n%s\nwant %q", out, want)
		}
	}
	var s schemaJSON
	if err := json.Unmarshal([]byte(e.cliOK(`"tables"`, "--json")), &s); err != nil || len(s.Tables) != 3 {
		t.Fatalf("--json: %v %+v", err, s)
	}
	e.cliOK("kwh", "show", "meter")
	e.cliOK("volts", "show", "meter", "volts")

	e.cliOK("energy", "rename-column", "meter", "kwh", "energy")
	if c := mustColumn(t, e.table("meter"), "energy"); !slices.Equal(c.Aliases, []string{"kwh"}) {
		t.Fatalf("rename-column: %+v", c)
	}
	n = e.lastChange(n, "meter", "rename column kwh to energy")

	e.cliOK("kwh_total", "add-alias", "meter", "energy", "kwh_total")
	if c := mustColumn(t, e.table("meter"), "energy"); !slices.Equal(c.Aliases, []string{"kwh", "kwh_total"}) {
		t.Fatalf("add-alias: %+v", c)
	}
	n = e.lastChange(n, "meter", "add field alias kwh_total to column energy")

	e.cliOK("energy", "remove-alias", "meter", "energy", "kwh_total")
	if c := mustColumn(t, e.table("meter"), "energy"); !slices.Equal(c.Aliases, []string{"kwh"}) {
		t.Fatalf("remove-alias: %+v", c)
	}
	n = e.lastChange(n, "meter", "remove field alias kwh_total from column energy")

	e.cliOK("volts (dropped)", "drop-column", "meter", "volts")
	if c := mustColumn(t, e.table("meter"), "volts"); !c.Hidden {
		t.Fatalf("drop-column: %+v", c)
	}
	n = e.lastChange(n, "meter", "drop column volts")

	e.cliOK("volts", "restore-column", "meter", "volts")
	if c := mustColumn(t, e.table("meter"), "volts"); c.Hidden {
		t.Fatalf("restore-column: %+v", c)
	}
	n = e.lastChange(n, "meter", "restore column volts")

	e.cliOK("using volts / 1000.0", "alter-type", "meter", "volts", "double", "precision", "--using", "volts / 1000.0")
	if c := mustColumn(t, e.table("meter"), "volts"); c.Type != "double precision" || c.Sources[0].Conversions[0].Expr != "volts / 1000.0" {
		t.Fatalf("alter-type: %+v", c)
	}
	n = e.lastChange(n, "meter", "alter column volts type double precision using volts / 1000.0")
	e.cliOK("text", "alter-type", "meter", "energy", "text")
	if c := mustColumn(t, e.table("meter"), "energy"); c.Type != "text" {
		t.Fatalf("alter-type without --using: %+v", c)
	}
	n = e.lastChange(n, "meter", "alter column energy type text")

	e.cliOK("aliases:  power_meter", "add-table-alias", "meter", "power_meter")
	if tj := e.table("power_meter"); tj.Name != "meter" {
		t.Fatalf("add-table-alias: %+v", tj)
	}
	n = e.lastChange(n, "meter", "add table alias power_meter")
	e.cliOK("table meter", "remove-table-alias", "meter", "power_meter")
	if tj := e.table("meter"); len(tj.Aliases) != 0 {
		t.Fatalf("remove-table-alias: %+v", tj)
	}
	n = e.lastChange(n, "meter", "remove table alias power_meter")

	e.cliOK("table meter2", "rename-table", "meter", "meter2")
	if tj := e.table("meter2"); !slices.Equal(tj.Aliases, []string{"meter"}) {
		t.Fatalf("rename-table: %+v", tj)
	}
	n = e.lastChange(n, "meter", "rename table meter to meter2")
	if tabs := e.sqlTables(); !slices.Contains(tabs, "meter2") || slices.Contains(tabs, "meter") {
		t.Fatalf("information_schema.tables after rename-table: %v", tabs)
	}

	e.cliOK("strict:   on", "strict", "meter2", "on")
	if !e.table("meter2").Strict {
		t.Fatal("strict on")
	}
	n = e.lastChange(n, "meter2", "set strict on")
	e.cliOK("strict:   off", "strict", "meter2", "off")
	n = e.lastChange(n, "meter2", "set strict off")

	e.cliOK("ttl:      14d", "ttl", "meter2", "2w")
	if tj := e.table("meter2"); tj.TTLSeconds != 14*86400 {
		t.Fatalf("ttl: %+v", tj)
	}
	n = e.lastChange(n, "meter2", "set ttl 336h0m0s")
	e.cliOK("ttl:      forever", "ttl", "meter2", "0")
	n = e.lastChange(n, "meter2", "set ttl forever")

	out = e.cliOK("rename table meter to meter2", "history", "meter2")
	if !strings.Contains(out, "rename column kwh to energy") {
		t.Fatalf("history:\n%s", out)
	}
	var tj tableJSON
	if err := json.Unmarshal([]byte(e.cliOK(`"name": "meter2"`, "show", "meter2", "--json")), &tj); err != nil || tj.TTLSeconds != 0 {
		t.Fatalf("show --json: %v %+v", err, tj)
	}

	// Errors print the server's message and exit non-zero.
	e.cliFails(`table "nope" does not exist`, "show", "nope")
	e.cliFails(`column "nope" of table "meter2" does not exist`, "rename-column", "meter2", "nope", "x")
	e.cliFails("already exists", "rename-column", "meter2", "energy", "volts")
	e.cliFails(`table "thermo" already exists`, "rename-table", "meter2", "thermo")
	e.cliFails("want on or off", "strict", "meter2", "maybe")
	e.cliFails(`invalid ttl "soon"`, "ttl", "meter2", "soon")
	e.cliFails("using expression", "alter-type", "meter2", "volts", "bigint", "--using", "volts +")
	e.cliFails(`database "nope" does not exist`, "--db", "nope")
	if h := e.history(); len(h) != n {
		t.Fatalf("failed commands made schema changes: %d rows, want %d", len(h), n)
	}
}
