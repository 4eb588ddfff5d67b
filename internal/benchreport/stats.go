package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// stat is the medians (and ranges) of one benchmark's metrics over the
// rounds of a run.
type stat struct {
	med      map[string]float64
	min, max map[string]float64
}

// m returns the median of unit, NaN when the run has none.
func (s stat) m(unit string) float64 {
	if v, ok := s.med[unit]; ok {
		return v
	}
	return math.NaN()
}

// overlap reports whether the ranges of unit's runs in s and o overlap: a
// difference within the noise of the runs.
func (s stat) overlap(o stat, unit string) bool {
	a0, ok1 := s.min[unit]
	b0, ok2 := o.min[unit]
	return ok1 && ok2 && a0 <= o.max[unit] && b0 <= s.max[unit]
}

// rng is the range of unit's runs, "—" when there are none.
func (s stat) rng(unit string) string {
	if _, ok := s.min[unit]; !ok {
		return "—"
	}
	return num(s.min[unit]) + "–" + num(s.max[unit])
}

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	slices.Sort(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

// builder collects a section's tables and notes from its run.
type builder struct {
	r     *run
	rows  [][3]string
	goals [][4]string
	notes []string
}

// get returns the statistics of the named benchmark's rounds.
func (b *builder) get(name string) stat {
	all := map[string][]float64{}
	for _, r := range b.r.results[name] {
		for k, v := range r.metrics {
			all[k] = append(all[k], v)
		}
	}
	s := stat{med: map[string]float64{}, min: map[string]float64{}, max: map[string]float64{}}
	for k, v := range all {
		s.med[k] = median(v) // sorts v
		s.min[k], s.max[k] = v[0], v[len(v)-1]
	}
	return s
}

// row adds a measurement with one value per side.
func (b *builder) row(label string, a, c float64) {
	b.rows = append(b.rows, [3]string{label, num(a), num(c)})
}

func (b *builder) rowText(label, a, c string) {
	b.rows = append(b.rows, [3]string{label, a, c})
}

// goal adds a goal and its verdict: met, missed, or not measured when v is
// NaN.
func (b *builder) goal(label, target string, v float64, met bool) {
	verdict := "met"
	switch {
	case math.IsNaN(v):
		verdict = "not measured"
	case !met:
		verdict = "**missed**"
	}
	b.goals = append(b.goals, [4]string{label, target, num(v), verdict})
}

// note adds a paragraph that reads the numbers. Its figures are
// arguments computed from the run (formatted with num); a digit in the
// format itself is a hand-typed figure and panics.
func (b *builder) note(format string, args ...any) {
	if strings.ContainsAny(format, "0123456789") {
		panic("benchreport: a note's figures must come from the run: " + format)
	}
	b.notes = append(b.notes, fmt.Sprintf(format, args...))
}

// ratioRange returns the smallest and largest ratio a/c of unit over the
// rounds in which both benchmarks ran (NaN when there is none).
func (b *builder) ratioRange(a, c, unit string) (lo, hi float64) {
	ra, rc := b.r.results[a], b.r.results[c]
	lo, hi = math.NaN(), math.NaN()
	for i := range min(len(ra), len(rc)) {
		x, ok1 := ra[i].metrics[unit]
		y, ok2 := rc[i].metrics[unit]
		if !ok1 || !ok2 {
			continue
		}
		r := x / y
		if math.IsNaN(lo) || r < lo {
			lo = r
		}
		if math.IsNaN(hi) || r > hi {
			hi = r
		}
	}
	return lo, hi
}

func ratio(a, b float64) float64 { return a / b }

func num(v float64) string {
	switch {
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	case v == math.Trunc(v) && math.Abs(v) < 1e15:
		return strconv.FormatInt(int64(v), 10)
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}
