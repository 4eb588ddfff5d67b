// Command benchreport runs zumo's benchmarks side by side and writes the
// numbers, with the goals, ratios, machine and commands, to
// docs/benchmarks.md. Every figure in that file comes from this run: the
// tables, the verdicts and the notes under each section, which are
// written from the measured values.
//
//	go run ./internal/benchreport                 # writes docs/benchmarks.md
//	go run ./internal/benchreport -out -          # prints the report
//	go run ./internal/benchreport -count 3 -benchtime 500ms
//	go run ./internal/benchreport -only 7,8       # prints those sections only
//
// Each section is one function in sections.go; to add one, write it and
// list it in sections.
//
// The comparison with Microsoft's Node.js server needs Node and npm (the
// harness installs the server with npm ci); the Redis numbers need
// redis-server. Each is reported as not measured when it cannot run.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

var (
	count     = flag.Int("count", 5, "rounds of each section's benchmarks (medians are reported)")
	benchtime = flag.String("benchtime", "1s", "-benchtime for the ordinary benchmarks")
	out       = flag.String("out", "docs/benchmarks.md", "where to write the report (- for stdout)")
	skipReal  = flag.Bool("skip-real", false, "skip the comparison with the official Node.js server")
	only      = flag.String("only", "", "comma-separated section numbers to run (e.g. 7,8); the partial report goes to stdout unless -out is given")
)

// section is one part of the report.
type section struct {
	title string    // without its number, which is its place in sections
	what  string    // what is measured and how
	cols  [2]string // the two sides of the measurement table
	run   func() *run
	fill  func(b *builder) // rows, goals and notes from the run
}

func main() {
	flag.Parse()
	start := time.Now()
	var body strings.Builder
	for i, s := range sections() {
		if wanted(i + 1) {
			s.write(&body, i+1)
		}
	}
	text := header(start) + body.String() + footer
	if *only != "" && !outSet() {
		*out = "-"
	}
	if *out == "-" {
		fmt.Print(text)
		return
	}
	if err := os.WriteFile(*out, []byte(text), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println("wrote", *out)
}

// wanted reports whether section number n is to be run.
func wanted(n int) bool {
	if *only == "" {
		return true
	}
	for _, s := range strings.Split(*only, ",") {
		if strings.TrimSpace(s) == strconv.Itoa(n) {
			return true
		}
	}
	return false
}

// outSet reports whether -out was given on the command line.
func outSet() bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "out" })
	return set
}

// write runs the section's benchmarks and writes its tables and notes.
func (s section) write(w *strings.Builder, n int) {
	rn := s.run()
	b := &builder{r: rn}
	s.fill(b)
	fmt.Fprintf(w, "\n## %d. %s\n\n%s\n\n", n, s.title, s.what)
	fmt.Fprintf(w, "| measurement | %s | %s |\n|---|---|---|\n", s.cols[0], s.cols[1])
	for _, row := range b.rows {
		fmt.Fprintf(w, "| %s | %s | %s |\n", row[0], row[1], row[2])
	}
	if len(b.goals) > 0 {
		fmt.Fprintf(w, "\n| goal | target | measured | verdict |\n|---|---|---|---|\n")
		for _, g := range b.goals {
			fmt.Fprintf(w, "| %s | %s | %s | %s |\n", g[0], g[1], g[2], g[3])
		}
	}
	for _, p := range b.notes {
		fmt.Fprintf(w, "\n%s\n", p)
	}
	fmt.Fprintf(w, "\nCommand:\n\n```sh\n%s\n```\n", strings.Join(rn.cmds, "\n"))
	if rn.err != nil {
		fmt.Fprintf(w, "\nNot (fully) measured in this run:\n\n```\n%s\n```\n", rn.err)
	}
}

func header(start time.Time) string {
	var h strings.Builder
	h.WriteString("# Benchmarks\n\n")
	h.WriteString("Written by `go run ./internal/benchreport` — every figure below, in the tables and in the notes, comes from that run; nothing is typed by hand. ")
	h.WriteString("Values are medians over the rounds of each benchmark; where a goal is missed the section says so.\n\n")
	fmt.Fprintf(&h, "- Date: %s\n- Machine: %d cores (%s), %s, %s/%s\n- Command: `go run ./internal/benchreport -count %d -benchtime %s`\n",
		start.UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH, *count, *benchtime)
	return h.String()
}

// footer says how the numbers were taken; it holds no figures.
const footer = `
## How the numbers are taken

- Every side-by-side pair is measured in rounds: each round runs each side once (` + "`-count 1`" + `),
  and the rounds alternate the sides, so that a drift in the machine's load falls on both. The
  goals are judged on the medians of the rounds, or, for "equal within noise", on whether the
  rounds' ranges overlap, so that one noisy round does not decide a verdict.
- The machine is shared and small; the same benchmark moves from one run to the next, more when
  anything else runs. Where a section shows ranges, they are this run's.
`

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}
