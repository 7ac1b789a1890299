package pgwire

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgproto3"
)

// Script tests: testdata/*.txt are message exchanges in the style of
// CockroachDB's pgtest. Each file runs on a fresh server and connection
// (already past startup). Blocks are separated by blank lines:
//
//	send
//	Query {"String": "select 1"}
//	----
//
//	until [ignore=Type,Type]
//	ReadyForQuery
//	----
//	{"Type":"RowDescription",...}
//	...
//
// "send" sends each line, a frontend message type and its JSON (CopyData
// takes {"Text": "..."}; Raw takes {"Hex": "..."} and writes those bytes
// as they are). "until" reads backend messages until it has seen each
// listed type in turn and prints them one per line (CopyData as text),
// skipping the ignored types; "until eof" reads until the server closes the
// connection. Run with -rewrite to regenerate the expected output.

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of testdata scripts")

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no scripts: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runScript(t, file)
		})
	}
}

type scriptBlock struct {
	directive string
	input     []string
	output    []string
}

func parseScript(t *testing.T, file string) []scriptBlock {
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var blocks []scriptBlock
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var cur *scriptBlock
	inOutput := false
	for sc.Scan() {
		line := sc.Text()
		switch {
		case cur == nil && (line == "" || strings.HasPrefix(line, "#")):
		case cur == nil:
			blocks = append(blocks, scriptBlock{directive: line})
			cur = &blocks[len(blocks)-1]
			inOutput = false
		case line == "----" && !inOutput:
			inOutput = true
		case line == "" && inOutput:
			cur = nil
		case inOutput:
			cur.output = append(cur.output, line)
		default:
			cur.input = append(cur.input, line)
		}
	}
	return blocks
}

func writeScript(file string, blocks []scriptBlock) error {
	var sb strings.Builder
	for i, b := range blocks {
		if i > 0 {
			sb.WriteString("\n")
		}
		sb.WriteString(b.directive + "\n")
		for _, l := range b.input {
			sb.WriteString(l + "\n")
		}
		sb.WriteString("----\n")
		for _, l := range b.output {
			sb.WriteString(l + "\n")
		}
	}
	return os.WriteFile(file, []byte(sb.String()), 0o644)
}

// frontendMessage builds a message from its script line.
func frontendMessage(line string) (msg pgproto3.FrontendMessage, raw []byte, err error) {
	typ, js, _ := strings.Cut(line, " ")
	if js == "" {
		js = "{}"
	}
	switch typ {
	case "Raw":
		var r struct{ Hex string }
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			return nil, nil, err
		}
		var b []byte
		_, err := fmt.Sscanf(r.Hex, "%x", &b)
		return nil, b, err
	case "CopyData":
		var r struct{ Text string }
		if err := json.Unmarshal([]byte(js), &r); err != nil {
			return nil, nil, err
		}
		return &pgproto3.CopyData{Data: []byte(r.Text)}, nil, nil
	}
	msgs := map[string]pgproto3.FrontendMessage{
		"Query": &pgproto3.Query{}, "Parse": &pgproto3.Parse{}, "Bind": &pgproto3.Bind{},
		"Describe": &pgproto3.Describe{}, "Execute": &pgproto3.Execute{}, "Sync": &pgproto3.Sync{},
		"Flush": &pgproto3.Flush{}, "Close": &pgproto3.Close{}, "CopyDone": &pgproto3.CopyDone{},
		"CopyFail": &pgproto3.CopyFail{}, "Terminate": &pgproto3.Terminate{},
	}
	msg, ok := msgs[typ]
	if !ok {
		return nil, nil, fmt.Errorf("unknown message type %q", typ)
	}
	return msg, nil, json.Unmarshal([]byte(js), msg)
}

