package main

import (
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// fakeRunner replaces runBench: each invocation prints one line per
// benchmark its pattern names, with metrics from values, and records the
// order of the invocations.
type fakeRunner struct {
	order  []string
	values map[string][]map[string]float64 // benchmark → one metrics map per round
	round  map[string]int
}

func (f *fakeRunner) run(b bench) (string, map[string][]result, error) {
	f.order = append(f.order, b.pkg)
	res := map[string][]result{}
	for name, rounds := range f.values {
		if !strings.Contains(b.pattern, name) {
			continue
		}
		i := f.round[name]
		f.round[name]++
		res[name] = append(res[name], result{name: name, metrics: rounds[i%len(rounds)]})
	}
	return "go test " + b.pkg, res, nil
}

func withRunner(t *testing.T, f *fakeRunner) {
	t.Helper()
	f.round = map[string]int{}
	old := runBench
	runBench = f.run
	t.Cleanup(func() { runBench = old })
}

func TestMeasureAlternatesSides(t *testing.T) {
	f := &fakeRunner{}
	withRunner(t, f)
	r := measure(3, bench{pkg: "a"}, bench{pkg: "b"})
	assert.Equal(t, []string{"a", "b", "a", "b", "a", "b"}, f.order)
	require.Len(t, r.cmds, 2, "each command listed once")
	assert.Contains(t, r.cmds[1], "3 times in turn")
}

func TestFakeVsOfficialDividesLikeByLike(t *testing.T) {
	f := &fakeRunner{values: map[string][]map[string]float64{
		"BenchmarkFilteredPage":                 {{"req/s": 5000}, {"req/s": 6000}, {"req/s": 5500}},
		"BenchmarkFilteredPageUncached":         {{"req/s": 2000}, {"req/s": 2000}, {"req/s": 2000}},
		"BenchmarkOfficialFilteredPage":         {{"req/s": 1000}, {"req/s": 1000}, {"req/s": 1000}},
		"BenchmarkOfficialFilteredPageUncached": {{"req/s": 100}, {"req/s": 200}, {"req/s": 100}},
	}}
	withRunner(t, f)
	*count = 3
	s := fakeVsOfficial()
	b := &builder{r: s.run()}
	s.fill(b)
	assert.Equal(t, []string{"./zumotest", "./internal/realserver", "./zumotest", "./internal/realserver",
		"./zumotest", "./internal/realserver"}, f.order, "the two sides alternate")
	require.Len(t, b.goals, 2)
	assert.Equal(t, [4]string{"ratio zumotest / official (repeated query)", "≥ 10", "5.50", "**missed**"}, b.goals[0])
	assert.Equal(t, [4]string{"ratio zumotest / official (new filter every request)", "≥ 10", "20", "met"}, b.goals[1],
		"the uncached ratio divides by the official server's uncached run")
	assert.Contains(t, b.notes[0], "from 10 to 20 (new filter)", "per-round ratios")
}

// Every section must fill its tables and notes from any run, an empty one
// included (nothing measured), without a hand-typed figure in a note.
func TestSectionsFillFromEmptyRun(t *testing.T) {
	for i, s := range sections() {
		t.Run(fmt.Sprint(i+1), func(t *testing.T) {
			b := &builder{r: &run{results: map[string][]result{}}}
			require.NotPanics(t, func() { s.fill(b) })
			for _, g := range b.goals {
				assert.Equal(t, "not measured", g[3], "%s", g[0])
			}
		})
	}
}

func TestNoteRejectsTypedFigures(t *testing.T) {
	b := &builder{}
	assert.Panics(t, func() { b.note("about 14 allocations") })
	assert.NotPanics(t, func() { b.note("about %s allocations", num(4)) })
	assert.Equal(t, []string{"about 4 allocations"}, b.notes)
}

func TestParse(t *testing.T) {
	out := `goos: linux
BenchmarkToSlice-2         	   12345	    187256 ns/op	   59286 B/op	     367 allocs/op
BenchmarkAllPaging/page=50-2  3  12.5 rows/s  3.85 peak-heap-MiB
BenchmarkBroken-2  FAIL
PASS`
	res := parse(out)
	require.Contains(t, res, "BenchmarkToSlice")
	assert.Equal(t, map[string]float64{"ns/op": 187256, "B/op": 59286, "allocs/op": 367}, res["BenchmarkToSlice"][0].metrics)
	assert.Equal(t, 3.85, res["BenchmarkAllPaging/page=50"][0].metrics["peak-heap-MiB"])
	assert.NotContains(t, res, "BenchmarkBroken")
}

func TestStats(t *testing.T) {
	b := &builder{r: &run{results: map[string][]result{
		"A": {{metrics: map[string]float64{"x": 3}}, {metrics: map[string]float64{"x": 1}}, {metrics: map[string]float64{"x": 2}}},
		"B": {{metrics: map[string]float64{"x": 1}}, {metrics: map[string]float64{"x": 1}}},
	}}}
	a := b.get("A")
	assert.Equal(t, 2.0, a.m("x"))
	assert.Equal(t, "1–3", a.rng("x"))
	assert.True(t, math.IsNaN(a.m("y")))
	assert.True(t, a.overlap(b.get("B"), "x"))
	lo, hi := b.ratioRange("A", "B", "x")
	assert.Equal(t, 1.0, lo, "rounds paired by index; the third A round has no partner")
	assert.Equal(t, 3.0, hi)
}
