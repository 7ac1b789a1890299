package schema

import "fmt"

// Type is the type of a physical field: the type a value had when it was
// written. These values are part of the on-disk format (row store values,
// log entries); never renumber them.
type Type uint8

const (
	TypeFloat  Type = 1 // double precision
	TypeInt    Type = 2 // bigint
	TypeUint   Type = 3 // unsigned 64-bit (line protocol "u"); read as numeric
	TypeString Type = 4 // text
	TypeBool   Type = 5 // boolean
)

// Valid reports whether t is a known type.
func (t Type) Valid() bool { return t >= TypeFloat && t <= TypeBool }

func (t Type) String() string {
	switch t {
	case TypeFloat:
		return "float"
	case TypeInt:
		return "integer"
	case TypeUint:
		return "unsigned"
	case TypeString:
		return "string"
	case TypeBool:
		return "boolean"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// SQLName is the PostgreSQL type a column of this physical type reads as.
func (t Type) SQLName() string {
	switch t {
	case TypeFloat:
		return "double precision"
	case TypeInt:
		return "bigint"
	case TypeUint:
		return "numeric"
	case TypeString:
		return "text"
	case TypeBool:
		return "boolean"
	}
	return "unknown"
}
