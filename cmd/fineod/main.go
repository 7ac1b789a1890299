// Command fineod is the fineod time-series database server and its tools.
//
//	fineod serve     run the server (HTTP line protocol ingest, /metrics)
//	fineod sql       run SQL against a server and print the result
//	fineod compact   move history into Parquet segments now
//	fineod schema    show and change the logical schema (renames, aliases, types)
//	fineod version   print the version
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRootCmd().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "fineod:", err)
		os.Exit(1)
	}
}

func newRootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:           "fineod",
		Short:         "fineod: a single-binary time-series database for IoT data",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCmd(), newVersionCmd(), newSQLCmd(), newCompactCmd(), newSchemaCmd())
	return root
}
