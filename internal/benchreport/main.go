// Command benchreport runs zumo's benchmarks side by side and writes the
// numbers, with the goals, ratios, machine and commands, to
// docs/benchmarks.md. Every number in that file comes from this run.
//
//	go run ./internal/benchreport                 # writes docs/benchmarks.md
//	go run ./internal/benchreport -out -          # prints the report
//	go run ./internal/benchreport -count 3 -benchtime 500ms
//	go run ./internal/benchreport -only 7,8       # prints those sections only
//
// The comparison with Microsoft's Node.js server needs Node and npm (the
// harness installs the server with npm ci); the Redis numbers need
// redis-server. Each is reported as not measured when it cannot run.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// result is one benchmark line.
type result struct {
	name    string
	metrics map[string]float64 // unit → value: ns/op, B/op, allocs/op, rows/s, …
}

// run is one `go test -bench` invocation and what it printed.
type run struct {
	cmd     string
	results map[string][]result // name (without -N suffix) → one per -count
	err     error
}

var (
	count     = flag.Int("count", 5, "runs of each benchmark (medians are reported)")
	benchtime = flag.String("benchtime", "1s", "-benchtime for the ordinary benchmarks")
	out       = flag.String("out", "docs/benchmarks.md", "where to write the report (- for stdout)")
	skipReal  = flag.Bool("skip-real", false, "skip the comparison with the official Node.js server")
	only      = flag.String("only", "", "comma-separated section numbers to run (e.g. 7,8); the partial report goes to stdout unless -out is given")
)

// wanted reports whether the section titled title (which starts with its
// number and a dot) is to be run.
func wanted(title string) bool {
	if *only == "" {
		return true
	}
	num, _, _ := strings.Cut(title, ".")
	for _, n := range strings.Split(*only, ",") {
		if strings.TrimSpace(n) == num {
			return true
		}
	}
	return false
}

