package gen

// Line-protocol escaping, following the InfluxDB rules:
//
//   - measurement names escape comma and space;
//   - tag keys, tag values and field keys escape comma, equals sign and space;
//   - string field values are double-quoted and escape double quote and backslash.
//
// A backslash that precedes no special character is literal and is kept as is.
// Line protocol cannot carry a newline in a name or tag value; the generator never
// produces one.

const (
	measurementSpecial = ", "
	keySpecial         = ",= "
	stringSpecial      = "\"\\"
)

func needsEscape(s, special string) bool {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(special); j++ {
			if s[i] == special[j] {
				return true
			}
		}
	}
	return false
}

func appendEscaped(dst []byte, s, special string) []byte {
	if !needsEscape(s, special) {
		return append(dst, s...)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		for j := 0; j < len(special); j++ {
			if c == special[j] {
				dst = append(dst, '\\')
				break
			}
		}
		dst = append(dst, c)
	}
	return dst
}

// AppendMeasurement appends an escaped measurement name.
func AppendMeasurement(dst []byte, name string) []byte {
	return appendEscaped(dst, name, measurementSpecial)
}

// AppendKey appends an escaped tag key, tag value or field key.
func AppendKey(dst []byte, s string) []byte {
	return appendEscaped(dst, s, keySpecial)
}

// AppendTag appends ",key=value" with both parts escaped.
func AppendTag(dst []byte, key, value string) []byte {
	dst = append(dst, ',')
	dst = AppendKey(dst, key)
	dst = append(dst, '=')
	return AppendKey(dst, value)
}

// AppendStringValue appends a double-quoted, escaped string field value.
func AppendStringValue(dst []byte, s string) []byte {
	dst = append(dst, '"')
	dst = appendEscaped(dst, s, stringSpecial)
	return append(dst, '"')
}
