package odata

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

type fnID uint8

const (
	fnStartsWith fnID = iota
	fnEndsWith
	fnSubstringOf
	fnIndexOf
	fnReplace
	fnSubstring
	fnConcat
	fnToLower
	fnToUpper
	fnTrim
	fnLength
	fnFloor
	fnCeiling
	fnRound
	fnYear
	fnMonth
	fnDay
	fnHour
	fnMinute
	fnSecond
)

// argKind is the static parameter type of a function argument.
type argKind uint8

const (
	aStr argKind = iota
	aNum
	aTime
)

func (a argKind) String() string {
	switch a {
	case aStr:
		return "string"
	case aNum:
		return "number"
	}
	return "datetime"
}

// accepts reports whether an argument of static type t may be passed.
func (a argKind) accepts(t styp) bool {
	switch t {
	case sAny, sNull:
		return true
	}
	switch a {
	case aStr:
		return t == sStr || t == sGuid
	case aNum:
		return t == sNum
	}
	return t == sTime || t == sStr // a string may hold a date-time
}

type funcDef struct {
	name    string
	id      fnID
	minArgs int
	args    []argKind // len(args) is the maximum arity
	ret     styp
}

func (f *funcDef) arityMsg() string {
	if f.minArgs == len(f.args) {
		n := "arguments"
		if f.minArgs == 1 {
			n = "argument"
		}
		return f.name + " takes " + strconv.Itoa(f.minArgs) + " " + n
	}
	return f.name + " takes " + strconv.Itoa(f.minArgs) + " or " + strconv.Itoa(len(f.args)) + " arguments"
}

var functions = map[string]*funcDef{}

func init() {
	for _, f := range []funcDef{
		{"startswith", fnStartsWith, 2, []argKind{aStr, aStr}, sBool},
		{"endswith", fnEndsWith, 2, []argKind{aStr, aStr}, sBool},
		{"substringof", fnSubstringOf, 2, []argKind{aStr, aStr}, sBool},
		{"indexof", fnIndexOf, 2, []argKind{aStr, aStr}, sNum},
		{"replace", fnReplace, 3, []argKind{aStr, aStr, aStr}, sStr},
		{"substring", fnSubstring, 2, []argKind{aStr, aNum, aNum}, sStr},
		{"concat", fnConcat, 2, []argKind{aStr, aStr}, sStr},
		{"tolower", fnToLower, 1, []argKind{aStr}, sStr},
		{"toupper", fnToUpper, 1, []argKind{aStr}, sStr},
		{"trim", fnTrim, 1, []argKind{aStr}, sStr},
		{"length", fnLength, 1, []argKind{aStr}, sNum},
		{"floor", fnFloor, 1, []argKind{aNum}, sNum},
		{"ceiling", fnCeiling, 1, []argKind{aNum}, sNum},
		{"round", fnRound, 1, []argKind{aNum}, sNum},
		{"year", fnYear, 1, []argKind{aTime}, sNum},
		{"month", fnMonth, 1, []argKind{aTime}, sNum},
		{"day", fnDay, 1, []argKind{aTime}, sNum},
		{"hour", fnHour, 1, []argKind{aTime}, sNum},
		{"minute", fnMinute, 1, []argKind{aTime}, sNum},
		{"second", fnSecond, 1, []argKind{aTime}, sNum},
	} {
		functions[f.name] = &f
	}
}

// callNode is a function call; arity and static argument types were checked
// at parse time.
type callNode struct {
	def  *funcDef
	n    int
	args [3]node
}

func (c *callNode) name() string { return c.def.name }

func (c *callNode) argError(i int, want string, v value) error {
	if v.k == kOther {
		return unsupported(v)
	}
	return evalErrorf("argument " + strconv.Itoa(i+1) + " of " + c.name() + " must be a " + want + ", not a " + v.k.String())
}