func main() {
	flag.Parse()
	var r report
	r.start = time.Now()

	r.section("1. Per-request overhead: `ToSlice` vs hand-written `net/http` + `encoding/json`",
		"A 50-row page from a local server, both in the same process and run.",
		func() *run { return gotest(".", "^(BenchmarkToSlice|BenchmarkHandWritten)$", *benchtime, *count, "") },
		func(b *builder) {
			z, h := b.get("BenchmarkToSlice"), b.get("BenchmarkHandWritten")
			b.row("ns/op", z.m("ns/op"), h.m("ns/op"))
			b.row("B/op", z.m("B/op"), h.m("B/op"))
			b.row("allocs/op", z.m("allocs/op"), h.m("allocs/op"))
			b.goal("ratio of ns/op (zumo / by hand)", "≤ 1.10", ratio(z.m("ns/op"), h.m("ns/op")), ratio(z.m("ns/op"), h.m("ns/op")) <= 1.10)
		}, "zumo", "by hand")

	r.section("2. Auth hot path: a valid cached token vs no auth handler",
		"The handler chain with and without the auth handler, a canned response underneath (no network).",
		func() *run {
			return gotest("./auth", "^(BenchmarkHandlerHotPath|BenchmarkNoAuthHandler)$", *benchtime, *count, "")
		},
		func(b *builder) {
			a, n := b.get("BenchmarkHandlerHotPath"), b.get("BenchmarkNoAuthHandler")
			b.row("ns/op", a.m("ns/op"), n.m("ns/op"))
			b.row("allocs/op", a.m("allocs/op"), n.m("allocs/op"))
			added := a.m("ns/op") - n.m("ns/op")
			b.goal("added ns/op", "< 100", added, added < 100)
			addedA := a.m("allocs/op") - n.m("allocs/op")
			b.goal("added allocs/op", "0", addedA, addedA == 0)
		}, "with auth", "without")

	r.section("3. Login storm: 1,000 goroutines, 50 ms login endpoint",
		"Expired token (`BenchmarkLoginStorm`) and 1,000 concurrent 401s (`BenchmarkReloginStorm`); wall time as a ratio to one login.",
		func() *run {
			return gotest("./auth", "^(BenchmarkLoginStorm|BenchmarkReloginStorm)$", "3x", *count, "")
		},
		func(b *builder) {
			e, u := b.get("BenchmarkLoginStorm"), b.get("BenchmarkReloginStorm")
			b.row("logins per storm", e.m("logins"), u.m("logins"))
			b.row("wall time / one login", e.m("ratio"), u.m("ratio"))
			b.goal("logins (expired token)", "1", e.m("logins"), e.m("logins") == 1)
			b.goal("logins (401s)", "1", u.m("logins"), u.m("logins") == 1)
			b.goal("ratio (expired token)", "< 1.5", e.m("ratio"), e.m("ratio") < 1.5)
			b.goal("ratio (401s)", "< 1.5", u.m("ratio"), u.m("ratio") < 1.5)
		}, "expired token", "401s")

	r.section("4. Paging at scale: `All(ctx)` over 100,000 rows",
		"Pages of 50 and of 1,000 from a local server that encodes each page on demand, vs the same pages decoded by hand.",
		func() *run { return gotest(".", "^(BenchmarkAllPaging|BenchmarkHandPaging)$", "3x", *count, "") },
		func(b *builder) {
			for _, size := range []string{"50", "1000"} {
				z, h := b.get("BenchmarkAllPaging/page="+size), b.get("BenchmarkHandPaging/page="+size)
				b.row("rows/s, page "+size, z.m("rows/s"), h.m("rows/s"))
				b.row("peak heap MiB, page "+size, z.m("peak-heap-MiB"), h.m("peak-heap-MiB"))
				rt := ratio(h.m("rows/s"), z.m("rows/s"))
				b.goal("throughput ratio (by hand / zumo), page "+size, "≤ 1.2", rt, rt <= 1.2)
				b.goal("peak heap, page "+size, "bounded by a page, not the table (< 32 MiB)", z.m("peak-heap-MiB"), z.m("peak-heap-MiB") < 32)
			}
		}, "zumo All", "by hand")

	r.section("5. Fake backend vs the official Node.js server",
		"10,000 rows, `$filter=(complete eq false)&$orderby=priority&$top=50`, 16 concurrent clients over loopback HTTP. "+
			"`zumotest` caches a query's filtered, sorted result until the next write; the uncached row is a new filter on every request.",
		func() *run {
			var official *run
			if !*skipReal {
				official = gotest("./internal/realserver", "^BenchmarkOfficialFilteredPage$", "3s", 1, "integration")
			}
			fake := gotest("./zumotest", "^(BenchmarkFilteredPage|BenchmarkFilteredPageUncached)$", "3s", *count, "")
			return merge(fake, official)
		},
		func(b *builder) {
			f, fu, o := b.get("BenchmarkFilteredPage"), b.get("BenchmarkFilteredPageUncached"), b.get("BenchmarkOfficialFilteredPage")
			b.row("requests/s (cached)", f.m("req/s"), o.m("req/s"))
			b.row("requests/s (uncached)", fu.m("req/s"), o.m("req/s"))
			rt := ratio(f.m("req/s"), o.m("req/s"))
			b.goal("ratio zumotest / official (cached)", "≥ 10", rt, rt >= 10)
			ru := ratio(fu.m("req/s"), o.m("req/s"))
			b.goal("ratio zumotest / official (uncached: a new filter every request)", "≥ 10", ru, ru >= 10)
		}, "zumotest", "official")

	r.section("6. Filter engine and query building",
		"`zumotest`'s OData engine on a five-clause filter, and the client writing the query string of a query with a five-clause filter, ordering, skip, take and select.",
		func() *run {
			return merge(gotest("./internal/odata", "^(BenchmarkParseFilter|BenchmarkMatch)$", *benchtime, *count, ""),
				gotest(".", "^BenchmarkQueryString$", *benchtime, *count, ""))
		},
		func(b *builder) {
			for _, n := range []string{"BenchmarkParseFilter", "BenchmarkMatch", "BenchmarkQueryString"} {
				x := b.get(n)
				b.row(n, x.m("ns/op"), x.m("allocs/op"))
			}
		}, "ns/op", "allocs/op")

	r.section("7. Redis user store: hot path vs the memory store",
		"The same handler with a Redis-backed store and with the memory store; Redis is not on the hot path.",
		func() *run { return gotestIn("cache/rediscache", ".", "^BenchmarkHotPath", *benchtime, *count, "") },
		func(b *builder) {
			rd, mem := b.get("BenchmarkHotPath/store=redis"), b.get("BenchmarkHotPath/store=memory")
			b.row("ns/op (median)", rd.m("ns/op"), mem.m("ns/op"))
			b.rowText("ns/op (range of the runs)", rd.rng("ns/op"), mem.rng("ns/op"))
			b.row("Redis commands/op", rd.m("redis-cmds/op"), mem.m("redis-cmds/op"))
			b.goal("Redis commands on the hot path", "0", rd.m("redis-cmds/op"), rd.m("redis-cmds/op") == 0)
			rt := ratio(rd.m("ns/op"), mem.m("ns/op"))
			b.goal("hot path, redis / memory (median ratio)", "equal within noise: the runs' ranges overlap", rt, rd.overlap(mem, "ns/op"))
		}, "redis store", "memory store")

	r.section("8. Redis user store: one login for a fleet of processes",
		"`BenchmarkFleetRotation`: 3 OS processes, each a service instance with its own zumo client and Redis store, share one Redis and one fake backend "+
			"whose login takes 50 ms. Each iteration rotates the backend's signing key (every cached token gets a 401) and has each process send 20 concurrent "+
			"requests; it ends when all 60 have succeeded. `BenchmarkStorm`: 20 instances in one process, 50 concurrent requests each and no user yet, 20 ms login. "+
			"Wall time as a ratio to one login.",
		func() *run {
			return gotestIn("cache/rediscache", ".", "^(BenchmarkFleetRotation|BenchmarkStorm)$", "20x", *count, "")
		},
		func(b *builder) {
			f, s := b.get("BenchmarkFleetRotation"), b.get("BenchmarkStorm")
			b.row("logins per storm", f.m("logins/op"), s.m("logins/op"))
			b.row("wall time / one login", f.m("recovery/login"), s.m("wall/login"))
			b.rowText("wall time / one login (range of the runs)", f.rng("recovery/login"), s.rng("wall/login"))
			b.row("ms per storm", f.m("ns/op")/1e6, s.m("ns/op")/1e6)
			b.goal("logins per storm across 3 processes", "1", f.m("logins/op"), f.m("logins/op") == 1)
			b.goal("logins per storm across 20 instances", "1", s.m("logins/op"), s.m("logins/op") == 1)
			b.goal("fleet recovery after a rotation / one login", "< 2", f.m("recovery/login"), f.m("recovery/login") < 2)
		}, "3 processes, key rotation", "20 instances in 1 process, first login")

	text := r.render()
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

// outSet reports whether -out was given on the command line.
func outSet() bool {
	set := false
	flag.Visit(func(f *flag.Flag) { set = set || f.Name == "out" })
	return set
}

func gotest(pkg, pattern, bt string, n int, tags string) *run {
	return gotestIn("", pkg, pattern, bt, n, tags)
}

// gotestIn runs go test -bench in dir (a nested module) or the root, n
// times with -count 1, so that the benchmarks of a pair alternate (A, B, A,
// B, …) and a drift in the machine's load does not fall on one side.
func gotestIn(dir, pkg, pattern, bt string, n int, tags string) *run {
	all := &run{results: map[string][]result{}}
	for range n {
		r := gotestOnce(dir, pkg, pattern, bt, tags)
		all.cmd = r.cmd
		for k, v := range r.results {
			all.results[k] = append(all.results[k], v...)
		}
		if r.err != nil {
			all.err = r.err
			break
		}
	}
	if n > 1 {
		all.cmd += fmt.Sprintf("   # run %d times; medians reported", n)
	}
	return all
}

func gotestOnce(dir, pkg, pattern, bt string, tags string) *run {
	args := []string{"test", "-run", "^$", "-bench", pattern, "-benchmem", "-count", "1", "-benchtime", bt}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	args = append(args, pkg)
	cmdline := "go " + strings.Join(quoteArgs(args), " ")
	if dir != "" {
		cmdline = "(cd " + dir + " && " + cmdline + ")"
	}
	fmt.Fprintln(os.Stderr, "running:", cmdline)
	cmd := exec.Command("go", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ZUMO_BENCH=1")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	r := &run{cmd: cmdline, results: parse(buf.String())}
	if err != nil {
		tail := buf.String()
		if len(tail) > 600 {
			tail = tail[len(tail)-600:]
		}
		r.err = fmt.Errorf("%v: %s", err, strings.TrimSpace(tail))
	}
	return r
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
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
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

func merge(runs ...*run) *run {
	m := &run{results: map[string][]result{}}
	var cmds []string
	var errs []string
	for _, r := range runs {
		if r == nil {
			continue
		}
		cmds = append(cmds, r.cmd)
		for k, v := range r.results {
			m.results[k] = v
		}
		if r.err != nil {
			errs = append(errs, r.err.Error())
		}
	}
	m.cmd = strings.Join(cmds, "\n")
	if len(errs) > 0 {
		m.err = fmt.Errorf("%s", strings.Join(errs, "\n"))
	}
	return m
}

// stat is the medians (and ranges) of one benchmark's metrics.
type stat struct {
	med      map[string]float64
	min, max map[string]float64
}

// overlap reports whether the ranges of unit's runs in s and o overlap: a
// difference within the noise of the runs.
func (s stat) overlap(o stat, unit string) bool {
	a0, a1, ok1 := s.min[unit], s.max[unit], len(s.min) > 0
	b0, b1, ok2 := o.min[unit], o.max[unit], len(o.min) > 0
	return ok1 && ok2 && a0 <= b1 && b0 <= a1
}

func (s stat) rng(unit string) string {
	if _, ok := s.min[unit]; !ok {
		return "—"
	}
	return num(s.min[unit]) + "–" + num(s.max[unit])
}

func (s stat) m(unit string) float64 {
	if v, ok := s.med[unit]; ok {
		return v
	}
	return nan
}

var nan = func() float64 { var z float64; return z / z }()

func median(vs []float64) float64 {
	if len(vs) == 0 {
		return nan
	}
	sort.Float64s(vs)
	if len(vs)%2 == 1 {
		return vs[len(vs)/2]
	}
	return (vs[len(vs)/2-1] + vs[len(vs)/2]) / 2
}

func ratio(a, b float64) float64 { return a / b }

type builder struct {
	r     *run
	rows  [][3]string
	goals [][4]string
}

func (b *builder) get(name string) stat {
	rs := b.r.results[name]
	all := map[string][]float64{}
	for _, r := range rs {
		for k, v := range r.metrics {
			all[k] = append(all[k], v)
		}
	}
	s := stat{med: map[string]float64{}, min: map[string]float64{}, max: map[string]float64{}}
	for k, v := range all {
		s.med[k] = median(v)
		s.min[k], s.max[k] = v[0], v[len(v)-1] // median sorted v
	}
	return s
}

func (b *builder) row(label string, a, c float64) {
	b.rows = append(b.rows, [3]string{label, num(a), num(c)})
}

func (b *builder) rowText(label, a, c string) {
	b.rows = append(b.rows, [3]string{label, a, c})
}

func (b *builder) goal(label, goal string, v float64, met bool) {
	verdict := "met"
	switch {
	case v != v:
		verdict = "not measured"
	case !met:
		verdict = "**missed**"
	}
	b.goals = append(b.goals, [4]string{label, goal, num(v), verdict})
}

func num(v float64) string {
	switch {
	case v != v:
		return "—"
	case v == float64(int64(v)) && v < 1e15:
		return strconv.FormatInt(int64(v), 10)
	case v >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case v >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

type report struct {
	start time.Time
	body  strings.Builder
}

// section runs a section's benchmarks (unless -only leaves it out) and
// adds its tables.
func (r *report) section(title, what string, runs func() *run, fill func(*builder), colA, colB string) {
	if !wanted(title) {
		return
	}
	rn := runs()
	b := &builder{r: rn}
	fill(b)
	fmt.Fprintf(&r.body, "\n## %s\n\n%s\n\n", title, what)
	fmt.Fprintf(&r.body, "| measurement | %s | %s |\n|---|---|---|\n", colA, colB)
	for _, row := range b.rows {
		fmt.Fprintf(&r.body, "| %s | %s | %s |\n", row[0], row[1], row[2])
	}
	if len(b.goals) > 0 {
		fmt.Fprintf(&r.body, "\n| goal | target | measured | verdict |\n|---|---|---|---|\n")
		for _, g := range b.goals {
			fmt.Fprintf(&r.body, "| %s | %s | %s | %s |\n", g[0], g[1], g[2], g[3])
		}
	}
	fmt.Fprintf(&r.body, "\nCommand:\n\n```sh\n%s\n```\n", rn.cmd)
	if rn.err != nil {
		fmt.Fprintf(&r.body, "\nNot (fully) measured in this run:\n\n```\n%s\n```\n", rn.err)
	}
}

func (r *report) render() string {
	var h strings.Builder
	h.WriteString("# Benchmarks\n\n")
	h.WriteString("Written by `go run ./internal/benchreport` — every number below comes from that run; nothing is typed by hand. ")
	h.WriteString("Values are medians over the runs of each benchmark. Where a goal is missed the section says so; the reasons are discussed at the end.\n\n")
	fmt.Fprintf(&h, "- Date: %s\n- Machine: %d cores (%s), %s, %s/%s\n- Command: `go run ./internal/benchreport -count %d -benchtime %s`\n",
		r.start.UTC().Format("2006-01-02 15:04 MST"), runtime.NumCPU(), cpuModel(), runtime.Version(), runtime.GOOS, runtime.GOARCH, *count, *benchtime)
	h.WriteString(r.body.String())
	if notes, err := os.ReadFile("docs/benchmarks-notes.md"); err == nil {
		h.WriteString("\n")
		h.Write(notes)
	}
	return h.String()
}

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
