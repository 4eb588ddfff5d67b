package odata

// env is the row a filter is evaluated against: a map (Match) or, when m
// is nil, the values of the filter's members in the order of
// Filter.Members (MatchValues). It is passed by value, so evaluation does
// not allocate.
type env struct {
	m    map[string]any
	vals []any
}

// bound reports whether e holds member values rather than a map.
func (e env) bound() bool { return e.m == nil }

// noRow stands for a nil row map in Match; it is never written.
var noRow = map[string]any{}

// node is an evaluable expression.
type node interface {
	eval(row env) (value, error)
}

type litNode struct{ v value }

func (n *litNode) eval(env) (value, error) { return n.v, nil }

// memberNode reads a row value. A name with '/' is first looked up as a
// whole key ("a/b"); when that key is absent the path is followed through
// nested map[string]any values. A missing key, or a path through something
// that is not a map, is null.
//
// In a bound env the member is vals[idx], taken as it is: paths are not
// walked.
type memberNode struct {
	name string
	segs []string // nil unless name contains '/'
	idx  int      // index in Filter.members
}

func (m *memberNode) lookup(e env) value {
	if e.bound() {
		return fromAny(e.vals[m.idx])
	}
	row := e.m
	if v, ok := row[m.name]; ok {
		return fromAny(v)
	}
	if m.segs == nil {
		return nullVal
	}
	var cur any = row
	for _, s := range m.segs {
		mm, ok := cur.(map[string]any)
		if !ok {
			return nullVal
		}
		if cur, ok = mm[s]; !ok {
			return nullVal
		}
	}
	return fromAny(cur)
}

func (m *memberNode) eval(row env) (value, error) { return m.lookup(row), nil }

func unsupported(v value) error {
	var name string
	switch v.i {
	case otherObject:
		name = "object"
	case otherArray:
		name = "array"
	case otherNumber:
		name = "invalid json.Number"
	default:
		name = "unsupported Go type"
	}
	return evalErrorf("unsupported value (" + name + ")")
}
