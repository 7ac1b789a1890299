package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
)

// schemaClient talks to the schema API (schema_api.go) of a server.
type schemaClient struct {
	addr     string
	database string
	json     bool
	out      io.Writer
}

// do sends a request and returns the answer's body; an error answer
// becomes an error with the server's message.
func (c *schemaClient) do(ctx context.Context, method, path string, query url.Values, body any) ([]byte, error) {
	if query == nil {
		query = url.Values{}
	}
	if c.database != "" {
		query.Set("db", c.database)
	}
	u := "http://" + c.addr + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(b)
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("ask the server at %s: %w (is it running? --http-addr names it)", c.addr, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var e errorJSON
		if json.Unmarshal(b, &e) == nil && e.Error != "" {
			return nil, errors.New(e.Error)
		}
		return nil, fmt.Errorf("server: %s: %s", resp.Status, strings.TrimSpace(string(b)))
	}
	return b, nil
}

// show prints an answer: as received with --json, else through print
// after decoding it into v.
func (c *schemaClient) show(b []byte, v any, print func()) error {
	if c.json {
		_, err := c.out.Write(b)
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("server answered %q: %w", b, err)
	}
	print()
	return nil
}

func tablePath(table string) string { return "/api/v1/schema/tables/" + url.PathEscape(table) }

func columnPath(table, column string) string {
	return tablePath(table) + "/columns/" + url.PathEscape(column)
}

// patchTable applies a table change and prints the table after it.
func (c *schemaClient) patchTable(ctx context.Context, table string, body map[string]any) error {
	b, err := c.do(ctx, http.MethodPatch, tablePath(table), nil, body)
	if err != nil {
		return err
	}
	var t tableJSON
	return c.show(b, &t, func() { printTable(c.out, &t) })
}

// patchColumn applies a column change and prints the column after it.
func (c *schemaClient) patchColumn(ctx context.Context, table, column string, body map[string]any) error {
	b, err := c.do(ctx, http.MethodPatch, columnPath(table, column), nil, body)
	if err != nil {
		return err
	}
	var col columnJSON
	return c.show(b, &col, func() { printColumns(c.out, []columnJSON{col}) })
}

