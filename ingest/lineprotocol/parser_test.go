package lineprotocol

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// describe renders the current point of p for comparison in tests:
//
//	measurement [tagkey=tagvalue ...] fieldkey=type:value ... @time
func describe(p *Parser) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%q", p.Measurement())
	for _, t := range p.Tags() {
		fmt.Fprintf(&b, " %q=%q", t.Key, t.Value)
	}
	b.WriteString(" |")
	for _, f := range p.Fields() {
		fmt.Fprintf(&b, " %q=%s", f.Key, describeValue(f))
	}
	fmt.Fprintf(&b, " @%d", p.Time())
	return b.String()
}

func describeValue(f Field) string {
	switch f.Type {
	case Float:
		return fmt.Sprintf("float:%v", f.F)
	case Int:
		return fmt.Sprintf("int:%d", f.I)
	case Uint:
		return fmt.Sprintf("uint:%d", f.U)
	case String:
		return fmt.Sprintf("string:%q", f.S)
	case Bool:
		return fmt.Sprintf("bool:%v", f.B)
	}
	return "invalid"
}

// parseOne parses a body that must hold exactly one point or bad line.
func parseOne(t *testing.T, body string, prec Precision) (string, *LineError) {
	t.Helper()
	var p Parser
	p.Reset([]byte(body), prec, 42)
	if !p.Next() {
		t.Fatalf("no line in %q", body)
	}
	got, err := describe(&p), p.Err()
	if p.Next() {
		t.Fatalf("more than one line in %q", body)
	}
	return got, err
}

