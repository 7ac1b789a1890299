package sql

import (
	"context"
	"errors"
	"fmt"
)

// SQLSTATE codes the package uses.
const (
	CodeSyntaxError          = "42601"
	CodeUndefinedTable       = "42P01"
	CodeUndefinedColumn      = "42703"
	CodeAmbiguousColumn      = "42702"
	CodeUndefinedFunction    = "42883"
	CodeUndefinedObject      = "42704"
	CodeDatatypeMismatch     = "42804"
	CodeGroupingError        = "42803"
	CodeInvalidColumnRef     = "42P10"
	CodeUndefinedParameter   = "42P02"
	CodeIndeterminateType    = "42P18"
	CodeInvalidTextRepr      = "22P02"
	CodeInvalidDatetime      = "22007"
	CodeDatetimeOverflow     = "22008"
	CodeDivisionByZero       = "22012"
	CodeNumericOutOfRange    = "22003"
	CodeInvalidParameter     = "22023"
	CodeCardinalityViolation = "21000"
	CodeFeatureNotSupported  = "0A000"
	CodeQueryCanceled        = "57014"
	CodeProtocolViolation    = "08P01"
	CodeInternal             = "XX000"
	CodeUndefinedSetting     = "42704"
	CodeInvalidParamValue    = "22023"
)

// Error is an error with a PostgreSQL SQLSTATE. Every error the package
// returns is an *Error (found with errors.As); the servers turn it into
// their own error format.
type Error struct {
	Code     string // SQLSTATE, e.g. "42P01"
	Message  string
	Detail   string
	Hint     string
	Position int // 1-based character position in the query; 0 = unknown
}

func (e *Error) Error() string { return e.Message }

// errorf makes an *Error with a SQLSTATE.
func errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// errAt makes an *Error with a position (a 0-based byte location from the
// parse tree; negative = unknown).
func errAt(code string, loc int32, format string, args ...any) *Error {
	e := errorf(code, format, args...)
	if loc >= 0 {
		e.Position = int(loc) + 1
	}
	return e
}

// asError turns any error into an *Error: context cancellation becomes
// 57014, an *Error passes through, anything else is XX000.
func asError(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return errorf(CodeQueryCanceled, "canceling statement due to user request")
	}
	// An error of the storage side that knows its SQLSTATE keeps it.
	var st interface{ SQLState() string }
	if errors.As(err, &st) && st.SQLState() != "" {
		return &Error{Code: st.SQLState(), Message: err.Error()}
	}
	return errorf(CodeInternal, "%v", err)
}

// errStop ends a push pipeline early (LIMIT reached); it never escapes.
var errStop = errors.New("sql: stop")