func newSchemaCmd() *cobra.Command {
	c := &schemaClient{}
	ctxOf := func(cmd *cobra.Command) context.Context {
		c.out = cmd.OutOrStdout()
		if ctx := cmd.Context(); ctx != nil {
			return ctx
		}
		return context.Background()
	}
	root := &cobra.Command{
		Use:   "schema",
		Short: "Show and change the logical schema: rename, alias, retype, drop and restore columns",
		Long: `Show and change the logical schema of a database through the server's schema
API (/api/v1/schema). Schemas bind late: no change rewrites or deletes data.
Each change is one entry in the log and one row of fineo.schema_history.

  fineod schema                                   # every table and its columns
  fineod schema show thermo
  fineod schema rename-column thermo temp temperature_c
  fineod schema add-alias thermo temperature_c temp_c
  fineod schema alter-type thermo temperature_f "double precision" --using "(temperature_f - 32) * 5 / 9"
  fineod schema ttl thermo 30d`,
		Args: cobra.NoArgs,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return applyEnv(cmd.Flags())
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := ctxOf(cmd)
			b, err := c.do(ctx, http.MethodGet, "/api/v1/schema", nil, nil)
			if err != nil {
				return err
			}
			var s schemaJSON
			return c.show(b, &s, func() {
				if len(s.Tables) == 0 {
					fmt.Fprintf(c.out, "database %s has no tables\n", s.Database)
				}
				for i := range s.Tables {
					if i > 0 {
						fmt.Fprintln(c.out)
					}
					printTable(c.out, &s.Tables[i])
				}
			})
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&c.addr, "http-addr", "127.0.0.1:8086", "the server's HTTP address")
	pf.StringVar(&c.database, "db", "", "database (default: fineo)")
	pf.BoolVar(&c.json, "json", false, "print the server's JSON answer as is")

	tableCmd := func(use, short string, nargs int, body func(args []string) (map[string]any, error)) *cobra.Command {
		return &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(nargs),
			RunE: func(cmd *cobra.Command, args []string) error {
				b, err := body(args)
				if err != nil {
					return err
				}
				return c.patchTable(ctxOf(cmd), args[0], b)
			}}
	}
	columnCmd := func(use, short string, body func(args []string) map[string]any) *cobra.Command {
		n := strings.Count(use, " ")
		return &cobra.Command{Use: use, Short: short, Args: cobra.ExactArgs(n),
			RunE: func(cmd *cobra.Command, args []string) error {
				return c.patchColumn(ctxOf(cmd), args[0], args[1], body(args))
			}}
	}

	show := &cobra.Command{
		Use:   "show TABLE [COLUMN]",
		Short: "Show a table (by name or alias), or one of its columns",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := ctxOf(cmd)
			if len(args) == 2 {
				b, err := c.do(ctx, http.MethodGet, columnPath(args[0], args[1]), nil, nil)
				if err != nil {
					return err
				}
				var col columnJSON
				return c.show(b, &col, func() { printColumns(c.out, []columnJSON{col}) })
			}
			b, err := c.do(ctx, http.MethodGet, tablePath(args[0]), nil, nil)
			if err != nil {
				return err
			}
			var t tableJSON
			return c.show(b, &t, func() { printTable(c.out, &t) })
		},
	}
	history := &cobra.Command{
		Use:   "history [TABLE]",
		Short: "Show the schema changes of the database, or of one table",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			q := url.Values{}
			if len(args) == 1 {
				q.Set("table", args[0])
			}
			b, err := c.do(ctxOf(cmd), http.MethodGet, "/api/v1/schema/history", q, nil)
			if err != nil {
				return err
			}
			var h schemaHistoryJSON
			return c.show(b, &h, func() {
				tw := tabwriter.NewWriter(c.out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "VERSION\tTIME\tUSER\tTABLE\tCHANGE")
				for _, e := range h.History {
					fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", e.Version, e.Time.Format(time.RFC3339), e.User, e.Table, e.Change)
				}
				tw.Flush()
			})
		},
	}
	var using, ref string
	alterType := &cobra.Command{
		Use:   "alter-type TABLE COLUMN TYPE",
		Short: "Change a column's type; --using converts the data written so far",
		Long: `Change a column's type, as ALTER TABLE ... ALTER COLUMN ... TYPE ... USING does.
TYPE is an SQL type name (double precision, bigint, text, boolean; quote it or
give it as several words). --using is an SQL expression over one column that
converts the values written before the change; new writes land unconverted.

  fineod schema alter-type thermostat temperature_f "double precision" --using "(temperature_f - 32) * 5 / 9"`,
		Args: cobra.MinimumNArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			body := map[string]any{"type": strings.Join(args[2:], " ")}
			if using != "" {
				body["using"] = using
			}
			if ref != "" {
				body["ref"] = ref
			}
			return c.patchColumn(ctxOf(cmd), args[0], args[1], body)
		},
	}
	alterType.Flags().StringVar(&using, "using", "", "conversion of the data written so far (an SQL expression over one column)")
	alterType.Flags().StringVar(&ref, "ref", "", "the column --using reads (default: the one it names)")

	root.AddCommand(
		show,
		history,
		columnCmd("rename-column TABLE OLD NEW", "Rename a column (the old name stays an alias)",
			func(a []string) map[string]any { return map[string]any{"name": a[2]} }),
		tableCmd("rename-table TABLE NEW", "Rename a table (the old name stays an alias)", 2,
			func(a []string) (map[string]any, error) { return map[string]any{"rename_to": a[1]}, nil }),
		columnCmd("add-alias TABLE COLUMN RAWNAME", "Make raw field RAWNAME (as devices send it) feed COLUMN",
			func(a []string) map[string]any { return map[string]any{"add_alias": a[2]} }),
		columnCmd("remove-alias TABLE COLUMN RAWNAME", "Stop raw field RAWNAME feeding COLUMN",
			func(a []string) map[string]any { return map[string]any{"remove_alias": a[2]} }),
		tableCmd("add-table-alias TABLE ALIAS", "Make ALIAS another name of TABLE (a table named ALIAS merges in)", 2,
			func(a []string) (map[string]any, error) { return map[string]any{"add_alias": a[1]}, nil }),
		tableCmd("remove-table-alias TABLE ALIAS", "Remove a table alias (a merged table stands alone again)", 2,
			func(a []string) (map[string]any, error) { return map[string]any{"remove_alias": a[1]}, nil }),
		columnCmd("drop-column TABLE COLUMN", "Hide a column (its data stays; restore-column brings it back)",
			func(a []string) map[string]any { return map[string]any{"hidden": true} }),
		columnCmd("restore-column TABLE COLUMN", "Show a dropped column again",
			func(a []string) map[string]any { return map[string]any{"hidden": false} }),
		alterType,
		tableCmd("strict TABLE on|off", "Turn strict mode on (new raw fields read in _unmapped until mapped) or off", 2,
			func(a []string) (map[string]any, error) {
				switch strings.ToLower(a[1]) {
				case "on", "true", "yes", "1":
					return map[string]any{"strict": true}, nil
				case "off", "false", "no", "0":
					return map[string]any{"strict": false}, nil
				}
				return nil, fmt.Errorf("strict %q: want on or off", a[1])
			}),
		tableCmd("ttl TABLE DURATION", "Set a table's retention (30d, 12h, 1w; 0 keeps data forever)", 2,
			func(a []string) (map[string]any, error) { return map[string]any{"ttl": a[1]}, nil }),
	)
	return root
}

