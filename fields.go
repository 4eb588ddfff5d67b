package zumo

import (
	"fmt"
	"reflect"
	"strings"
	"sync"
)

// UnknownFieldError is the query error for a field name (in Where, OrderBy
// or Select) that is not one of the JSON names of the table's struct type
// nor a system property. A server answers such a query with no rows rather
// than an error, so a typo would otherwise look like an empty table. It
// wraps ErrInvalidQuery. Name a column the struct does not declare with
// Query.AllowFields; untyped (map) tables are not checked.
type UnknownFieldError struct {
	// Field is the name as the query wrote it.
	Field string
	// Type is the table's item type.
	Type string
	// Nearest is the known name closest to Field.
	Nearest string
}

func (e *UnknownFieldError) Error() string {
	return fmt.Sprintf("%v: field %q is not a JSON name of %s (did you mean %q? a column %s does not declare is named with AllowFields)",
		ErrInvalidQuery, e.Field, e.Type, e.Nearest, e.Type)
}

// Unwrap returns ErrInvalidQuery.
func (e *UnknownFieldError) Unwrap() error { return ErrInvalidQuery }

// structFields is what queries need of a struct item type: its JSON names.
type structFields struct {
	names []string         // as declared, then the system properties
	index map[string][]int // lower-cased JSON name → field index (declared fields only)
	known map[string]bool  // lower-cased names: declared and system properties
}

var structFieldsCache sync.Map // reflect.Type → *structFields

// fieldsOf returns the JSON names of the struct type t.
func fieldsOf(t reflect.Type) *structFields {
	if f, ok := structFieldsCache.Load(t); ok {
		return f.(*structFields)
	}
	sf := &structFields{index: map[string][]int{}, known: map[string]bool{}}
	add := func(name string) {
		if l := strings.ToLower(name); !sf.known[l] {
			sf.known[l] = true
			sf.names = append(sf.names, name)
		}
	}
	for f, name := range jsonFields(t) {
		if _, dup := sf.index[strings.ToLower(name)]; !dup {
			sf.index[strings.ToLower(name)] = f.Index
		}
		add(name)
	}
	add("id")
	for _, p := range systemProps {
		add(p)
		add("__" + p)
	}
	v, _ := structFieldsCache.LoadOrStore(t, sf)
	return v.(*structFields)
}

// checkField returns an *UnknownFieldError when name is not one of the
// struct's JSON names nor allowed. Names match as the servers match
// columns, in any letter case; a member path (address/city) is checked by
// its first segment.
func (sf *structFields) checkField(name string, allowed []string, typ reflect.Type) error {
	first, _, _ := strings.Cut(name, "/")
	if first == "" || sf.known[strings.ToLower(first)] {
		return nil // an empty name has its own error
	}
	for _, a := range allowed {
		if strings.EqualFold(a, first) {
			return nil
		}
	}
	return &UnknownFieldError{Field: name, Type: typ.String(), Nearest: nearest(first, sf.names)}
}

// checkFields checks every field name the query writes (filter, orderings,
// selection) against T's JSON names, for a struct T.
func (q Query[T]) checkFields() error {
	ti := q.t.ti
	if ti.isMap || ti.err != nil {
		return nil
	}
	sf := fieldsOf(ti.typ)
	var err error
	walkFields(q.filter, func(f string) {
		if err == nil {
			err = sf.checkField(f, q.allowed, ti.typ)
		}
	})
	for _, o := range q.order {
		if err == nil {
			err = sf.checkField(o.field, q.allowed, ti.typ)
		}
	}
	for _, s := range q.sel {
		if err == nil {
			err = sf.checkField(s, q.allowed, ti.typ)
		}
	}
	return err
}

// walkFields calls fn with every field name in n (raw text is not read).
func walkFields(n node, fn func(string)) {
	switch x := n.(type) {
	case fieldNode:
		fn(string(x))
	case *binNode:
		walkFields(x.l, fn)
		walkFields(x.r, fn)
	case *callNode:
		for _, a := range x.args {
			walkFields(a, fn)
		}
	}
}

// nearest returns the name among names closest to s (edit distance, in any
// letter case; the first of equals).
func nearest(s string, names []string) string {
	best, bestD := "", -1
	for _, n := range names {
		if d := editDistance(strings.ToLower(s), strings.ToLower(n)); bestD < 0 || d < bestD {
			best, bestD = n, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance between a and b, by bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