// renderMessage prints a backend message as one line of JSON.
func renderMessage(msg pgproto3.BackendMessage) string {
	if cd, ok := msg.(*pgproto3.CopyData); ok {
		if !utf8.Valid(cd.Data) || bytes.ContainsFunc(cd.Data, func(r rune) bool { return r < ' ' && r != '\t' && r != '\n' }) {
			b, _ := json.Marshal(struct{ Type, Hex string }{"CopyData", hex.EncodeToString(cd.Data)})
			return string(b)
		}
		b, _ := json.Marshal(struct{ Type, Text string }{"CopyData", string(cd.Data)})
		return string(b)
	}
	if er, ok := msg.(*pgproto3.ErrorResponse); ok {
		// Only the fields the server sets.
		b, _ := json.Marshal(struct {
			Type, Severity, Code, Message string
			Detail, Hint                  string `json:",omitempty"`
			Position                      int32  `json:",omitempty"`
			Where                         string `json:",omitempty"`
		}{"ErrorResponse", er.Severity, er.Code, er.Message, er.Detail, er.Hint, er.Position, er.Where})
		return string(b)
	}
	b, err := json.Marshal(msg)
	if err != nil {
		return fmt.Sprintf("marshal %T: %v", msg, err)
	}
	return string(b)
}

func typeName2(msg pgproto3.BackendMessage) string {
	return strings.TrimPrefix(fmt.Sprintf("%T", msg), "*pgproto3.")
}

// rawConnect opens a connection and runs the startup, discarding its
// messages up to the first ReadyForQuery.
func rawConnect(t testing.TB, addr string) (net.Conn, *pgproto3.Frontend) {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	fe := pgproto3.NewFrontend(nc, nc)
	fe.Send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersionNumber,
		Parameters: map[string]string{"user": "tester", "database": "db"}})
	if err := fe.Flush(); err != nil {
		t.Fatal(err)
	}
	_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		msg, err := fe.Receive()
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := msg.(*pgproto3.ReadyForQuery); ok {
			return nc, fe
		}
	}
}

func runScript(t *testing.T, file string) {
	ts := startServer(t, nil)
	nc, fe := rawConnect(t, ts.addr)
	defer nc.Close()
	blocks := parseScript(t, file)
	for i := range blocks {
		b := &blocks[i]
		fields := strings.Fields(b.directive)
		var got []string
		switch fields[0] {
		case "send":
			for _, line := range b.input {
				msg, raw, err := frontendMessage(line)
				if err != nil {
					t.Fatalf("%s: %q: %v", file, line, err)
				}
				if raw != nil {
					if err := fe.Flush(); err != nil {
						t.Fatal(err)
					}
					if _, err := nc.Write(raw); err != nil {
						t.Fatal(err)
					}
					continue
				}
				fe.Send(msg)
			}
			if err := fe.Flush(); err != nil {
				t.Fatal(err)
			}
		case "until":
			ignore := map[string]bool{}
			eof := false
			for _, f := range fields[1:] {
				if v, ok := strings.CutPrefix(f, "ignore="); ok {
					for _, x := range strings.Split(v, ",") {
						ignore[x] = true
					}
				}
				if f == "eof" {
					eof = true
				}
			}
			want := b.input
			_ = nc.SetReadDeadline(time.Now().Add(10 * time.Second))
			for eof || len(want) > 0 {
				msg, err := fe.Receive()
				if err != nil {
					if eof {
						got = append(got, "EOF")
						break
					}
					t.Fatalf("%s: block %d (%s): %v; so far:\n%s", file, i, b.directive, err, strings.Join(got, "\n"))
				}
				name := typeName2(msg)
				if len(want) > 0 && name == want[0] {
					want = want[1:]
				}
				if !ignore[name] {
					got = append(got, renderMessage(msg))
				}
			}
		default:
			t.Fatalf("%s: unknown directive %q", file, b.directive)
		}
		if *rewrite {
			b.output = got
			continue
		}
		if strings.Join(got, "\n") != strings.Join(b.output, "\n") {
			t.Errorf("%s: block %d (%s %v):\ngot:\n%s\nwant:\n%s", file, i, b.directive, b.input,
				strings.Join(got, "\n"), strings.Join(b.output, "\n"))
		}
	}
	if *rewrite {
		if err := writeScript(file, blocks); err != nil {
			t.Fatal(err)
		}
	}
}
