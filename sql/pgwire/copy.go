package pgwire

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"time"
)

// This file holds the COPY data formats, which are wire formats: text (tab
// separated, \N for NULL, backslash escapes), CSV, and PostgreSQL's binary
// COPY format:
//
//	+-------------------------------+------------+----------------+--------+
//	| signature "PGCOPY\n\377\r\n\0" | flags int32| ext len int32  |  ext   |
//	+-------------------------------+------------+----------------+--------+
//	then per tuple: int16 field count, then per field int32 length (-1 for
//	NULL) and that many bytes of the type's binary format; a field count of
//	-1 ends the data.

// CopyFormat is the data format of a COPY.
type CopyFormat uint8

// The COPY formats.
const (
	CopyText CopyFormat = iota
	CopyCSV
	CopyBinary
)

func (f CopyFormat) String() string {
	switch f {
	case CopyText:
		return "text"
	case CopyCSV:
		return "csv"
	case CopyBinary:
		return "binary"
	}
	return fmt.Sprintf("CopyFormat(%d)", uint8(f))
}

// CopyOptions are the options of a COPY statement that shape its data. A
// zero field means PostgreSQL's default for the format.
type CopyOptions struct {
	Format CopyFormat
	// Delimiter separates fields. Default: tab in text, ',' in CSV.
	Delimiter byte
	// Null is the text of a NULL field. Default (""): `\N` in text; in CSV
	// an unquoted empty field (NULL ” in text format cannot be expressed).
	Null string
	// Header: in CSV the first line holds column names (skipped on input,
	// written on output).
	Header bool
	// Quote and Escape are CSV's quoting characters. Default: '"' for both.
	Quote, Escape byte
}

// withDefaults fills in the defaults of zero fields.
func (o CopyOptions) withDefaults() CopyOptions {
	if o.Delimiter == 0 {
		o.Delimiter = '\t'
		if o.Format == CopyCSV {
			o.Delimiter = ','
		}
	}
	if o.Null == "" && o.Format == CopyText {
		o.Null = `\N`
	}
	if o.Quote == 0 {
		o.Quote = '"'
	}
	if o.Escape == 0 {
		o.Escape = o.Quote
	}
	return o
}

// binaryCopySignature starts binary COPY data.
var binaryCopySignature = []byte("PGCOPY\n\377\r\n\000")

// CopyDecoder decodes COPY FROM STDIN data into rows of Go values (the
// types listed in decode.go), by the column types given. Data may be fed
// in pieces split anywhere, as CopyData messages arrive. A CopyDecoder is
// not safe for concurrent use.
type CopyDecoder struct {
	cols []Column
	opts CopyOptions
	loc  *time.Location

	pending []byte // an incomplete line, record or tuple
	line    int    // lines (or tuples) consumed, for error messages
	header  bool   // the header (CSV line or binary header) is still due
	ended   bool   // the end marker (\. or a -1 field count) was seen
	rows    [][]any
}

// NewCopyDecoder returns a decoder of opts' format for rows of cols. Text
// timestamptz fields without an offset are read in loc (nil: UTC).
func NewCopyDecoder(cols []Column, opts CopyOptions, loc *time.Location) *CopyDecoder {
	if loc == nil {
		loc = time.UTC
	}
	opts = opts.withDefaults()
	return &CopyDecoder{cols: cols, opts: opts, loc: loc, header: opts.Header || opts.Format == CopyBinary}
}

// Feed decodes the complete rows in data (after any kept from the last
// call) and returns them; an incomplete tail is kept for the next call. The
// returned rows are valid until the next call.
func (d *CopyDecoder) Feed(data []byte) ([][]any, error) {
	d.rows = d.rows[:0]
	if d.ended {
		return nil, nil
	}
	var buf []byte
	if len(d.pending) > 0 {
		d.pending = append(d.pending, data...)
		buf = d.pending
	} else {
		buf = data
	}
	n, err := d.decode(buf, false)
	if err != nil {
		return nil, err
	}
	rest := buf[n:]
	if d.ended {
		rest = nil
	}
	d.pending = append(d.pending[:0], rest...)
	return d.rows, nil
}

// Finish decodes what remains at the end of the data (a last line without
// a newline) and returns those rows.
func (d *CopyDecoder) Finish() ([][]any, error) {
	d.rows = d.rows[:0]
	if d.ended || len(d.pending) == 0 {
		return d.rows, nil
	}
	if _, err := d.decode(d.pending, true); err != nil {
		return nil, err
	}
	d.pending = d.pending[:0]
	return d.rows, nil
}

