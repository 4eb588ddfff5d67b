package odata

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// sexpr renders a parsed tree as an S-expression, to check precedence.
func sexpr(n node) string {
	switch n := n.(type) {
	case *litNode:
		return litString(n.v)
	case *memberNode:
		return n.name
	case *notNode:
		return "(not " + sexpr(n.x) + ")"
	case *negNode:
		return "(- " + sexpr(n.x) + ")"
	case *andNode:
		return "(and " + sexpr(n.l) + " " + sexpr(n.r) + ")"
	case *orNode:
		return "(or " + sexpr(n.l) + " " + sexpr(n.r) + ")"
	case *isNullNode:
		if n.not {
			return "(isnotnull " + sexpr(n.x) + ")"
		}
		return "(isnull " + sexpr(n.x) + ")"
	case *cmpNode:
		return "(" + n.op.String() + " " + sexpr(n.l) + " " + sexpr(n.r) + ")"
	case *cmpMemberLit:
		if n.litFirst {
			return "(" + swapped(n.op).String() + " " + litString(n.lit) + " " + n.m.name + ")"
		}
		return "(" + n.op.String() + " " + n.m.name + " " + litString(n.lit) + ")"
	case *arithNode:
		return "(" + n.op.String() + " " + sexpr(n.l) + " " + sexpr(n.r) + ")"
	case *callNode:
		parts := []string{n.def.name}
		for i := 0; i < n.n; i++ {
			parts = append(parts, sexpr(n.args[i]))
		}
		return "(" + strings.Join(parts, " ") + ")"
	}
	return fmt.Sprintf("?%T", n)
}

func litString(v value) string {
	switch v.k {
	case kNull:
		return "null"
	case kBool:
		return strconv.FormatBool(v.i != 0)
	case kInt:
		return strconv.FormatInt(v.i, 10)
	case kFloat:
		return strconv.FormatFloat(v.f, 'g', -1, 64) + "d"
	case kStr:
		return strconv.Quote(v.s)
	case kGuid:
		return "guid:" + v.s
	case kTime:
		return v.t.UTC().Format(time.RFC3339Nano)
	case kDur:
		return time.Duration(v.i).String()
	}
	return "?"
}

func mustParse(t *testing.T, src string) *Filter {
	t.Helper()
	f, err := ParseFilter(src)
	require.NoError(t, err, "parse %q", src)
	require.NotNil(t, f)
	return f
}

func tree(t *testing.T, src string) string {
	t.Helper()
	return sexpr(mustParse(t, src).root)
}

func mustMatch(t *testing.T, src string, row map[string]any) bool {
	t.Helper()
	f := mustParse(t, src)
	ok, err := f.Match(row)
	require.NoError(t, err, "match %q", src)
	checkMatchValues(t, f, row)
	return ok
}

// bindRow returns the values of f's members in row, for MatchValues; ok is
// false when a member path would be walked through nested maps, which
// MatchValues does not do.
func bindRow(f *Filter, row map[string]any) (vals []any, ok bool) {
	names := f.Members()
	vals = make([]any, len(names))
	for i, name := range names {
		v, has := row[name]
		if !has && strings.Contains(name, "/") {
			return nil, false
		}
		vals[i] = v
	}
	return vals, true
}

// checkMatchValues checks that MatchValues agrees with Match on row, error
// included.
func checkMatchValues(t *testing.T, f *Filter, row map[string]any) {
	t.Helper()
	vals, ok := bindRow(f, row)
	if !ok {
		return
	}
	want, wantErr := f.Match(row)
	got, gotErr := f.MatchValues(vals)
	require.Equal(t, want, got, "MatchValues %q", f.String())
	if wantErr == nil {
		require.NoError(t, gotErr, "MatchValues %q", f.String())
	} else {
		require.EqualError(t, gotErr, wantErr.Error(), "MatchValues %q", f.String())
	}
}

var (
	created  = time.Date(2024, 3, 4, 5, 6, 7, 890_000_000, time.UTC)
	testGUID = "8C0D5A5E-1B2C-4D3E-8F90-A1B2C3D4E5F6"
)

// sampleRow is the row most table tests run against.
func sampleRow() map[string]any {
	return map[string]any{
		"id":         testGUID,
		"text":       "Buy milk",
		"complete":   false,
		"done":       true,
		"priority":   2.0,
		"prioInt":    int64(2),
		"count":      3,
		"jn":         json.Number("5"),
		"jf":         json.Number("2.5"),
		"jbig":       json.Number("9223372036854775807"),
		"big":        int64(9007199254740993), // 2^53+1, not a float64
		"price":      9.99,
		"neg":        -2.5,
		"zero":       0.0,
		"createdAt":  created,
		"dateStr":    "2024-03-04T05:06:07.89Z",
		"dateLocal":  created.In(time.FixedZone("x", 7*3600)),
		"notDate":    "not a date",
		"nothing":    nil,
		"obj":        map[string]any{"x": 1.0, "y": map[string]any{"z": "deep"}},
		"list":       []any{1.0},
		"a/b":        "slash key",
		"Aisle":      2.0,
		"Weight":     1.5,
		"WeightInKG": 4.0,
		"Price":      60.0,
		"Name":       "O'Brien",
		"Month":      "January 23",
		"Big":        6.0e24,
		"unicode":    "héllo wörld",
		"spaces":     "  pad  ",
		"dur":        90 * time.Minute,
	}
}
