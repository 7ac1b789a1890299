// Package lineprotocol parses and writes InfluxDB line protocol, the text
// format of the /write (v1) and /api/v2/write endpoints. It owns the syntax
// only: which database a body goes to, and what happens to its points and
// errors, is the caller's business.
//
// Files:
//
//   - point.go: Precision and ParsePrecision, FieldType, Tag, Field, LineError.
//   - parser.go: Parser, the iterator over the lines of a body, and line splitting.
//   - parse.go: the scanner of one line, value parsing, tag sorting, field deduplication.
//   - encode.go: AppendPoint, which writes one escaped line.
//
// # Grammar
//
// A body is a sequence of lines separated by "\n" ("\r\n" is accepted).
// Blank lines, and lines whose first non-blank byte is '#', are skipped.
// Leading spaces and tabs are ignored. Each other line is one point:
//
//	line        = measurement { "," tagkey "=" tagvalue } " " fields [ " " timestamp ] { " " }
//	fields      = fieldkey "=" fieldvalue { "," fieldkey "=" fieldvalue }
//	fieldvalue  = float | integer "i" | unsigned "u" | string | boolean
//	float       = [ "-" ] digits with at most one "." and an optional exponent: 1, -1.5, .5, 5., 1e-3, -1.5E+10
//	integer     = [ "-" ] decimal digits (int64; out of range is an error)
//	unsigned    = decimal digits (uint64)
//	string      = '"' { any byte, with \" and \\ escaped } '"'
//	boolean     = t | T | true | True | TRUE | f | F | false | False | FALSE
//	timestamp   = [ "-" ] decimal digits, in units of the request's precision
//
// The separators between the key, the fields and the timestamp are one or
// more spaces (not tabs). A number without suffix is a float; NaN, Inf,
// hexadecimal and a leading '+' are invalid. Names are case-sensitive.
//
// Escaping. A backslash escapes the characters that would otherwise end the
// token, and itself:
//
//	measurement:                  ,  space  \
//	tag key, tag value, field key: ,  =  space  \
//	string field value:           "  \
//
// A backslash before any other byte is a literal backslash ("C:\dir" is
// C:\dir), so "\\" reads as one backslash, as the InfluxDB documentation
// says. AppendPoint escapes a backslash only where it would otherwise escape
// what follows, so its output reads the same in InfluxDB 1.x.
//
// Newlines. A quoted string field value may contain raw newlines, as
// InfluxDB 1.x and 2.x parsers accept (the InfluxDB docs discourage them):
// a quote opens a string where it follows an unescaped '=' after the first
// unescaped space of a line, and the line goes on to the closing quote. A
// string that is never closed therefore makes the rest of the body one bad
// line ("unbalanced quotes"). Newlines are not allowed anywhere else.
// Lines without a '"' are split with a plain newline search.
//
// # Decisions on duplicates and reserved names
//
//   - Tags are returned sorted by key, the canonical order of a series. Two
//     tags with the same key (after unescaping) make the line invalid:
//     "duplicate tags", as InfluxDB 1.x.
//   - Two fields with the same key are not an error: the last one wins,
//     whatever its type, and the earlier ones are dropped; the others keep
//     the order of the line. InfluxDB stores both at the same time, so the
//     later value wins there too.
//   - A tag or field named "time" makes the whole line invalid, with
//     InfluxDB 1.x's message. (InfluxDB 1.x drops only that field and
//     writes the rest; fineod's time column makes the name ambiguous.)
//   - Empty tag values are invalid ("missing tag value"), as in InfluxDB.
//   - A missing timestamp gives the default time passed to Parser.Reset,
//     used as is (not truncated to the precision).
//   - Timestamps cover the whole int64 range in nanoseconds; one that does
//     not fit, before or after scaling by the precision, is "time outside
//     range".
//
// # Errors
//
// A malformed line yields a *LineError whose Reason is one of:
//
//	missing measurement, missing tag key, missing tag value, invalid tag format,
//	duplicate tags, missing fields, missing field key, missing field value,
//	invalid field format, unbalanced quotes, invalid number, invalid boolean,
//	bad timestamp, time outside range, unexpected text after timestamp,
//	unable to parse integer|unsigned|float <v>: value out of range,
//	invalid tag key: input tag "time" on measurement "<m>" is invalid,
//	invalid field name: input field "time" on measurement "<m>" is invalid
//
// These are InfluxDB 1.x's reasons where it has a specific one. The parser
// goes on with the next line, so good lines of a body are still returned.
//
// # Ownership and allocation
//
// Slices returned by the Parser (measurement, tag and field keys and values,
// Raw) alias the body when there was nothing to unescape, and otherwise a
// scratch buffer of the Parser; either way they are valid only until the
// next call to Next or Reset. A warmed-up Parser does not allocate per line
// or per field (TestNoAllocs); a bad line allocates its LineError.
//
// # Speed
//
// On TSBS DevOps "cpu" lines (10 tags in TSBS order, so they need sorting;
// 10 usage fields; nanosecond timestamps; 346 bytes a line), on one core of
// a shared 2-vCPU Intel Xeon VM, Go 1.26, ranges over several runs:
//
//	go test -run XXX -bench 'Parse|Append' -benchtime 3s -count 2 ./ingest/lineprotocol
//	BenchmarkParseCPU       integer fields (as TSBS writes them): 366-422 MB/s, 1.06-1.22 M lines/s, 0 allocs
//	BenchmarkParseCPUFloat  full-precision floats:                235-236 MB/s, 0.48 M lines/s, 0 allocs
//	BenchmarkParseEscaped   escapes and strings in every token:   115-156 MB/s, 1.36-1.84 M lines/s, 0 allocs
//	BenchmarkAppendPoint    encoding one cpu line:                374-425 MB/s, 0.8-0.9 µs a line, 0 allocs
//
// Float fields cost most (strconv.ParseFloat); then scanning, tag sorting
// and field deduplication.
package lineprotocol
