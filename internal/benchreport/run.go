package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// bench is one `go test -bench` invocation.
type bench struct {
	dir       string // nested module to run in; "" for the root module
	pkg       string
	pattern   string // -bench
	benchtime string
	tags      string
}

// result is one benchmark line.
type result struct {
	name    string
	metrics map[string]float64 // unit → value: ns/op, B/op, allocs/op, rows/s, …
}

// run is what a section's invocations printed, every round of them.
type run struct {
	cmds    []string
	results map[string][]result // name (without -N suffix) → one per round
	err     error
}

// measure runs the invocations n times in turn, each with -count 1: A, B,
// A, B, … So the two sides of a comparison alternate, and a drift in the
// machine's load does not fall on one side. (Within one invocation, a
// pattern matching two benchmarks runs them one after the other.)
func measure(n int, benches ...bench) *run {
	all := &run{results: map[string][]result{}}
	for round := range n {
		for _, b := range benches {
			cmd, res, err := runBench(b)
			if round == 0 {
				all.cmds = append(all.cmds, cmd)
			}
			for k, v := range res {
				all.results[k] = append(all.results[k], v...)
			}
			if err != nil {
				all.err = err
				return all.done(n)
			}
		}
	}
	return all.done(n)
}

func (r *run) done(n int) *run {
	if n > 1 && len(r.cmds) > 0 {
		r.cmds[len(r.cmds)-1] += fmt.Sprintf("   # each line run %d times in turn; medians reported", n)
	}
	return r
}

// runBench runs one invocation; tests replace it.
var runBench = bench.once

// once runs the invocation and parses what it printed.
func (b bench) once() (cmdline string, res map[string][]result, err error) {
	args := []string{"test", "-run", "^$", "-bench", b.pattern, "-benchmem", "-count", "1", "-benchtime", b.benchtime}
	if b.tags != "" {
		args = append(args, "-tags", b.tags)
	}
	args = append(args, b.pkg)
	cmdline = "go " + strings.Join(quoteArgs(args), " ")
	if b.dir != "" {
		cmdline = "(cd " + b.dir + " && " + cmdline + ")"
	}
	fmt.Fprintln(os.Stderr, "running:", cmdline)
	cmd := exec.Command("go", args...)
	cmd.Dir = b.dir
	cmd.Env = append(os.Environ(), "ZUMO_BENCH=1")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	if err = cmd.Run(); err != nil {
		tail := buf.String()
		if len(tail) > 600 {
			tail = tail[len(tail)-600:]
		}
		err = fmt.Errorf("%v: %s", err, strings.TrimSpace(tail))
	}
	return cmdline, parse(buf.String()), err
}

func quoteArgs(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "^$|()* ") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}

// parse reads benchmark lines: name-N  iters  value unit  value unit …
func parse(s string) map[string][]result {
	res := map[string][]result{}
	for line := range strings.Lines(s) {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		r := result{name: name, metrics: map[string]float64{}}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				break
			}
			r.metrics[f[i+1]] = v
		}
		res[name] = append(res[name], r)
	}
	return res
}