func (c *callNode) eval(row env) (value, error) {
	var a [3]value
	for i := 0; i < c.n; i++ {
		v, err := c.args[i].eval(row)
		if err != nil {
			return nullVal, err
		}
		a[i] = v
	}
	// Check runtime argument types, then propagate null as SQL does.
	def := c.def
	hasNull := false
	for i := 0; i < c.n; i++ {
		v := a[i]
		switch {
		case v.k == kNull:
			hasNull = true
		case v.k == kOther:
			return nullVal, unsupported(v)
		default:
			switch def.args[i] {
			case aStr:
				if v.k != kStr && v.k != kGuid {
					return nullVal, c.argError(i, "string", v)
				}
			case aNum:
				if !v.isNum() {
					return nullVal, c.argError(i, "number", v)
				}
			case aTime:
				if v.k == kStr {
					t, ok := parseDateTime(v.s)
					if !ok {
						return nullVal, evalErrorf("argument 1 of " + c.name() + " is a string that is not a date-time")
					}
					a[i] = value{k: kTime, t: t}
				} else if v.k != kTime {
					return nullVal, c.argError(i, "datetime", v)
				}
			}
		}
	}
	if hasNull {
		return nullVal, nil
	}
	x := a[0]
	switch c.def.id {
	case fnStartsWith:
		return boolVal(strings.HasPrefix(x.s, a[1].s)), nil
	case fnEndsWith:
		return boolVal(strings.HasSuffix(x.s, a[1].s)), nil
	case fnSubstringOf:
		return boolVal(strings.Contains(a[1].s, x.s)), nil
	case fnIndexOf:
		i := strings.Index(x.s, a[1].s)
		if i < 0 {
			return intVal(-1), nil
		}
		return intVal(int64(utf8.RuneCountInString(x.s[:i]))), nil
	case fnReplace:
		if a[1].s == "" {
			return strVal(x.s), nil // as SQL REPLACE
		}
		return strVal(strings.ReplaceAll(x.s, a[1].s, a[2].s)), nil
	case fnSubstring:
		return substring(x.s, a[1], a[2], c.n == 3)
	case fnConcat:
		return strVal(x.s + a[1].s), nil
	case fnToLower:
		return strVal(strings.ToLower(x.s)), nil
	case fnToUpper:
		return strVal(strings.ToUpper(x.s)), nil
	case fnTrim:
		return strVal(strings.TrimSpace(x.s)), nil
	case fnLength:
		return intVal(int64(utf8.RuneCountInString(x.s))), nil
	case fnFloor, fnCeiling, fnRound:
		if x.k == kInt {
			return x, nil
		}
		switch c.def.id {
		case fnFloor:
			return floatVal(math.Floor(x.f)), nil
		case fnCeiling:
			return floatVal(math.Ceil(x.f)), nil
		}
		return floatVal(math.Round(x.f)), nil // half away from zero
	}
	t := x.t.UTC()
	switch c.def.id {
	case fnYear:
		return intVal(int64(t.Year())), nil
	case fnMonth:
		return intVal(int64(t.Month())), nil
	case fnDay:
		return intVal(int64(t.Day())), nil
	case fnHour:
		return intVal(int64(t.Hour())), nil
	case fnMinute:
		return intVal(int64(t.Minute())), nil
	default: // fnSecond
		return intVal(int64(t.Second())), nil
	}
}

// toIndex converts a substring position or length to an int, which must be
// integral.
func toIndex(v value) (int64, bool) {
	if v.k == kInt {
		return v.i, true
	}
	if v.f != math.Trunc(v.f) || math.IsNaN(v.f) {
		return 0, false
	}
	switch {
	case v.f > math.MaxInt32:
		return math.MaxInt32, true
	case v.f < math.MinInt32:
		return math.MinInt32, true
	}
	return int64(v.f), true
}

// substring implements substring(s,i[,n]) with a 0-based start counted in
// characters, like SQL SUBSTRING(s, i+1, n): positions outside the string
// are ignored and a negative length is an error.
func substring(s string, iv, nv value, hasLen bool) (value, error) {
	start, ok := toIndex(iv)
	if !ok {
		return nullVal, evalErrorf("the position in substring must be an integer")
	}
	runes := int64(utf8.RuneCountInString(s))
	end := runes
	if hasLen {
		n, ok := toIndex(nv)
		if !ok {
			return nullVal, evalErrorf("the length in substring must be an integer")
		}
		if n < 0 {
			return nullVal, evalErrorf("the length in substring must not be negative")
		}
		if start <= runes-n { // start+n without overflow
			end = start + n
		}
	}
	start = max(start, 0)
	if start >= end || start >= runes {
		return strVal(""), nil
	}
	// Convert character positions to byte offsets.
	bs, be := len(s), len(s)
	ci := int64(0)
	for bi := range s {
		if ci == start {
			bs = bi
		}
		if ci == end {
			be = bi
			break
		}
		ci++
	}
	return strVal(s[bs:be]), nil
}