func TestParseValid(t *testing.T) {
	tests := map[string]struct{ in, want string }{
		"measurement and one field":     {`cpu value=1`, `"cpu" | "value"=float:1 @42`},
		"with timestamp":                {`cpu value=1 1700000000000000000`, `"cpu" | "value"=float:1 @1700000000000000000`},
		"negative timestamp":            {`cpu value=1 -5`, `"cpu" | "value"=float:1 @-5`},
		"zero timestamp":                {`cpu value=1 0`, `"cpu" | "value"=float:1 @0`},
		"max int64 timestamp":           {`cpu value=1 9223372036854775807`, `"cpu" | "value"=float:1 @9223372036854775807`},
		"min int64 timestamp":           {`cpu value=1 -9223372036854775808`, `"cpu" | "value"=float:1 @-9223372036854775808`},
		"tags":                          {`cpu,host=a,region=eu v=1`, `"cpu" "host"="a" "region"="eu" | "v"=float:1 @42`},
		"tags sorted by key":            {`cpu,z=1,a=2,m=3 v=1`, `"cpu" "a"="2" "m"="3" "z"="1" | "v"=float:1 @42`},
		"fields keep line order":        {`cpu z=1,a=2`, `"cpu" | "z"=float:1 "a"=float:2 @42`},
		"duplicate field last wins":     {`cpu a=1,b=2,a=3i`, `"cpu" | "b"=float:2 "a"=int:3 @42`},
		"duplicate field three times":   {`cpu a=1,a=2,a="x"`, `"cpu" | "a"=string:"x" @42`},
		"float with decimals":           {`m f=-1.5`, `"m" | "f"=float:-1.5 @42`},
		"float exponent":                {`m f=1e-3`, `"m" | "f"=float:0.001 @42`},
		"float exponent upper plus":     {`m f=-1.5E+10`, `"m" | "f"=float:-1.5e+10 @42`},
		"float leading dot":             {`m f=.5`, `"m" | "f"=float:0.5 @42`},
		"float trailing dot":            {`m f=5.`, `"m" | "f"=float:5 @42`},
		"float negative zero":           {`m f=-0`, `"m" | "f"=float:-0 @42`},
		"float underflow is zero":       {`m f=1e-400`, `"m" | "f"=float:0 @42`},
		"integer":                       {`m f=12i`, `"m" | "f"=int:12 @42`},
		"negative integer":              {`m f=-12i`, `"m" | "f"=int:-12 @42`},
		"max integer":                   {`m f=9223372036854775807i`, `"m" | "f"=int:9223372036854775807 @42`},
		"min integer":                   {`m f=-9223372036854775808i`, `"m" | "f"=int:-9223372036854775808 @42`},
		"integer leading zeros":         {`m f=007i`, `"m" | "f"=int:7 @42`},
		"unsigned":                      {`m f=12u`, `"m" | "f"=uint:12 @42`},
		"max unsigned":                  {`m f=18446744073709551615u`, `"m" | "f"=uint:18446744073709551615 @42`},
		"bool t":                        {`m a=t,b=T,c=true,d=True,e=TRUE`, `"m" | "a"=bool:true "b"=bool:true "c"=bool:true "d"=bool:true "e"=bool:true @42`},
		"bool f":                        {`m a=f,b=F,c=false,d=False,e=FALSE`, `"m" | "a"=bool:false "b"=bool:false "c"=bool:false "d"=bool:false "e"=bool:false @42`},
		"string":                        {`m s="hello"`, `"m" | "s"=string:"hello" @42`},
		"empty string":                  {`m s=""`, `"m" | "s"=string:"" @42`},
		"string with space comma equal": {`m s="a b,c=d" 1`, `"m" | "s"=string:"a b,c=d" @1`},
		"string escaped quote":          {`m s="say \"hi\""`, `"m" | "s"=string:"say \"hi\"" @42`},
		"string escaped backslash":      {`m s="a\\b"`, `"m" | "s"=string:"a\\b" @42`},
		"string lone backslash literal": {`m s="a\b"`, `"m" | "s"=string:"a\\b" @42`},
		"string trailing escaped slash": {`m s="a\\"`, `"m" | "s"=string:"a\\" @42`},
		"string with newline":           {"m s=\"a\nb\" 1", `"m" | "s"=string:"a\nb" @1`},
		"string with CRLF inside":       {"m s=\"a\r\nb\"\r\n", `"m" | "s"=string:"a\r\nb" @42`},
		"string with hash":              {`m s="#x"`, `"m" | "s"=string:"#x" @42`},
		"mixed types":                   {`m a=1,b=2i,c=3u,d="x",e=t 7`, `"m" | "a"=float:1 "b"=int:2 "c"=uint:3 "d"=string:"x" "e"=bool:true @7`},
		"measurement escaped comma":     {`c\,pu v=1`, `"c,pu" | "v"=float:1 @42`},
		"measurement escaped space":     {`c\ pu v=1`, `"c pu" | "v"=float:1 @42`},
		"measurement escaped backslash": {`c\\ v=1`, `"c\\" | "v"=float:1 @42`},
		"measurement literal backslash": {`c\pu v=1`, `"c\\pu" | "v"=float:1 @42`},
		"measurement equals literal":    {`a=b v=1`, `"a=b" | "v"=float:1 @42`},
		"measurement quote literal":     {`"m" v=1`, `"\"m\"" | "v"=float:1 @42`},
		"measurement unicode":           {`温度,地点=东京 值=1`, `"温度" "地点"="东京" | "值"=float:1 @42`},
		"tag escapes":                   {`m,a\ b=c\,d,e\=f=g\=h v=1`, `"m" "a b"="c,d" "e=f"="g=h" | "v"=float:1 @42`},
		"tag value with quote":          {`m,t="x" v=1`, `"m" "t"="\"x\"" | "v"=float:1 @42`},
		"field key escapes":             {`m a\ b=1,c\,d=2,e\=f=3`, `"m" | "a b"=float:1 "c,d"=float:2 "e=f"=float:3 @42`},
		"field key with quote":          {`m a"b=1`, `"m" | "a\"b"=float:1 @42`},
		"leading whitespace":            {" \t cpu v=1", `"cpu" | "v"=float:1 @42`},
		"extra spaces between sections": {`cpu,t=1   v=1   5   `, `"cpu" "t"="1" | "v"=float:1 @5`},
		"trailing space no timestamp":   {`cpu v=1 `, `"cpu" | "v"=float:1 @42`},
		"CRLF":                          {"cpu v=1 5\r\n", `"cpu" | "v"=float:1 @5`},
		"CR at end of buffer":           {"cpu v=1\r", `"cpu" | "v"=float:1 @42`},
		"tag key is not time":           {`m,times=1 timer=2`, `"m" "times"="1" | "timer"=float:2 @42`},
		"escaped time is time too":      {`m,tim\e=1 v=1`, `"m" "tim\\e"="1" | "v"=float:1 @42`},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseOne(t, tc.in, Nanosecond)
			if err != nil {
				t.Fatalf("parse %q: %v", tc.in, err)
			}
			if got != tc.want {
				t.Errorf("parse %q\n got %s\nwant %s", tc.in, got, tc.want)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := map[string]struct{ in, reason string }{
		"measurement only":               {`cpu`, "missing fields"},
		"measurement and space":          {`cpu `, "missing fields"},
		"starts with comma":              {`,t=1 v=1`, "missing measurement"},
		"tags but no fields":             {`cpu,t=1`, "missing fields"},
		"tags and space but no fields":   {`cpu,t=1 `, "missing fields"},
		"empty tag key":                  {`cpu,=1 v=1`, "missing tag key"},
		"trailing comma in tags":         {`cpu, v=1`, "missing tag key"},
		"comma at end":                   {`cpu,`, "missing tag key"},
		"tag key without value":          {`cpu,t v=1`, "missing tag value"},
		"tag key at end":                 {`cpu,t`, "missing tag value"},
		"empty tag value":                {`cpu,t= v=1`, "missing tag value"},
		"empty tag value before comma":   {`cpu,t=,u=1 v=1`, "missing tag value"},
		"tag value with equals":          {`cpu,t=a=b v=1`, "invalid tag format"},
		"duplicate tags":                 {`cpu,a=1,a=2 v=1`, "duplicate tags"},
		"duplicate tags unsorted":        {`cpu,b=1,a=1,b=2 v=1`, "duplicate tags"},
		"duplicate tags after unescape":  {`cpu,a\=b=1,a\=b=2 v=1`, "duplicate tags"},
		"tag named time":                 {`cpu,time=1 v=1`, `invalid tag key: input tag "time" on measurement "cpu" is invalid`},
		"field named time":               {`cpu time=1`, `invalid field name: input field "time" on measurement "cpu" is invalid`},
		"field key without value":        {`cpu v`, "invalid field format"},
		"second field without value":     {`cpu v=1,w`, "invalid field format"},
		"trailing comma in fields":       {`cpu v=1,`, "invalid field format"},
		"empty field key":                {`cpu =1`, "missing field key"},
		"empty second field key":         {`cpu v=1,=2`, "missing field key"},
		"empty field value":              {`cpu v=`, "missing field value"},
		"empty field value before comma": {`cpu v=,w=1`, "missing field value"},
		"empty field value before space": {`cpu v= 1`, "missing field value"},
		"unbalanced quotes":              {`cpu v="abc`, "unbalanced quotes"},
		"unbalanced escaped quote":       {`cpu v="abc\"`, "unbalanced quotes"},
		"text after string":              {`cpu v="a"b`, "invalid field format"},
		"two decimal points":             {`cpu v=1.1.1`, "invalid number"},
		"minus only":                     {`cpu v=-`, "invalid number"},
		"plus sign":                      {`cpu v=+1`, "invalid number"},
		"dot only":                       {`cpu v=.`, "invalid number"},
		"inner minus":                    {`cpu v=1-2`, "invalid number"},
		"exponent without digits":        {`cpu v=1e`, "invalid number"},
		"hex float":                      {`cpu v=0x1p-2`, "invalid number"},
		"underscore":                     {`cpu v=1_000`, "invalid number"},
		"NaN":                            {`cpu v=NaN`, "invalid number"},
		"minus Inf":                      {`cpu v=-Inf`, "invalid number"},
		"float with i suffix":            {`cpu v=1.5i`, "invalid number"},
		"exponent with i suffix":         {`cpu v=1e3i`, "invalid number"},
		"i suffix only":                  {`cpu v=-i`, "invalid number"},
		"double suffix":                  {`cpu v=1ii`, "invalid number"},
		"digit after suffix":             {`cpu v=9i10`, "invalid number"},
		"negative unsigned":              {`cpu v=-1u`, "invalid number"},
		"float unsigned":                 {`cpu v=1.0u`, "invalid number"},
		"integer overflow":               {`cpu v=9223372036854775808i`, "unable to parse integer 9223372036854775808: value out of range"},
		"integer underflow":              {`cpu v=-9223372036854775809i`, "unable to parse integer -9223372036854775809: value out of range"},
		"unsigned overflow":              {`cpu v=18446744073709551616u`, "unable to parse unsigned 18446744073709551616: value out of range"},
		"float overflow":                 {`cpu v=1e400`, "unable to parse float 1e400: value out of range"},
		"bad boolean":                    {`cpu v=yes`, "invalid boolean"},
		"bad boolean prefix":             {`cpu v=tru`, "invalid boolean"},
		"bad boolean mixed case":         {`cpu v=tRUE`, "invalid boolean"},
		"bad boolean suffix":             {`cpu v=truex`, "invalid boolean"},
		"single quoted string":           {`cpu v='a'`, "invalid boolean"},
		"bad timestamp":                  {`cpu v=1 12a`, "bad timestamp"},
		"float timestamp":                {`cpu v=1 1.5`, "bad timestamp"},
		"minus timestamp":                {`cpu v=1 -`, "bad timestamp"},
		"timestamp overflow":             {`cpu v=1 9223372036854775808`, "time outside range"},
		"two timestamps":                 {`cpu v=1 1 2`, "unexpected text after timestamp"},
		"tab before timestamp":           {"cpu v=1\t1", "invalid number"},
		"field after timestamp space":    {`cpu v=1 w=2`, "bad timestamp"},
		"string in timestamp position":   {"cpu v=1 w=\"a\nb\"", "bad timestamp"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			got, err := parseOne(t, tc.in, Nanosecond)
			if err == nil {
				t.Fatalf("parse %q: got %s, want error %q", tc.in, got, tc.reason)
			}
			if err.Reason != tc.reason {
				t.Errorf("parse %q: reason %q, want %q", tc.in, err.Reason, tc.reason)
			}
			if err.Line != 1 || string(err.Raw) != strings.TrimLeft(strings.TrimRight(tc.in, "\r\n"), " \t") {
				t.Errorf("parse %q: line %d raw %q", tc.in, err.Line, err.Raw)
			}
			if got != `"" | @0` {
				t.Errorf("parse %q: bad line still yields a point: %s", tc.in, got)
			}
		})
	}
}

func TestLineErrorString(t *testing.T) {
	e := &LineError{Line: 3, Reason: "missing fields", Raw: []byte("cpu,host=a")}
	if got, want := e.Error(), "line 3: unable to parse 'cpu,host=a': missing fields"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	long := &LineError{Line: 1, Reason: "r", Raw: []byte(strings.Repeat("x", 2000))}
	if got := long.Error(); !strings.HasSuffix(got, "...': r") || len(got) > 1100 {
		t.Errorf("long raw not cut: %d bytes", len(got))
	}
}

func TestMultiLine(t *testing.T) {
	body := "# comment\n" + // 1
		"cpu,host=a usage=1 10\n" + // 2
		"\n" + // 3
		"cpu,host=b usage= 20\n" + // 4: bad
		"   \t  \n" + // 5
		"  cpu,host=c usage=3 30\r\n" + // 6
		"mem free=\"line one\nline two\" 40\n" + // 7-8
		"mem free=\"unclosed 50\n" + // 9: bad, and swallows the rest
		"cpu,host=d usage=4 60\n" // 10
	want := []string{
		`2: "cpu" "host"="a" | "usage"=float:1 @10`,
		`4: error "missing field value" raw "cpu,host=b usage= 20"`,
		`6: "cpu" "host"="c" | "usage"=float:3 @30`,
		`7: "mem" | "free"=string:"line one\nline two" @40`,
		`9: error "unbalanced quotes" raw "mem free=\"unclosed 50\ncpu,host=d usage=4 60"`,
	}
	var p Parser
	p.Reset([]byte(body), Nanosecond, 0)
	var got []string
	for p.Next() {
		if err := p.Err(); err != nil {
			if err.Line != p.LineNumber() || string(err.Raw) != string(p.Raw()) {
				t.Errorf("error %v disagrees with LineNumber %d / Raw %q", err, p.LineNumber(), p.Raw())
			}
			got = append(got, fmt.Sprintf("%d: error %q raw %q", err.Line, err.Reason, err.Raw))
			continue
		}
		got = append(got, fmt.Sprintf("%d: %s", p.LineNumber(), describe(&p)))
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if p.Next() || p.LineNumber() != 0 || p.Raw() != nil || p.Err() != nil {
		t.Errorf("Next after the end: LineNumber %d Raw %q Err %v", p.LineNumber(), p.Raw(), p.Err())
	}
}

func TestGoodLinesSurviveBadOnes(t *testing.T) {
	var body strings.Builder
	for i := 1; i <= 100; i++ {
		if i%7 == 0 {
			fmt.Fprintf(&body, "bad,line=%d\n", i)
		} else {
			fmt.Fprintf(&body, "good,line=%d v=%di %d\n", i, i, i)
		}
	}
	var p Parser
	p.Reset([]byte(body.String()), Second, 0)
	good, bad := 0, 0
	for p.Next() {
		n := p.LineNumber()
		if err := p.Err(); err != nil {
			bad++
			if n%7 != 0 || err.Reason != "missing fields" || err.Line != n {
				t.Errorf("line %d: unexpected error %v", n, err)
			}
			continue
		}
		good++
		if n%7 == 0 || p.Fields()[0].I != int64(n) || p.Time() != int64(n)*1e9 || string(p.Tags()[0].Value) != fmt.Sprint(n) {
			t.Errorf("line %d: unexpected point %s", n, describe(&p))
		}
	}
	if good != 86 || bad != 14 {
		t.Errorf("good %d bad %d, want 86 and 14", good, bad)
	}
}

func TestPrecision(t *testing.T) {
	tests := map[string]struct {
		prec   string
		ts     string
		want   int64
		reason string
	}{
		"default ns":        {"", "1700000000123456789", 1700000000123456789, ""},
		"n":                 {"n", "5", 5, ""},
		"ns":                {"ns", "5", 5, ""},
		"u":                 {"u", "5", 5000, ""},
		"us":                {"us", "5", 5000, ""},
		"micro sign":        {"µ", "5", 5000, ""},
		"greek mu":          {"μ", "5", 5000, ""},
		"ms":                {"ms", "5", 5e6, ""},
		"s":                 {"s", "1700000000", 1700000000e9, ""},
		"negative s":        {"s", "-2", -2e9, ""},
		"m":                 {"m", "2", 120e9, ""},
		"h":                 {"h", "2", 7200e9, ""},
		"s max":             {"s", "9223372036", 9223372036e9, ""},
		"s overflow":        {"s", "9223372037", 0, "time outside range"},
		"s underflow":       {"s", "-9223372037", 0, "time outside range"},
		"h overflow":        {"h", "2562048", 0, "time outside range"},
		"ms overflow":       {"ms", "9223372036855", 0, "time outside range"},
		"us near max":       {"us", "9223372036854775", 9223372036854775000, ""},
		"us overflow":       {"us", "9223372036854776", 0, "time outside range"},
		"ns digit overflow": {"ns", "99999999999999999999", 0, "time outside range"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			prec, err := ParsePrecision(tc.prec)
			if err != nil {
				t.Fatal(err)
			}
			var p Parser
			p.Reset([]byte("m v=1 "+tc.ts), prec, 0)
			p.Next()
			if tc.reason != "" {
				if p.Err() == nil || p.Err().Reason != tc.reason {
					t.Fatalf("got %v, want reason %q", p.Err(), tc.reason)
				}
				return
			}
			if p.Err() != nil {
				t.Fatal(p.Err())
			}
			if p.Time() != tc.want {
				t.Errorf("time %d, want %d", p.Time(), tc.want)
			}
		})
	}
	for _, bad := range []string{"x", "NS", "sec", "mss", "µss"} {
		if _, err := ParsePrecision(bad); !errors.Is(err, ErrInvalidPrecision) {
			t.Errorf("ParsePrecision(%q) = %v, want ErrInvalidPrecision", bad, err)
		}
	}
	// The default time is used as given, whatever the precision.
	var p Parser
	p.Reset([]byte("m v=1"), Hour, 1234567)
	if !p.Next() || p.Err() != nil || p.Time() != 1234567 {
		t.Errorf("default time: %v %d", p.Err(), p.Time())
	}
}

func TestCRLFBody(t *testing.T) {
	body := "a v=1 1\r\n\r\nb,t=x v=2i 2\r\n# c\r\nc v=\"s\" 3\r\n"
	var p Parser
	p.Reset([]byte(body), Nanosecond, 0)
	var got []string
	for p.Next() {
		if p.Err() != nil {
			t.Fatalf("line %d: %v", p.LineNumber(), p.Err())
		}
		got = append(got, fmt.Sprintf("%d %s", p.LineNumber(), describe(&p)))
	}
	want := `1 "a" | "v"=float:1 @1|3 "b" "t"="x" | "v"=int:2 @2|5 "c" | "v"=string:"s" @3`
	if strings.Join(got, "|") != want {
		t.Errorf("got  %s\nwant %s", strings.Join(got, "|"), want)
	}
}

func TestManyFieldsAndTags(t *testing.T) {
	// Long field sets take the sorted deduplication path; long tag sets the
	// library sort.
	var b strings.Builder
	b.WriteString("m")
	for i := 99; i >= 0; i-- {
		fmt.Fprintf(&b, ",t%02d=v", i)
	}
	b.WriteString(" ")
	for i := 0; i < 200; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "f%d=%di", i%100, i)
	}
	var p Parser
	p.Reset([]byte(b.String()), Nanosecond, 0)
	if !p.Next() || p.Err() != nil {
		t.Fatal(p.Err())
	}
	if len(p.Tags()) != 100 || string(p.Tags()[0].Key) != "t00" || string(p.Tags()[99].Key) != "t99" {
		t.Errorf("tags not sorted: first %s last %s", p.Tags()[0].Key, p.Tags()[len(p.Tags())-1].Key)
	}
	if len(p.Fields()) != 100 {
		t.Fatalf("%d fields, want 100", len(p.Fields()))
	}
	for i, f := range p.Fields() {
		if string(f.Key) != fmt.Sprintf("f%d", i) || f.I != int64(i+100) {
			t.Fatalf("field %d = %s=%d, want f%d=%d", i, f.Key, f.I, i, i+100)
		}
	}
	p.Reset([]byte(strings.Replace(b.String(), "t42=v", "t07=v", 1)), Nanosecond, 0)
	if !p.Next() || p.Err() == nil || p.Err().Reason != "duplicate tags" {
		t.Errorf("long duplicate tags: %v", p.Err())
	}
}

