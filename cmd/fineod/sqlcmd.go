package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/spf13/cobra"
)

func newSQLCmd() *cobra.Command {
	var addr, database, user, format string
	cmd := &cobra.Command{
		Use:   "sql [query]",
		Short: "Run SQL against a fineod server and print the result",
		Long: `Run SQL against a fineod server over the Postgres wire protocol and print
the result as a table (or CSV). With no query argument, statements are read
from standard input, one per line or ended by semicolons.

  fineod sql "SELECT hostname, max(usage_user) FROM cpu GROUP BY 1"
  echo "SELECT count(*) FROM cpu;" | fineod sql -d benchmark`,
		Args: cobra.MaximumNArgs(1),
		PreRunE: func(cmd *cobra.Command, args []string) error {
			return applyEnv(cmd.Flags())
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if ctx == nil {
				ctx = context.Background()
			}
			dsn := fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable&application_name=fineod-sql", user, addr, database)
			cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			conn, err := pgx.Connect(cctx, dsn)
			cancel()
			if err != nil {
				return fmt.Errorf("connect to %s: %w", addr, err)
			}
			defer conn.Close(context.Background())
			out := cmd.OutOrStdout()
			if len(args) == 1 {
				return runSQL(ctx, conn, args[0], format, out)
			}
			sc := bufio.NewScanner(cmd.InOrStdin())
			sc.Buffer(make([]byte, 1<<20), 64<<20)
			var stmt strings.Builder
			for sc.Scan() {
				stmt.WriteString(sc.Text())
				stmt.WriteString("\n")
				if strings.HasSuffix(strings.TrimSpace(sc.Text()), ";") {
					if err := runSQL(ctx, conn, stmt.String(), format, out); err != nil {
						fmt.Fprintln(cmd.ErrOrStderr(), "ERROR:", err)
					}
					stmt.Reset()
				}
			}
			if strings.TrimSpace(stmt.String()) != "" {
				return runSQL(ctx, conn, stmt.String(), format, out)
			}
			return sc.Err()
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "pg-addr", "127.0.0.1:5433", "address of the fineod Postgres wire server")
	f.StringVarP(&database, "database", "d", "fineo", "database")
	f.StringVarP(&user, "user", "U", "fineo", "user name")
	f.StringVar(&format, "format", "table", "output format: table or csv")
	return cmd
}

// runSQL runs one or more statements (simple protocol) and prints each result.
func runSQL(ctx context.Context, conn *pgx.Conn, query, format string, w io.Writer) error {
	results, err := conn.PgConn().Exec(ctx, query).ReadAll()
	for _, r := range results {
		if r.Err != nil {
			return r.Err
		}
		printResult(w, r, format)
	}
	return err
}

func printResult(w io.Writer, r *pgconn.Result, format string) {
	if len(r.FieldDescriptions) == 0 {
		fmt.Fprintln(w, r.CommandTag.String())
		return
	}
	cols := make([]string, len(r.FieldDescriptions))
	for i, fd := range r.FieldDescriptions {
		cols[i] = fd.Name
	}
	cell := func(v []byte) string {
		if v == nil {
			return ""
		}
		return string(v)
	}
	if format == "csv" {
		fmt.Fprintln(w, strings.Join(csvQuote(cols), ","))
		for _, row := range r.Rows {
			vals := make([]string, len(row))
			for i, v := range row {
				vals[i] = cell(v)
			}
			fmt.Fprintln(w, strings.Join(csvQuote(vals), ","))
		}
		return
	}
	width := make([]int, len(cols))
	for i, c := range cols {
		width[i] = utf8.RuneCountInString(c)
	}
	for _, row := range r.Rows {
		for i, v := range row {
			if n := utf8.RuneCountInString(cell(v)); n > width[i] {
				width[i] = n
			}
		}
	}
	line := func(vals []string) {
		for i, v := range vals {
			if i > 0 {
				fmt.Fprint(w, " | ")
			}
			fmt.Fprint(w, v+strings.Repeat(" ", width[i]-utf8.RuneCountInString(v)))
		}
		fmt.Fprintln(w)
	}
	line(cols)
	sep := make([]string, len(cols))
	for i := range sep {
		sep[i] = strings.Repeat("-", width[i])
	}
	fmt.Fprintln(w, strings.Join(sep, "-+-"))
	for _, row := range r.Rows {
		vals := make([]string, len(row))
		for i, v := range row {
			vals[i] = cell(v)
		}
		line(vals)
	}
	n := len(r.Rows)
	if n == 1 {
		fmt.Fprintln(w, "(1 row)")
	} else {
		fmt.Fprintf(w, "(%d rows)\n", n)
	}
}

func csvQuote(vals []string) []string {
	out := make([]string, len(vals))
	for i, v := range vals {
		if strings.ContainsAny(v, ",\"\n\r") {
			v = `"` + strings.ReplaceAll(v, `"`, `""`) + `"`
		}
		out[i] = v
	}
	return out
}
