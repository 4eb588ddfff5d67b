package odata

// styp is the static type of an expression, known at parse time.
type styp uint8

const (
	sAny  styp = iota // a member, whose type is only known per row
	sNull             // the null literal
	sBool
	sNum
	sStr
	sGuid
	sTime
	sDur
)

func (t styp) String() string {
	switch t {
	case sNull:
		return "null"
	case sBool:
		return "boolean"
	case sNum:
		return "number"
	case sStr:
		return "string"
	case sGuid:
		return "guid"
	case sTime:
		return "datetime"
	case sDur:
		return "time"
	}
	return "value"
}

func stypOf(k kind) styp {
	switch k {
	case kNull:
		return sNull
	case kBool:
		return sBool
	case kInt, kFloat:
		return sNum
	case kStr:
		return sStr
	case kGuid:
		return sGuid
	case kTime:
		return sTime
	case kDur:
		return sDur
	}
	return sAny
}

// canCompare reports whether values of static types a and b may be compared.
func canCompare(a, b styp) bool {
	if a == sAny || b == sAny || a == sNull || b == sNull || a == b {
		return true
	}
	pair := func(x, y styp) bool { return a == x && b == y || a == y && b == x }
	return pair(sNum, sBool) || pair(sStr, sGuid) || pair(sStr, sTime)
}
