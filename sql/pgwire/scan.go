package pgwire

import "strings"

// This file recognises the few statements the server must know before the
// backend sees them: transaction ends (allowed in a failed transaction) and
// COPY FROM STDIN / TO STDOUT (which switch the connection into copy mode).
// It only tokenizes: comments, quoted strings and identifiers, dollar
// quotes and parentheses are skipped so their content never matches.

// topWords returns the upper-cased bare words of q outside parentheses,
// quotes and comments, stopping after max words (max <= 0: all).
func topWords(q string, max int) []string {
	var words []string
	depth := 0
	for i := 0; i < len(q); {
		c := q[i]
		switch {
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			nest := 0
			for i < len(q) {
				if q[i] == '/' && i+1 < len(q) && q[i+1] == '*' {
					nest++
					i += 2
				} else if q[i] == '*' && i+1 < len(q) && q[i+1] == '/' {
					nest--
					i += 2
					if nest == 0 {
						break
					}
				} else {
					i++
				}
			}
		case c == '\'':
			backslash := i > 0 && (q[i-1] == 'E' || q[i-1] == 'e')
			i++
			for i < len(q) {
				if backslash && q[i] == '\\' {
					i += 2
					continue
				}
				if q[i] == '\'' {
					if i+1 < len(q) && q[i+1] == '\'' {
						i += 2
						continue
					}
					break
				}
				i++
			}
			i++
		case c == '"':
			i++
			for i < len(q) && q[i] != '"' {
				i++
			}
			i++
		case c == '$' && (i == 0 || !isIdentChar(q[i-1])):
			// $tag$ ... $tag$, or a parameter $1.
			j := i + 1
			for j < len(q) && isIdentChar(q[j]) && !(q[j] >= '0' && q[j] <= '9' && j == i+1) {
				j++
			}
			if j < len(q) && q[j] == '$' {
				tag := q[i : j+1]
				end := strings.Index(q[j+1:], tag)
				if end < 0 {
					return words
				}
				i = j + 1 + end + len(tag)
			} else {
				i = j + 1
			}
		case c == '(':
			depth++
			i++
		case c == ')':
			depth--
			i++
		case isIdentStart(c):
			j := i
			for j < len(q) && isIdentChar(q[j]) {
				j++
			}
			if depth == 0 {
				words = append(words, strings.ToUpper(q[i:j]))
				if max > 0 && len(words) == max {
					return words
				}
			}
			i = j
		default:
			i++
		}
	}
	return words
}

func isIdentStart(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

func isIdentChar(c byte) bool {
	return isIdentStart(c) || c >= '0' && c <= '9' || c == '$'
}

// txnEndKind classifies a statement that ends a transaction block.
type txnEndKind uint8

const (
	notTxnEnd   txnEndKind = iota
	txnCommit              // COMMIT, END
	txnRollback            // ROLLBACK, ABORT
)

// txnEnd reports whether q is COMMIT/END or ROLLBACK/ABORT (but not
// ROLLBACK TO SAVEPOINT or the two-phase PREPARED forms), the statements
// allowed in a failed transaction.
func txnEnd(q string) txnEndKind {
	w := topWords(q, 3)
	if len(w) == 0 {
		return notTxnEnd
	}
	for _, x := range w[1:] {
		if x == "TO" || x == "PREPARED" || x == "AND" {
			return notTxnEnd
		}
	}
	switch w[0] {
	case "COMMIT", "END":
		return txnCommit
	case "ROLLBACK", "ABORT":
		return txnRollback
	}
	return notTxnEnd
}

// copyKind classifies a COPY statement by where its data goes.
type copyKind uint8

const (
	notCopy copyKind = iota
	copyIn           // COPY ... FROM STDIN
	copyOut          // COPY ... TO STDOUT
)

// copyDirection reports whether q is COPY ... FROM STDIN or COPY ... TO
// STDOUT. Other COPY statements (files, programs) are ordinary statements.
func copyDirection(q string) copyKind {
	w := topWords(q, 0)
	if len(w) < 3 || w[0] != "COPY" {
		return notCopy
	}
	for i := 1; i+1 < len(w); i++ {
		switch {
		case w[i] == "FROM" && w[i+1] == "STDIN":
			return copyIn
		case w[i] == "TO" && w[i+1] == "STDOUT":
			return copyOut
		}
	}
	return notCopy
}

// isEmptyQuery reports whether q holds only whitespace, semicolons and
// comments.
func isEmptyQuery(q string) bool {
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == ';':
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			for i < len(q) && q[i] != '\n' {
				i++
			}
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			end := strings.Index(q[i+2:], "*/")
			if end < 0 {
				return true
			}
			i += end + 3
		default:
			return false
		}
	}
	return true
}
