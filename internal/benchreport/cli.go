package main

// The sections of the zumo command (the nested module cmd/zumo); listed
// in sections().

func cliCommand() section {
	return section{
		title: "The `zumo` command: cold start and `table list --all` over 100,000 rows",
		what: "The built binary run as a new process: `zumo --help` from exec to exit, and " +
			"`zumo table list todoitem --all -o json` against an in-process fake with pages of 1,000 rows, its " +
			"peak resident memory (VmHWM) sampled from /proc while it runs.",
		cols: [2]string{"10,000 rows", "100,000 rows"},
		run: func() *run {
			return measure(*count, bench{dir: "cmd/zumo", pkg: ".", pattern: "^(BenchmarkHelpColdStart|BenchmarkListAll)$", benchtime: "3x"})
		},
		fill: func(b *builder) {
			h := b.get("BenchmarkHelpColdStart")
			small, big := b.get("BenchmarkListAll/rows=10000"), b.get("BenchmarkListAll/rows=100000")
			b.row("peak resident MiB", small.m("peak-rss-MiB"), big.m("peak-rss-MiB"))
			b.row("rows/s", small.m("rows/s"), big.m("rows/s"))
			b.goal("`zumo --help` cold start, ms", "< 50", h.m("ms/start"), h.m("ms/start") < 50)
			grow := ratio(big.m("peak-rss-MiB"), small.m("peak-rss-MiB"))
			b.goal("peak memory, 100,000 rows / 10,000 rows", "≤ 1.25 (bounded by a page, not the table)", grow, grow <= 1.25)
			b.note("Ten times the rows cost %s times the memory: `--all` prints each row as it arrives and holds one "+
				"page. The rows/s include the fake server's work in the benchmark's own process.", num(grow))
		},
	}
}

func serveVsOfficial() section {
	serve := bench{dir: "cmd/zumo", pkg: ".", pattern: "^BenchmarkServeFilteredPageUncached$", benchtime: "3s"}
	official := bench{pkg: "./internal/realserver", pattern: "^BenchmarkOfficialFilteredPageUncached$", benchtime: "3s", tags: "integration"}
	return section{
		title: "`zumo serve` vs the official Node.js server",
		what: "Both as their own processes, the same 10,000 rows, 16 concurrent clients over loopback HTTP, a different " +
			"`$filter=((complete eq false) and (priority ne N))&$orderby=priority&$top=50` on every request (nothing " +
			"cached on either side). `zumo serve` loads the rows from a `--data` snapshot; the Node server from one " +
			"sqlite transaction.",
		cols: [2]string{"zumo serve", "official"},
		run: func() *run {
			if *skipReal {
				return measure(*count, serve)
			}
			return measure(*count, serve, official)
		},
		fill: func(b *builder) {
			z, o := b.get("BenchmarkServeFilteredPageUncached"), b.get("BenchmarkOfficialFilteredPageUncached")
			b.row("requests/s", z.m("req/s"), o.m("req/s"))
			rt := ratio(z.m("req/s"), o.m("req/s"))
			b.goal("ratio zumo serve / official", "≥ 10", rt, rt >= 10)
			lo, hi := b.ratioRange("BenchmarkServeFilteredPageUncached", "BenchmarkOfficialFilteredPageUncached", "req/s")
			b.note("The rounds' ratios ranged from %s to %s. `zumo serve` is `zumotest` behind a request log (off "+
				"here: --quiet) and the snapshot writer, which reads do not wake.", num(lo), num(hi))
		},
	}
}
