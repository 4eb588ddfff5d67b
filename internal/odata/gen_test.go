package odata

import (
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// gen builds random well-typed filters the way the clients write them
// (every binary operation parenthesised), together with the tree the parser
// should build.
type gen struct{ r *rand.Rand }

var genMembers = []string{"priority", "price", "count", "jn", "jf", "missing", "neg", "zero"}

func (g gen) num(depth int) (src, tree string) {
	if depth <= 0 || g.r.IntN(3) == 0 {
		switch g.r.IntN(4) {
		case 0:
			m := genMembers[g.r.IntN(len(genMembers))]
			return m, m
		case 1:
			n := strconv.Itoa(g.r.IntN(7))
			return n, n
		case 2:
			n := strconv.Itoa(g.r.IntN(7))
			return n + ".5", n + ".5d"
		default:
			n := strconv.Itoa(g.r.IntN(7))
			return n + "L", n
		}
	}
	switch g.r.IntN(4) {
	case 0:
		fn := []string{"floor", "ceiling", "round"}[g.r.IntN(3)]
		s, tr := g.num(depth - 1)
		return fn + "(" + s + ")", "(" + fn + " " + tr + ")"
	case 1:
		s, tr := g.str(depth - 1)
		return "length(" + s + ")", "(length " + tr + ")"
	default:
		op := []string{"add", "sub", "mul", "div", "mod"}[g.r.IntN(5)]
		ls, lt := g.num(depth - 1)
		rs, rt := g.num(depth - 1)
		return "(" + ls + " " + op + " " + rs + ")", "(" + op + " " + lt + " " + rt + ")"
	}
}

func (g gen) str(depth int) (src, tree string) {
	if depth <= 0 || g.r.IntN(2) == 0 {
		if g.r.IntN(2) == 0 {
			m := []string{"text", "unicode", "spaces", "missing"}[g.r.IntN(4)]
			return m, m
		}
		s := []string{"Buy", "milk", "", "O'Brien", "é"}[g.r.IntN(5)]
		return "'" + escapeQuotes(s) + "'", strconv.Quote(s)
	}
	fn := []string{"tolower", "toupper", "trim"}[g.r.IntN(3)]
	s, tr := g.str(depth - 1)
	return fn + "(" + s + ")", "(" + fn + " " + tr + ")"
}

func escapeQuotes(s string) string {
	out := ""
	for _, c := range s {
		if c == '\'' {
			out += "''"
		} else {
			out += string(c)
		}
	}
	return out
}

func (g gen) boolean(depth int) (src, tree string) {
	if depth <= 0 || g.r.IntN(4) == 0 {
		switch g.r.IntN(3) {
		case 0:
			m := []string{"complete", "done", "missing"}[g.r.IntN(3)]
			return m, m
		case 1:
			s, tr := g.str(depth - 1)
			p, pt := g.str(0)
			fn := []string{"startswith", "endswith"}[g.r.IntN(2)]
			return fn + "(" + s + "," + p + ")", "(" + fn + " " + tr + " " + pt + ")"
		default:
			return "true", "true"
		}
	}
	switch g.r.IntN(4) {
	case 0:
		s, tr := g.boolean(depth - 1)
		return "not(" + s + ")", "(not " + tr + ")"
	case 1:
		op := []string{"and", "or"}[g.r.IntN(2)]
		ls, lt := g.boolean(depth - 1)
		rs, rt := g.boolean(depth - 1)
		return "(" + ls + " " + op + " " + rs + ")", "(" + op + " " + lt + " " + rt + ")"
	default:
		op := []string{"eq", "ne", "gt", "ge", "lt", "le"}[g.r.IntN(6)]
		ls, lt := g.num(depth - 1)
		rs, rt := g.num(depth - 1)
		return "(" + ls + " " + op + " " + rs + ")", "(" + op + " " + lt + " " + rt + ")"
	}
}

// TestGeneratedFilters parses random client-style filters, checks the tree
// and that evaluation never panics and respects not(F).
func TestGeneratedFilters(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(1, 2))}
	rows := fuzzRows()
	for i := 0; i < 2000; i++ {
		src, want := g.boolean(5)
		f, err := ParseFilter(src)
		require.NoError(t, err, src)
		if !assert.Equal(t, want, sexpr(f.root), src) {
			continue
		}
		neg := mustParse(t, "not("+src+")")
		for _, row := range rows {
			checkMatchValues(t, f, row)
			ok, err := f.Match(row)
			if err != nil {
				continue
			}
			nok, err := neg.Match(row)
			require.NoError(t, err, src)
			assert.False(t, ok && nok, src)
		}
	}
}
