package lineprotocol

import "bytes"

// Parser reads the points of a line-protocol body one line at a time.
//
//	p.Reset(body, prec, now)
//	for p.Next() {
//		if err := p.Err(); err != nil {
//			// report err; the line is skipped
//			continue
//		}
//		use(p.Measurement(), p.Tags(), p.Fields(), p.Time())
//	}
//
// The slices returned by Measurement, Tags, Fields and Raw, and the slices
// inside Tag and Field values, are owned by the parser: they alias the buffer
// given to Reset or the parser's scratch space, and are valid until the next
// call to Next or Reset. Copy what must outlive that. Errors returned by Err
// are new values and can be kept (their Raw aliases the buffer).
//
// A Parser is not safe for concurrent use. Reuse one (Reset it) to reuse its
// buffers: once warmed up, parsing does not allocate except for bad lines.
// The zero Parser is ready for Reset.
type Parser struct {
	buf         []byte
	pos         int       // start of the next line in buf
	nextLine    int       // 1-based number of the line that starts at pos
	prec        Precision // never 0 after Reset
	defaultTime int64

	// The current line.
	line        int
	raw         []byte
	err         *LineError
	measurement []byte
	tags        []Tag
	fields      []Field
	time        int64

	// Reused buffers.
	scratch []byte  // unescaped keys and values of the current line
	order   []int32 // field indices for deduplicating long field sets
}

// Reset makes p parse buf from its start. Timestamps in buf are in units of
// prec (0 means Nanosecond); a point without a timestamp gets defaultTime,
// in nanoseconds since the Unix epoch, as it is.
// p keeps buf until the next Reset; buf must not change meanwhile.
func (p *Parser) Reset(buf []byte, prec Precision, defaultTime int64) {
	if prec <= 0 {
		prec = Nanosecond
	}
	*p = Parser{
		buf:         buf,
		nextLine:    1,
		prec:        prec,
		defaultTime: defaultTime,
		tags:        p.tags[:0],
		fields:      p.fields[:0],
		scratch:     p.scratch[:0],
		order:       p.order[:0],
	}
}

// Next advances to the next point or malformed line, skipping blank lines
// and comments. It returns false at the end of the buffer, and then the
// accessors return zero values.
func (p *Parser) Next() bool {
	p.err = nil
	p.measurement = nil
	p.tags = p.tags[:0]
	p.fields = p.fields[:0]
	p.scratch = p.scratch[:0]
	p.time = 0
	for p.pos < len(p.buf) {
		start, lineNo := p.pos, p.nextLine
		end, inner := lineEnd(p.buf, start)
		p.pos = end + 1
		p.nextLine += inner + 1

		line := p.buf[start:end]
		if n := len(line); n > 0 && line[n-1] == '\n' {
			line = line[:n-1] // only a bad line, ending inside a string, gets here
		}
		if n := len(line); n > 0 && line[n-1] == '\r' {
			line = line[:n-1]
		}
		i := 0
		for i < len(line) && (line[i] == ' ' || line[i] == '\t') {
			i++
		}
		if i == len(line) || line[i] == '#' {
			continue // blank line or comment
		}
		line = line[i:]
		p.line, p.raw = lineNo, line
		if reason := p.parseLine(line); reason != "" {
			p.err = &LineError{Line: lineNo, Reason: reason, Raw: line}
			p.measurement = nil
			p.tags = p.tags[:0]
			p.fields = p.fields[:0]
			p.time = 0
		}
		return true
	}
	p.line, p.raw = 0, nil
	return false
}

// Err returns the error of the current line if it is malformed, or nil.
// When it is non-nil, Measurement, Tags and Fields return nothing.
func (p *Parser) Err() *LineError { return p.err }

// Measurement returns the unescaped measurement name of the current point.
func (p *Parser) Measurement() []byte { return p.measurement }

// Tags returns the unescaped tag set of the current point, sorted by key.
// Keys are unique.
func (p *Parser) Tags() []Tag { return p.tags }

// Fields returns the field set of the current point in the order written.
// Keys are unique: when a key appears more than once, the last value wins
// and the earlier ones are dropped.
func (p *Parser) Fields() []Field { return p.fields }

// Time returns the timestamp of the current point in nanoseconds since the
// Unix epoch, or the default time given to Reset if the line has none.
func (p *Parser) Time() int64 { return p.time }

// LineNumber returns the 1-based number of the line in the buffer where the
// current point starts.
func (p *Parser) LineNumber() int { return p.line }

// Raw returns the current line as received, without leading blanks and line
// ending. A line holds more than one physical line only when a quoted string
// field value contains a newline.
func (p *Parser) Raw() []byte { return p.raw }

// lineEnd returns the index of the newline that ends the line starting at
// buf[start] (len(buf) if none) and the number of newlines inside the line,
// which can only be inside quoted string field values.
//
// A quoted string starts where '"' follows an unescaped '=' after the first
// unescaped space of the line, so this agrees with parseLine on every line
// parseLine accepts. Lines without '"' take the fast path.
func lineEnd(buf []byte, start int) (end, inner int) {
	rest := buf[start:]
	nl := bytes.IndexByte(rest, '\n')
	if nl < 0 {
		nl = len(rest)
	}
	if bytes.IndexByte(rest[:nl], '"') < 0 {
		return start + nl, 0
	}
	return lineEndQuoted(buf, start)
}

// lineEndQuoted is the slow path of lineEnd.
func lineEndQuoted(buf []byte, start int) (end, inner int) {
	i, n := start, len(buf)
	for i < n && (buf[i] == ' ' || buf[i] == '\t') {
		i++
	}
	if i < n && buf[i] == '#' {
		if nl := bytes.IndexByte(buf[i:], '\n'); nl >= 0 {
			return i + nl, 0
		}
		return n, 0
	}
	inFields, afterEquals := false, false
	for i < n {
		c := buf[i]
		switch {
		case c == '\n':
			return i, inner
		case c == '\\':
			if i+1 < n && buf[i+1] != '\n' {
				i++
			}
		case c == ' ':
			inFields = true
		case c == '=' && inFields:
			afterEquals = true
			i++
			continue
		case c == '"' && afterEquals:
			for i++; i < n && buf[i] != '"'; i++ {
				if buf[i] == '\\' && i+1 < n {
					i++
				}
				if buf[i] == '\n' {
					inner++
				}
			}
			if i >= n {
				return n, inner
			}
		}
		afterEquals = false
		i++
	}
	return n, inner
}
