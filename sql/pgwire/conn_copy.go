package pgwire

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5/pgproto3"
)

// copyBatchRows is how many decoded rows COPY FROM hands to the sink at
// once.
const copyBatchRows = 1024

// copyChunk is the size at which COPY TO data is cut into CopyData
// messages.
const copyChunk = 64 << 10

// runCopy runs a COPY FROM STDIN or COPY TO STDOUT statement, sending its
// CommandComplete. An error is the statement's; a connError ends the
// connection.
func (c *conn) runCopy(ctx context.Context, q string, kind copyKind) error {
	copier, ok := c.sess.(Copier)
	if !ok {
		return newError(codeFeatureNotSupported, "COPY FROM STDIN and COPY TO STDOUT are not supported")
	}
	if kind == copyIn {
		sink, err := copier.CopyIn(ctx, q)
		if err != nil {
			return err
		}
		return c.copyIn(ctx, sink)
	}
	src, err := copier.CopyOut(ctx, q)
	if err != nil {
		return err
	}
	defer src.Close()
	return c.copyOut(ctx, src)
}

func copyFormatCodes(opts CopyOptions, n int) (byte, []uint16) {
	overall := byte(0)
	if opts.Format == CopyBinary {
		overall = 1
	}
	codes := make([]uint16, n)
	for i := range codes {
		codes[i] = uint16(overall)
	}
	return overall, codes
}

// copyIn runs copy-in mode: CopyInResponse, then CopyData until CopyDone
// or CopyFail.
func (c *conn) copyIn(ctx context.Context, sink CopyInSink) (err error) {
	cols, opts := sink.Columns(), sink.Options()
	aborted := false
	abort := func(reason string) {
		if !aborted {
			aborted = true
			sink.Abort(reason)
		}
	}
	defer func() {
		if err != nil {
			abort(err.Error())
		}
	}()
	overall, codes := copyFormatCodes(opts, len(cols))
	c.send(&pgproto3.CopyInResponse{OverallFormat: overall, ColumnFormatCodes: codes})
	c.flush()
	dec := NewCopyDecoder(cols, opts, c.loc)
	var batch [][]any
	write := func(rows [][]any, force bool) error {
		batch = append(batch, rows...)
		if len(batch) >= copyBatchRows || (force && len(batch) > 0) {
			if err := sink.WriteRows(ctx, batch); err != nil {
				return err
			}
			clear(batch)
			batch = batch[:0]
		}
		return nil
	}
	// A decoding or sink error ends the copy at once: the client's
	// remaining CopyData and its CopyDone are ignored by the main loop.
	for {
		msg, err := c.receive()
		if err != nil {
			return err
		}
		switch m := msg.(type) {
		case *pgproto3.CopyData:
			rows, err := dec.Feed(m.Data)
			if err != nil {
				return err
			}
			if err := write(rows, false); err != nil {
				return err
			}
			if ctx.Err() != nil {
				return context.Cause(ctx)
			}
		case *pgproto3.CopyDone:
			rows, err := dec.Finish()
			if err != nil {
				return err
			}
			if err := write(rows, true); err != nil {
				return err
			}
			tag, err := sink.Done(ctx)
			aborted = true // Done was called: no Abort
			if err != nil {
				return err
			}
			c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
			return nil
		case *pgproto3.CopyFail:
			abort(m.Message)
			return newError(codeQueryCanceled, "COPY from stdin failed: "+m.Message)
		case *pgproto3.Flush, *pgproto3.Sync:
			// Ignored in copy-in mode, as the protocol says.
		case *pgproto3.Terminate:
			abort("connection terminated")
			return connError{errors.New("terminated during COPY")}
		default:
			return newError(codeProtocolViolation, fmt.Sprintf("unexpected message type %T during COPY from stdin", msg))
		}
	}
}

// copyOut runs copy-out mode: CopyOutResponse, CopyData, CopyDone.
func (c *conn) copyOut(ctx context.Context, src CopyOutSource) error {
	cols, opts := src.Columns(), src.Options()
	overall, codes := copyFormatCodes(opts, len(cols))
	c.send(&pgproto3.CopyOutResponse{OverallFormat: overall, ColumnFormatCodes: codes})
	enc := NewCopyEncoder(cols, opts, c.loc)
	buf := enc.AppendHeader(nil)
	n := 0
	for src.Next() {
		var err error
		if buf, err = enc.AppendRow(buf, src.Row()); err != nil {
			return err
		}
		n++
		if len(buf) >= copyChunk {
			c.send(&pgproto3.CopyData{Data: buf})
			buf = buf[:0]
		}
		if ctx.Err() != nil {
			return context.Cause(ctx)
		}
		if c.writeErr != nil {
			return connError{c.writeErr}
		}
	}
	if err := src.Err(); err != nil {
		return err
	}
	buf = enc.AppendTrailer(buf)
	if len(buf) > 0 {
		c.send(&pgproto3.CopyData{Data: buf})
	}
	c.send(&pgproto3.CopyDone{})
	tag := src.Tag()
	if tag == "" {
		tag = "COPY " + strconv.Itoa(n)
	}
	c.send(&pgproto3.CommandComplete{CommandTag: []byte(tag)})
	return nil
}
