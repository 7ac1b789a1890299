package engine_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"time"

	"github.com/fineod/fineod/engine"
)

// Example opens a database, writes two points and reads them back.
func Example() {
	dir, err := os.MkdirTemp("", "fineod-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := engine.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	ctx := context.Background()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	err = db.Write(ctx, []engine.Point{
		{Table: "thermo", Tags: map[string]string{"device": "a"}, Fields: map[string]any{"temp": 21.5}, Time: t0},
		{Table: "thermo", Tags: map[string]string{"device": "a"}, Fields: map[string]any{"temp": 21.7, "door": "open"}, Time: t0.Add(time.Minute)},
	})
	if err != nil {
		log.Fatal(err)
	}
	err = db.Scan(ctx, engine.ScanRequest{Table: "thermo"}, func(r engine.Row) error {
		fmt.Println(r.Time.Format(time.RFC3339), r.Tags["device"], r.Fields)
		return nil
	})
	if err != nil {
		log.Fatal(err)
	}
	// Output:
	// 2024-05-01T12:00:00Z a map[temp:21.5]
	// 2024-05-01T12:01:00Z a map[door:open temp:21.7]
}

// ExampleDB_Query writes points and aggregates them with SQL.
func ExampleDB_Query() {
	dir, err := os.MkdirTemp("", "fineod-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := engine.Open(dir, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()

	ctx := context.Background()
	t0 := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	var points []engine.Point
	for i := 0; i < 6; i++ {
		points = append(points, engine.Point{
			Table:  "thermo",
			Tags:   map[string]string{"device": []string{"a", "b"}[i%2]},
			Fields: map[string]any{"temp": 20 + float64(i)},
			Time:   t0.Add(time.Duration(i) * time.Minute),
		})
	}
	if err := db.Write(ctx, points); err != nil {
		log.Fatal(err)
	}
	rows, err := db.Query(ctx, `SELECT device, count(*), avg(temp), max(time) FROM thermo
		WHERE time >= $1 GROUP BY device ORDER BY device`, t0)
	if err != nil {
		log.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var device string
		var n int64
		var avg float64
		var last time.Time
		if err := rows.Scan(&device, &n, &avg, &last); err != nil {
			log.Fatal(err)
		}
		fmt.Println(device, n, avg, last.Format(time.Kitchen))
	}
	if err := rows.Err(); err != nil {
		log.Fatal(err)
	}
	// Output:
	// a 3 22 12:04PM
	// b 3 23 12:05PM
}
