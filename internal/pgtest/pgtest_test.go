package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts PostgreSQL")
	}
	s := Start(t)
	conn, err := pgx.Connect(context.Background(), s.DSN("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var v string
	if err := conn.QueryRow(context.Background(), "show server_version").Scan(&v); err != nil {
		t.Fatal(err)
	}
	if v[:2] != "15" {
		t.Fatalf("server_version %s", v)
	}
}
