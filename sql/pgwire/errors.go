package pgwire

import (
	"context"
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgproto3"
)

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("pgwire: server closed")

// SQLSTATE codes the server itself raises.
const (
	codeInternal                    = "XX000"
	codeProtocolViolation           = "08P01"
	codeFeatureNotSupported         = "0A000"
	codeInvalidTextRepresentation   = "22P02"
	codeInvalidBinaryRepresentation = "22P03"
	codeNumericValueOutOfRange      = "22003"
	codeDatetimeFieldOverflow       = "22008"
	codeCharacterNotInRepertoire    = "22021"
	codeBadCopyFileFormat           = "22P04"
	codeDatatypeMismatch            = "42804"
	codeInFailedTransaction         = "25P02"
	codeInvalidStatementName        = "26000"
	codeDuplicatePreparedStatement  = "42P05"
	codeDuplicateCursor             = "42P03"
	codeInvalidCursorName           = "34000"
	codeQueryCanceled               = "57014"
	codeAdminShutdown               = "57P01"
	codeInvalidAuthorization        = "28000"
	codeInvalidPassword             = "28P01"
	codeInvalidParameterValue       = "22023"
)

// pgError is an error with a SQLSTATE raised by the server itself.
type pgError struct {
	code, msg, detail, hint string
}

func newError(code, msg string) *pgError { return &pgError{code: code, msg: msg} }

func (e *pgError) Error() string       { return e.msg }
func (e *pgError) SQLState() string    { return e.code }
func (e *pgError) ErrorDetail() string { return e.detail }
func (e *pgError) ErrorHint() string   { return e.hint }

// errCanceled is the cause of a query context cancelled by a CancelRequest.
var errCanceled = errors.New("pgwire: canceled by client")

// errorResponse builds the ErrorResponse for err.
func errorResponse(err error) *pgproto3.ErrorResponse {
	r := &pgproto3.ErrorResponse{Severity: "ERROR", SeverityUnlocalized: "ERROR", Code: codeInternal, Message: err.Error()}
	var se SQLStateError
	if errors.As(err, &se) {
		r.Code = se.SQLState()
		r.Message = se.Error()
		// Context added by wrapping ("COPY, line 2, column a: ...") goes
		// where PostgreSQL puts it: the Where field.
		if full := err.Error(); full != r.Message {
			r.Where = strings.TrimSuffix(full, ": "+r.Message)
		}
		if d, ok := se.(interface{ ErrorDetail() string }); ok {
			r.Detail = d.ErrorDetail()
		}
		if h, ok := se.(interface{ ErrorHint() string }); ok {
			r.Hint = h.ErrorHint()
		}
		if p, ok := se.(interface{ ErrorPosition() int }); ok {
			r.Position = int32(p.ErrorPosition())
		}
	} else if errors.Is(err, context.Canceled) {
		r.Code = codeQueryCanceled
		r.Message = "canceling statement due to user request"
	}
	return r
}

// fatalResponse builds a FATAL ErrorResponse.
func fatalResponse(code, msg string) *pgproto3.ErrorResponse {
	return &pgproto3.ErrorResponse{Severity: "FATAL", SeverityUnlocalized: "FATAL", Code: code, Message: msg}
}
