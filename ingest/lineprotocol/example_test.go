package lineprotocol_test

import (
	"fmt"

	"github.com/fineod/fineod/ingest/lineprotocol"
)

func Example() {
	body := []byte(`# weather
weather,location=us-midwest,country=us temperature=82,ok=true 1465839830
weather,location=us-east temperature=
weather,location=us-east temperature=75i,note="hot \"day\""
`)
	var p lineprotocol.Parser
	p.Reset(body, lineprotocol.Second, 1465839999000000000)
	for p.Next() {
		if err := p.Err(); err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("line %d: %s", p.LineNumber(), p.Measurement())
		for _, t := range p.Tags() {
			fmt.Printf(" %s=%s", t.Key, t.Value)
		}
		for _, f := range p.Fields() {
			fmt.Printf(" %s:%v", f.Key, f.Type)
		}
		fmt.Println(" @", p.Time())
	}

	// Encode a point back.
	line, err := lineprotocol.AppendPoint(nil, []byte("weather"),
		[]lineprotocol.Tag{{Key: []byte("location"), Value: []byte("us west")}},
		[]lineprotocol.Field{{Key: []byte("temperature"), Type: lineprotocol.Float, F: 71.5}},
		1465839830000000000)
	fmt.Printf("%s%v\n", line, err)
	// Output:
	// line 2: weather country=us location=us-midwest temperature:float ok:boolean @ 1465839830000000000
	// line 3: unable to parse 'weather,location=us-east temperature=': missing field value
	// line 4: weather location=us-east temperature:integer note:string @ 1465839999000000000
	// weather,location=us\ west temperature=71.5 1465839830000000000
	// <nil>
}