// decode consumes whole units of buf and returns how many bytes it used.
// With final, buf is the last data and must be used entirely.
func (d *CopyDecoder) decode(buf []byte, final bool) (int, error) {
	switch d.opts.Format {
	case CopyText:
		return d.decodeText(buf, final)
	case CopyCSV:
		return d.decodeCSV(buf, final)
	case CopyBinary:
		return d.decodeBinary(buf, final)
	}
	return 0, newError(codeFeatureNotSupported, "unknown COPY format "+d.opts.Format.String())
}

func (d *CopyDecoder) copyError(format string, args ...any) error {
	return newError(codeBadCopyFileFormat, fmt.Sprintf("COPY, line %d: ", d.line)+fmt.Sprintf(format, args...))
}

// field decodes the text of field i.
func (d *CopyDecoder) field(i int, text []byte) (any, error) {
	v, err := decodeText(d.cols[i].Type, text, d.loc)
	if err != nil {
		return nil, fmt.Errorf("COPY, line %d, column %s: %w", d.line, d.cols[i].Name, err)
	}
	return v, nil
}

func (d *CopyDecoder) decodeText(buf []byte, final bool) (int, error) {
	used := 0
	for used < len(buf) {
		rest := buf[used:]
		var line []byte
		if nl := bytes.IndexByte(rest, '\n'); nl >= 0 {
			line = rest[:nl]
			used += nl + 1
		} else {
			if !final {
				break
			}
			line = rest
			used = len(buf)
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		d.line++
		if string(line) == `\.` {
			d.ended = true
			return used, nil
		}
		if d.header {
			d.header = false
			continue
		}
		row, err := d.textRow(line)
		if err != nil {
			return used, err
		}
		d.rows = append(d.rows, row)
	}
	return used, nil
}

// textRow decodes one line of text format.
func (d *CopyDecoder) textRow(line []byte) ([]any, error) {
	row := make([]any, 0, len(d.cols))
	delim := d.opts.Delimiter
	var field []byte
	for start := 0; ; {
		// Find the end of the field: an unescaped delimiter.
		end := start
		for end < len(line) && line[end] != delim {
			if line[end] == '\\' {
				end++
			}
			end++
		}
		end = min(end, len(line))
		raw := line[start:end]
		if len(row) == len(d.cols) {
			return nil, d.copyError("extra data after last expected column")
		}
		if string(raw) == d.opts.Null {
			row = append(row, nil)
		} else {
			field = unescapeCopyText(field[:0], raw)
			v, err := d.field(len(row), field)
			if err != nil {
				return nil, err
			}
			row = append(row, v)
		}
		if end >= len(line) {
			break
		}
		start = end + 1
	}
	if len(row) < len(d.cols) {
		return nil, d.copyError("missing data for column %q", d.cols[len(row)].Name)
	}
	return row, nil
}

// unescapeCopyText applies text format's backslash escapes.
func unescapeCopyText(dst, src []byte) []byte {
	for i := 0; i < len(src); i++ {
		c := src[i]
		if c != '\\' || i+1 >= len(src) {
			dst = append(dst, c)
			continue
		}
		i++
		switch c = src[i]; c {
		case 'b':
			dst = append(dst, '\b')
		case 'f':
			dst = append(dst, '\f')
		case 'n':
			dst = append(dst, '\n')
		case 'r':
			dst = append(dst, '\r')
		case 't':
			dst = append(dst, '\t')
		case 'v':
			dst = append(dst, '\v')
		case 'x':
			v, n := 0, 0
			for n < 2 && i+1 < len(src) && isHex(src[i+1]) {
				v = v<<4 | hexVal(src[i+1])
				i++
				n++
			}
			if n == 0 {
				dst = append(dst, 'x')
			} else {
				dst = append(dst, byte(v))
			}
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for n := 1; n < 3 && i+1 < len(src) && isOctal(src[i+1]); n++ {
				v = v<<3 | int(src[i+1]-'0')
				i++
			}
			dst = append(dst, byte(v))
		default:
			dst = append(dst, c)
		}
	}
	return dst
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

func (d *CopyDecoder) decodeCSV(buf []byte, final bool) (int, error) {
	used := 0
	o := d.opts
	for used < len(buf) {
		// Scan one record: up to a newline outside quotes.
		rec := buf[used:]
		var (
			fields [][]byte
			quoted []bool
			field  []byte
			inQ    bool
			wasQ   bool
			end    = -1
		)
		for i := 0; i < len(rec); i++ {
			c := rec[i]
			switch {
			case inQ && c == o.Escape && i+1 < len(rec) && rec[i+1] == o.Quote:
				field = append(field, o.Quote)
				i++
			case inQ && c == o.Quote:
				inQ = false
			case inQ:
				field = append(field, c)
			case c == o.Quote:
				inQ, wasQ = true, true
			case c == o.Delimiter:
				fields, quoted = append(fields, field), append(quoted, wasQ)
				field, wasQ = nil, false
			case c == '\n':
				end = i
			case c == '\r' && i+1 < len(rec) && rec[i+1] == '\n':
			case c == '\r' && i+1 == len(rec) && !final:
				// Wait for the next byte to know if it is \r\n.
				i = len(rec)
			default:
				field = append(field, c)
			}
			if end >= 0 {
				break
			}
		}
		if end < 0 {
			if !final || inQ {
				if final {
					return used, d.copyError("unterminated CSV quoted field")
				}
				break
			}
			end = len(rec)
		}
		fields, quoted = append(fields, field), append(quoted, wasQ)
		used += min(end+1, len(rec))
		d.line++
		if len(fields) == 1 && !quoted[0] && string(fields[0]) == `\.` {
			d.ended = true
			return used, nil
		}
		if d.header {
			d.header = false
			continue
		}
		if len(fields) > len(d.cols) {
			return used, d.copyError("extra data after last expected column")
		}
		if len(fields) < len(d.cols) {
			return used, d.copyError("missing data for column %q", d.cols[len(fields)].Name)
		}
		row := make([]any, len(fields))
		for i, f := range fields {
			if !quoted[i] && string(f) == o.Null {
				continue
			}
			v, err := d.field(i, f)
			if err != nil {
				return used, err
			}
			row[i] = v
		}
		d.rows = append(d.rows, row)
	}
	return used, nil
}

func (d *CopyDecoder) decodeBinary(buf []byte, final bool) (int, error) {
	used := 0
	short := func() (int, error) {
		if final {
			return used, d.copyError("unexpected EOF in COPY data")
		}
		return used, nil
	}
	if d.header {
		if len(buf) < len(binaryCopySignature)+8 {
			return short()
		}
		if !bytes.Equal(buf[:len(binaryCopySignature)], binaryCopySignature) {
			return 0, d.copyError("COPY file signature not recognized")
		}
		p := len(binaryCopySignature)
		flags := binary.BigEndian.Uint32(buf[p:])
		if flags&(1<<16) != 0 {
			return 0, d.copyError("COPY with OIDs is not supported")
		}
		if flags&0xffff0000&^(1<<16) != 0 {
			return 0, d.copyError("unrecognized critical flags in COPY file header")
		}
		ext := int(int32(binary.BigEndian.Uint32(buf[p+4:])))
		if ext < 0 {
			return 0, d.copyError("invalid COPY file header (wrong length)")
		}
		if len(buf) < p+8+ext {
			return short()
		}
		used = p + 8 + ext
		d.header = false
	}
	for used < len(buf) {
		t := buf[used:]
		if len(t) < 2 {
			return short()
		}
		n := int(int16(binary.BigEndian.Uint16(t)))
		if n == -1 {
			d.ended = true
			return len(buf), nil
		}
		if n != len(d.cols) {
			d.line++
			return used, d.copyError("row field count is %d, expected %d", n, len(d.cols))
		}
		p := 2
		row := make([]any, n)
		complete := true
		for i := 0; i < n; i++ {
			if len(t) < p+4 {
				complete = false
				break
			}
			l := int(int32(binary.BigEndian.Uint32(t[p:])))
			p += 4
			if l == -1 {
				continue
			}
			if l < 0 {
				d.line++
				return used, d.copyError("invalid field size")
			}
			if len(t) < p+l {
				complete = false
				break
			}
			v, err := decodeBinary(d.cols[i].Type, t[p:p+l])
			if err != nil {
				d.line++
				return used, fmt.Errorf("COPY, line %d, column %s: %w", d.line, d.cols[i].Name, err)
			}
			row[i] = v
			p += l
		}
		if !complete {
			return short()
		}
		d.line++
		used += p
		d.rows = append(d.rows, row)
	}
	return used, nil
}

// CopyEncoder encodes rows as COPY TO STDOUT data. It is not safe for
// concurrent use.
type CopyEncoder struct {
	cols []Column
	opts CopyOptions
	loc  *time.Location
	tmp  []byte
}

// NewCopyEncoder returns an encoder of opts' format for rows of cols.
// timestamptz values are shown in loc (nil: UTC).
func NewCopyEncoder(cols []Column, opts CopyOptions, loc *time.Location) *CopyEncoder {
	if loc == nil {
		loc = time.UTC
	}
	return &CopyEncoder{cols: cols, opts: opts.withDefaults(), loc: loc}
}

// AppendHeader appends what precedes the rows: the binary signature and
// header, or the CSV header line; nothing for text.
func (e *CopyEncoder) AppendHeader(b []byte) []byte {
	switch {
	case e.opts.Format == CopyBinary:
		b = append(b, binaryCopySignature...)
		return append(b, 0, 0, 0, 0, 0, 0, 0, 0)
	case e.opts.Header:
		for i, col := range e.cols {
			if i > 0 {
				b = append(b, e.opts.Delimiter)
			}
			if e.opts.Format == CopyCSV {
				b = e.appendCSVField(b, []byte(col.Name))
			} else {
				b = appendCopyText(b, []byte(col.Name), e.opts.Delimiter)
			}
		}
		return append(b, '\n')
	}
	return b
}

// AppendRow appends one row (one line, or one binary tuple).
func (e *CopyEncoder) AppendRow(b []byte, row []any) ([]byte, error) {
	if len(row) != len(e.cols) {
		return b, fmt.Errorf("pgwire: COPY row has %d values for %d columns", len(row), len(e.cols))
	}
	if e.opts.Format == CopyBinary {
		b = binary.BigEndian.AppendUint16(b, uint16(len(row)))
		for i, v := range row {
			if v == nil {
				b = append(b, 0xff, 0xff, 0xff, 0xff)
				continue
			}
			at := len(b)
			b = append(b, 0, 0, 0, 0)
			nb, err := appendBinary(b, e.cols[i].Type, v)
			if err != nil {
				return b[:at], err
			}
			b = nb
			putUint32(b[at:], uint32(len(b)-at-4))
		}
		return b, nil
	}
	for i, v := range row {
		if i > 0 {
			b = append(b, e.opts.Delimiter)
		}
		if v == nil {
			b = append(b, e.opts.Null...)
			continue
		}
		var err error
		if e.tmp, err = appendText(e.tmp[:0], e.cols[i].Type, v, e.loc); err != nil {
			return b, err
		}
		if e.opts.Format == CopyCSV {
			b = e.appendCSVField(b, e.tmp)
		} else {
			b = appendCopyText(b, e.tmp, e.opts.Delimiter)
		}
	}
	return append(b, '\n'), nil
}

// AppendTrailer appends what follows the rows: the binary trailer; nothing
// for text and CSV.
func (e *CopyEncoder) AppendTrailer(b []byte) []byte {
	if e.opts.Format == CopyBinary {
		return append(b, 0xff, 0xff)
	}
	return b
}

// appendCopyText appends a field in text format, escaping backslash,
// control characters and the delimiter.
func appendCopyText(b, v []byte, delim byte) []byte {
	for _, c := range v {
		switch c {
		case '\\':
			b = append(b, '\\', '\\')
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		case '\b':
			b = append(b, '\\', 'b')
		case '\f':
			b = append(b, '\\', 'f')
		case '\v':
			b = append(b, '\\', 'v')
		default:
			if c == delim {
				b = append(b, '\\')
			}
			b = append(b, c)
		}
	}
	return b
}

// appendCSVField appends a CSV field, quoted when it holds the delimiter,
// the quote, a line break, equals the NULL text, or starts with \.
func (e *CopyEncoder) appendCSVField(b, v []byte) []byte {
	o := e.opts
	need := string(v) == o.Null || bytes.HasPrefix(v, []byte(`\.`))
	for _, c := range v {
		if c == o.Delimiter || c == o.Quote || c == o.Escape || c == '\n' || c == '\r' {
			need = true
			break
		}
	}
	if !need {
		return append(b, v...)
	}
	b = append(b, o.Quote)
	for _, c := range v {
		if c == o.Quote || c == o.Escape {
			b = append(b, o.Escape)
		}
		b = append(b, c)
	}
	return append(b, o.Quote)
}
