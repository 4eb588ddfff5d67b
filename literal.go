package zumo

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Decimal is a decimal number for a filter, written with the OData "M"
// suffix: Decimal("50") is 50M. It must be digits with an optional sign and
// fraction.
type Decimal string

// GUID is a GUID for a filter, written guid'…': 32 hexadecimal digits in
// groups of 8-4-4-4-12, such as "0b0e8a4e-5c4f-4a36-9b6f-1e2d3c4b5a69"
// (no braces). Any other text
// is a query error (ErrInvalidQuery), reported by the terminal call.
type GUID string

// validGUID reports whether s is 8-4-4-4-12 hexadecimal digits.
func validGUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}

// DateTime marks a time to be written as an OData datetime literal, in
// UTC with milliseconds: datetime'2024-01-02T03:04:05.000Z'.
type DateTime time.Time

// DateTimeOffset marks a time to be written as an OData datetimeoffset
// literal with seven fraction digits and its offset:
// datetimeoffset'2024-01-02T03:04:05.0000000+07:00'.
type DateTimeOffset time.Time

// formatLiteral writes a Go value as an OData literal, exactly as the
// official clients do (docs/protocol.md §4). A plain time.Time is a datetime
// when its location is UTC and a datetimeoffset otherwise.
func formatLiteral(v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "null", nil
	case bool:
		return strconv.FormatBool(x), nil
	case string:
		return quoteString(x), nil
	case int:
		if x >= math.MinInt32 && x <= math.MaxInt32 {
			return strconv.Itoa(x), nil
		}
		return strconv.Itoa(x) + "L", nil
	case int8, int16, int32, uint8, uint16:
		return fmt.Sprint(x), nil
	case int64:
		return strconv.FormatInt(x, 10) + "L", nil
	case uint, uint32, uint64:
		return fmt.Sprint(x) + "L", nil
	case float32:
		s, err := formatFloat(float64(x), 32)
		if err != nil {
			return "", err
		}
		return s + "f", nil
	case float64:
		s, err := formatFloat(x, 64)
		if err != nil {
			return "", err
		}
		if !strings.ContainsAny(s, ".E") {
			s += ".0"
		}
		return s, nil
	case Decimal:
		if !validDecimal(string(x)) {
			return "", fmt.Errorf("%w: %q is not a decimal number", ErrInvalidQuery, string(x))
		}
		return string(x) + "M", nil
	case GUID:
		if !validGUID(string(x)) {
			return "", fmt.Errorf("%w: GUID %q is not 8-4-4-4-12 hexadecimal digits", ErrInvalidQuery, string(x))
		}
		return "guid'" + string(x) + "'", nil
	case DateTime:
		return formatDateTime(time.Time(x)), nil
	case DateTimeOffset:
		return formatDateTimeOffset(time.Time(x)), nil
	case time.Time:
		if x.Location() == time.UTC {
			return formatDateTime(x), nil
		}
		return formatDateTimeOffset(x), nil
	case *time.Time:
		if x == nil {
			return "null", nil
		}
		return formatLiteral(*x)
	}
	// Named types (type Priority int) by their kind.
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer:
		if rv.IsNil() {
			return "null", nil
		}
		return formatLiteral(rv.Elem().Interface())
	case reflect.Bool:
		return formatLiteral(rv.Bool())
	case reflect.String:
		return formatLiteral(rv.String())
	case reflect.Int:
		return formatLiteral(int(rv.Int()))
	case reflect.Int8, reflect.Int16, reflect.Int32:
		return formatLiteral(int32(rv.Int()))
	case reflect.Int64:
		return formatLiteral(rv.Int())
	case reflect.Uint8, reflect.Uint16:
		return formatLiteral(uint16(rv.Uint()))
	case reflect.Uint, reflect.Uint32, reflect.Uint64:
		return formatLiteral(rv.Uint())
	case reflect.Float32:
		return formatLiteral(float32(rv.Float()))
	case reflect.Float64:
		return formatLiteral(rv.Float())
	}
	return "", fmt.Errorf("%w: a %T cannot be an OData literal", ErrInvalidQuery, v)
}

func quoteString(s string) string {
	return "'" + escapeDataString(strings.ReplaceAll(s, "'", "''")) + "'"
}

func formatDateTime(t time.Time) string {
	return "datetime'" + escapeDataString(t.UTC().Format("2006-01-02T15:04:05.000Z")) + "'"
}

func formatDateTimeOffset(t time.Time) string {
	return "datetimeoffset'" + escapeDataString(t.Format("2006-01-02T15:04:05.0000000-07:00")) + "'"
}

func validDecimal(s string) bool {
	if s == "" {
		return false
	}
	if s[0] == '-' || s[0] == '+' {
		s = s[1:]
	}
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" && (!hasDot || frac == "") {
		return false
	}
	for _, part := range []string{intPart, frac} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return false
			}
		}
	}
	return !hasDot || frac != ""
}

// formatFloat writes f the way .NET's invariant round-trip formatting
// does: the shortest digits that read back as f, in fixed notation when
// the decimal exponent is at least -4 and the digits before the point are
// no more than the larger of the digit count and 15 (float32: 7) — so
// 1234567890123456 stays as it is but 1E+15 does not — else as
// d.dddE+XX with at least two exponent digits. NaN and infinities are
// errors: OData v3 clients cannot send them.
func formatFloat(f float64, bits int) (string, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "", fmt.Errorf("%w: %v cannot be an OData literal", ErrInvalidQuery, f)
	}
	e := strconv.FormatFloat(f, 'e', -1, bits) // -d.ddde±XX
	mant, expStr, _ := strings.Cut(e, "e")
	exp, _ := strconv.Atoi(expStr)
	neg := strings.HasPrefix(mant, "-")
	mant = strings.TrimPrefix(mant, "-")
	digits := strings.Replace(mant, ".", "", 1)
	limit := 15
	if bits == 32 {
		limit = 7
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	if exp > -5 && exp+1 <= max(len(digits), limit) {
		switch {
		case exp < 0:
			b.WriteString("0.")
			b.WriteString(strings.Repeat("0", -exp-1))
			b.WriteString(digits)
		case exp+1 >= len(digits):
			b.WriteString(digits)
			b.WriteString(strings.Repeat("0", exp+1-len(digits)))
		default:
			b.WriteString(digits[:exp+1])
			b.WriteByte('.')
			b.WriteString(digits[exp+1:])
		}
		return b.String(), nil
	}
	b.WriteString(digits[:1])
	if len(digits) > 1 {
		b.WriteByte('.')
		b.WriteString(digits[1:])
	}
	b.WriteByte('E')
	if exp < 0 {
		b.WriteByte('-')
		exp = -exp
	} else {
		b.WriteByte('+')
	}
	if exp < 10 {
		b.WriteByte('0')
	}
	b.WriteString(strconv.Itoa(exp))
	return b.String(), nil
}