func TestReturnedSlicesAreCapped(t *testing.T) {
	buf := []byte("m,t=v f=1,g=\"s\"")
	var p Parser
	p.Reset(buf, Nanosecond, 0)
	p.Next()
	_ = append(p.Measurement(), 'X')
	_ = append(p.Tags()[0].Value, 'X')
	_ = append(p.Fields()[1].S, 'X')
	if string(buf) != "m,t=v f=1,g=\"s\"" {
		t.Errorf("appending to returned slices changed the buffer: %q", buf)
	}
}

func TestNoAllocs(t *testing.T) {
	body := makeCPUBody(100, false)
	escaped := []byte("we\\ ather,lo\\,c=us\\ west,z=1 te\\=mp=82.5,msg=\"a \\\"b\\\"\",n=3i 1465839830100400200\n")
	var p Parser
	for name, buf := range map[string][]byte{"tsbs cpu": body, "escaped": escaped} {
		p.Reset(buf, Nanosecond, 0) // warm up
		for p.Next() {
		}
		allocs := testing.AllocsPerRun(50, func() {
			p.Reset(buf, Nanosecond, 0)
			for p.Next() {
				if p.Err() != nil {
					t.Fatal(p.Err())
				}
			}
		})
		if allocs != 0 {
			t.Errorf("%s: %v allocations per body, want 0", name, allocs)
		}
	}
}

func TestParsedValuesMatchGenerator(t *testing.T) {
	var p Parser
	p.Reset(makeCPUBody(3, true), Nanosecond, 0)
	n := 0
	for p.Next() {
		if p.Err() != nil {
			t.Fatal(p.Err())
		}
		if len(p.Tags()) != 10 || len(p.Fields()) != 10 || string(p.Tags()[0].Key) != "arch" {
			t.Fatalf("unexpected point %s", describe(&p))
		}
		for _, f := range p.Fields() {
			if f.Type != Float || math.IsNaN(f.F) {
				t.Fatalf("unexpected field %s", describe(&p))
			}
		}
		n++
	}
	if n != 3 {
		t.Errorf("%d points, want 3", n)
	}
}