// printTable prints a table object readably.
func printTable(w io.Writer, t *tableJSON) {
	fmt.Fprintf(w, "table %s (database %s, schema version %d)\n", t.Name, t.Database, t.SchemaVersion)
	if len(t.Aliases) > 0 {
		fmt.Fprintf(w, "  aliases:  %s\n", strings.Join(t.Aliases, ", "))
	}
	if len(t.Members) > 0 {
		fmt.Fprintf(w, "  members:  %s\n", strings.Join(t.Members, ", "))
	}
	strict := "off"
	if t.Strict {
		strict = "on"
	}
	fmt.Fprintf(w, "  strict:   %s\n", strict)
	fmt.Fprintf(w, "  ttl:      %s\n", ttlText(t.TTLSeconds, t.TTL))
	if len(t.Tags) > 0 {
		fmt.Fprintf(w, "  tags:     %s\n", strings.Join(t.Tags, ", "))
	}
	if len(t.Columns) > 0 {
		fmt.Fprintln(w, "  columns:")
		printColumns(&indent{w: w, prefix: "    "}, t.Columns)
	}
	if len(t.Unmapped) > 0 {
		var us []string
		for _, u := range t.Unmapped {
			us = append(us, sourceText(u))
		}
		fmt.Fprintf(w, "  unmapped: %s\n", strings.Join(us, ", "))
	}
}

// printColumns prints columns as a table.
func printColumns(w io.Writer, cols []columnJSON) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tTYPE\tALIASES\tSOURCES")
	for _, c := range cols {
		name := c.Name
		switch {
		case c.Hidden:
			name += " (dropped)"
		case c.Shadowed:
			name += " (shadowed)"
		}
		var srcs []string
		for _, s := range c.Sources {
			srcs = append(srcs, sourceText(s))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", name, c.Type, orDash(strings.Join(c.Aliases, ", ")), orDash(strings.Join(srcs, "; ")))
	}
	tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// sourceText describes a source: table.field (type) and its conversions.
func sourceText(s sourceJSON) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s.%s (%s", s.Table, s.Field, s.RawType)
	if s.Sealed {
		b.WriteString(", sealed")
	}
	b.WriteString(")")
	for _, cv := range s.Conversions {
		fmt.Fprintf(&b, " using %s", cv.Expr)
	}
	return b.String()
}

// ttlText shows a retention in days where it is whole days.
func ttlText(seconds int64, goText string) string {
	switch {
	case seconds == 0 && (goText == "0s" || goText == ""):
		return "forever"
	case seconds%86400 == 0:
		return fmt.Sprintf("%dd", seconds/86400)
	}
	return goText
}

// indent prefixes every line written through it.
type indent struct {
	w      io.Writer
	prefix string
	mid    bool // inside a line
}

func (in *indent) Write(p []byte) (int, error) {
	for _, line := range bytes.SplitAfter(p, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if !in.mid {
			if _, err := io.WriteString(in.w, in.prefix); err != nil {
				return 0, err
			}
		}
		if _, err := in.w.Write(line); err != nil {
			return 0, err
		}
		in.mid = line[len(line)-1] != '\n'
	}
	return len(p), nil
}
