package odata

import (
	"cmp"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// kind classifies a runtime value.
type kind uint8

const (
	kNull  kind = iota
	kBool       // i is 0 or 1
	kInt        // i
	kFloat      // f
	kStr        // s
	kGuid       // s, compared case-insensitively
	kTime       // t
	kDur        // i, nanoseconds (time'…' literals, time.Duration values)
	kOther      // maps, slices and other values the evaluator does not understand; i is an other* code
)

func (k kind) String() string {
	switch k {
	case kNull:
		return "null"
	case kBool:
		return "boolean"
	case kInt, kFloat:
		return "number"
	case kStr:
		return "string"
	case kGuid:
		return "guid"
	case kTime:
		return "datetime"
	case kDur:
		return "time"
	default:
		return "unsupported value"
	}
}

// value is the evaluator's unboxed representation of a row value or literal.
// It is passed by value so that evaluating simple comparisons never
// allocates.
type value struct {
	k kind
	i int64
	f float64
	s string
	t time.Time
}

// Codes in value.i for kOther values, for error messages.
const (
	otherGo int64 = iota
	otherObject
	otherArray
	otherNumber
)

func otherVal(x any) value {
	switch x.(type) {
	case map[string]any:
		return value{k: kOther, i: otherObject}
	case []any:
		return value{k: kOther, i: otherArray}
	case json.Number:
		return value{k: kOther, i: otherNumber}
	}
	return value{k: kOther, i: otherGo}
}

var (
	nullVal  = value{}
	trueVal  = value{k: kBool, i: 1}
	falseVal = value{k: kBool}
)

func boolVal(b bool) value {
	if b {
		return trueVal
	}
	return falseVal
}

func intVal(i int64) value     { return value{k: kInt, i: i} }
func floatVal(f float64) value { return value{k: kFloat, f: f} }
func strVal(s string) value    { return value{k: kStr, s: s} }

func (v value) isNum() bool { return v.k == kInt || v.k == kFloat }

// fromAny converts a row value. It never allocates for the types a server
// stores after decoding JSON.
func fromAny(x any) value {
	switch v := x.(type) {
	case nil:
		return nullVal
	case bool:
		return boolVal(v)
	case float64:
		return floatVal(v)
	case string:
		return strVal(v)
	case int64:
		return intVal(v)
	case int:
		return intVal(int64(v))
	case json.Number:
		return numberVal(string(v))
	case time.Time:
		return value{k: kTime, t: v}
	case *time.Time:
		if v == nil {
			return nullVal
		}
		return value{k: kTime, t: *v}
	case time.Duration:
		return value{k: kDur, i: int64(v)}
	case float32:
		return floatVal(float64(v))
	case int32:
		return intVal(int64(v))
	case int16:
		return intVal(int64(v))
	case int8:
		return intVal(int64(v))
	case uint8:
		return intVal(int64(v))
	case uint16:
		return intVal(int64(v))
	case uint32:
		return intVal(int64(v))
	case uint:
		if uint64(v) > math.MaxInt64 {
			return floatVal(float64(v))
		}
		return intVal(int64(v))
	case uint64:
		if v > math.MaxInt64 {
			return floatVal(float64(v))
		}
		return intVal(int64(v))
	default:
		return otherVal(x)
	}
}

// numberVal converts the text of a json.Number. An unparseable number is a
// kOther value; an out-of-range one becomes ±Inf or 0 as ParseFloat says.
func numberVal(s string) value {
	if isPlainInt(s) {
		if i, err := strconv.ParseInt(s, 10, 64); err == nil {
			return intVal(i)
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); !ok || ne.Err != strconv.ErrRange {
			return value{k: kOther, i: otherNumber}
		}
	}
	return floatVal(f)
}

// isPlainInt reports whether s is an optionally negative run of at most 19
// decimal digits.
func isPlainInt(s string) bool {
	if s != "" && s[0] == '-' {
		s = s[1:]
	}
	if s == "" || len(s) > 19 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// asFloat returns a numeric value as float64.
func (v value) asFloat() float64 {
	if v.k == kInt {
		return float64(v.i)
	}
	return v.f
}

// cmpInt compares two ints: -1, 0 or +1.
func cmpInt(a, b int64) int { return cmp.Compare(a, b) }

// cmpIntFloat compares an int64 with a non-NaN float64 exactly.
func cmpIntFloat(i int64, f float64) int {
	if f >= 9223372036854775808.0 { // 2^63
		return -1
	}
	if f < -9223372036854775808.0 {
		return 1
	}
	t := math.Trunc(f)
	if c := cmpInt(i, int64(t)); c != 0 {
		return c
	}
	frac := f - t
	switch {
	case frac > 0:
		return -1
	case frac < 0:
		return 1
	}
	return 0
}

// cmpNum compares two numeric values exactly. ok is false when either is NaN.
func cmpNum(a, b value) (c int, ok bool) {
	switch {
	case a.k == kInt && b.k == kInt:
		return cmpInt(a.i, b.i), true
	case a.k == kInt:
		if math.IsNaN(b.f) {
			return 0, false
		}
		return cmpIntFloat(a.i, b.f), true
	case b.k == kInt:
		if math.IsNaN(a.f) {
			return 0, false
		}
		return -cmpIntFloat(b.i, a.f), true
	}
	if math.IsNaN(a.f) || math.IsNaN(b.f) {
		return 0, false
	}
	switch {
	case a.f < b.f:
		return -1, true
	case a.f > b.f:
		return 1, true
	}
	return 0, true
}

// cmpFold compares two strings ordinally after ASCII case folding, without
// allocating. It is used for GUIDs, which are ASCII.
func cmpFold(a, b string) int {
	n := min(len(a), len(b))
	for i := 0; i < n; i++ {
		ca, cb := lowerASCII(a[i]), lowerASCII(b[i])
		if ca != cb {
			if ca < cb {
				return -1
			}
			return 1
		}
	}
	return cmpInt(int64(len(a)), int64(len(b)))
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + ('a' - 'A')
	}
	return c
}

// cmpStatus is the outcome of comparing two runtime values.
type cmpStatus uint8

const (
	cmpOK       cmpStatus = iota // c is meaningful
	cmpNull                      // one side is null: the comparison is null
	cmpUnequal                   // never equal and not ordered (NaN, unparseable date string): eq false, ne true, others false
	cmpMismatch                  // different kinds: eq false, ne true, ordering is an EvalError
	cmpBad                       // a kOther value: EvalError
)

// compareVals compares two runtime values for the comparison operators.
func compareVals(a, b value) (int, cmpStatus) {
	if a.k == kOther || b.k == kOther {
		return 0, cmpBad
	}
	if a.k == kNull || b.k == kNull {
		return 0, cmpNull
	}
	if a.k == b.k {
		switch a.k {
		case kBool, kInt, kDur:
			return cmpInt(a.i, b.i), cmpOK
		case kFloat:
			c, ok := cmpNum(a, b)
			if !ok {
				return 0, cmpUnequal
			}
			return c, cmpOK
		case kStr:
			return strings.Compare(a.s, b.s), cmpOK
		case kGuid:
			return cmpFold(a.s, b.s), cmpOK
		case kTime:
			return a.t.Compare(b.t), cmpOK
		}
	}
	// Mixed kinds.
	an, bn := a.isNum() || a.k == kBool, b.isNum() || b.k == kBool
	if an && bn {
		// Numbers compare numerically whatever their kind; booleans are
		// 0 and 1 as in a SQL bit column.
		c, ok := cmpNum(boolAsNum(a), boolAsNum(b))
		if !ok {
			return 0, cmpUnequal
		}
		return c, cmpOK
	}
	switch {
	case (a.k == kGuid || a.k == kStr) && (b.k == kGuid || b.k == kStr):
		return cmpFold(a.s, b.s), cmpOK
	case a.k == kStr && b.k == kTime:
		t, ok := parseDateTime(a.s)
		if !ok {
			return 0, cmpUnequal
		}
		return t.Compare(b.t), cmpOK
	case a.k == kTime && b.k == kStr:
		t, ok := parseDateTime(b.s)
		if !ok {
			return 0, cmpUnequal
		}
		return a.t.Compare(t), cmpOK
	}
	return 0, cmpMismatch
}

func boolAsNum(v value) value {
	if v.k == kBool {
		return intVal(v.i)
	}
	return v
}

// rank orders the kinds for Compare.
func rank(k kind) int {
	switch k {
	case kNull:
		return 0
	case kBool:
		return 1
	case kInt, kFloat:
		return 2
	case kStr, kGuid:
		return 3
	case kTime:
		return 4
	case kDur:
		return 5
	default:
		return 6
	}
}

// Compare is a total order over row values for $orderby. It returns a
// negative number when a sorts before b, a positive number when after, and 0
// when they are equivalent. It never fails:
//
//   - nil (and a missing value) sorts first, then booleans (false < true),
//     then numbers, then strings, then time.Time values, then time.Duration
//     values, then everything else (maps, slices, unknown types, unparseable
//     json.Number), which are all equivalent to each other;
//   - numbers compare by numeric value whatever their Go type (float64,
//     int64, int, json.Number, …), exactly even for large int64 values; NaN
//     sorts before every other number and equals itself;
//   - strings compare ordinally (byte-wise, case-sensitive);
//   - times compare by instant, whatever their location.
func Compare(a, b any) int {
	va, vb := fromAny(a), fromAny(b)
	ra, rb := rank(va.k), rank(vb.k)
	if ra != rb {
		return cmpInt(int64(ra), int64(rb))
	}
	switch ra {
	case 1, 5:
		return cmpInt(va.i, vb.i)
	case 2:
		c, ok := cmpNum(va, vb)
		if ok {
			return c
		}
		naA := va.k == kFloat && math.IsNaN(va.f)
		naB := vb.k == kFloat && math.IsNaN(vb.f)
		switch {
		case naA && naB:
			return 0
		case naA:
			return -1
		default:
			return 1
		}
	case 3:
		return strings.Compare(va.s, vb.s)
	case 4:
		return va.t.Compare(vb.t)
	}
	return 0
}
