package main

// The sections of the offline store (the nested module
// offline/sqlitestore); listed in sections().

func offlinePull() section {
	return section{
		title: "Offline pull: 100,000 rows into SQLite vs a hand-written loop",
		what: "`Table.Pull` into a new `sqlitestore` file, against a hand-written loop sending the same keyset " +
			"requests (`$filter` on `(updatedAt, id)`, `$orderby=updatedAt,id`, `$top=1000`) and inserting each page " +
			"in one transaction with a prepared statement. The fake server runs as its own process, so the peak heap " +
			"(sampled every 2 ms, above the heap at the start) is the client's.",
		cols: [2]string{"offline", "by hand"},
		run: func() *run {
			return measure(*count, bench{dir: "offline/sqlitestore", pkg: ".", pattern: "^BenchmarkPull$", benchtime: "1x"})
		},
		fill: func(b *builder) {
			o, h := b.get("BenchmarkPull/side=offline"), b.get("BenchmarkPull/side=hand")
			b.row("rows/s", o.m("rows/s"), h.m("rows/s"))
			b.row("peak heap MiB", o.m("peak-heap-MiB"), h.m("peak-heap-MiB"))
			rt := ratio(o.m("rows/s"), h.m("rows/s"))
			b.goal("rows/s, offline / by hand", "≥ 0.8", rt, rt >= 0.8)
			b.goal("peak heap of the pull, MiB", "< 32 (bounded by a page)", o.m("peak-heap-MiB"), o.m("peak-heap-MiB") < 32)
			lo, hi := b.ratioRange("BenchmarkPull/side=offline", "BenchmarkPull/side=hand", "rows/s")
			b.note("The rounds' ratios ranged from %s to %s. Pulled rows are decoded into a small struct that keeps "+
				"their JSON text, which is what the store writes, so the pull does what the loop does plus the "+
				"delta token and the check for rows with queued operations, in the same transaction as each page.", num(lo), num(hi))
		},
	}
}

func offlinePush() section {
	return section{
		title: "Offline push: 10,000 queued updates with 5 ms of added latency",
		what: "`SyncContext.Push` of 10,000 queued updates from a `sqlitestore` file to the fake server, which " +
			"delays every request by 5 ms (a fault), one operation at a time and with `WithParallelPush(4)`.",
		cols: [2]string{"parallel 1", "parallel 4"},
		run: func() *run {
			return measure(min(*count, 3), bench{dir: "offline/sqlitestore", pkg: ".", pattern: "^BenchmarkPush$", benchtime: "1x"})
		},
		fill: func(b *builder) {
			one, four := b.get("BenchmarkPush/parallel=1"), b.get("BenchmarkPush/parallel=4")
			b.row("operations/s", one.m("ops/s"), four.m("ops/s"))
			rt := ratio(four.m("ops/s"), one.m("ops/s"))
			b.goal("parallel(4) / sequential", "≥ 3.5", rt, rt >= 3.5)
			b.note("A sequential operation costs the latency plus %s ms of its own (two store transactions for an "+
				"update: read, then record the answer). Only inserts are marked as sent before sending; parallel "+
				"workers record their answers in shared transactions (a group commit).",
				num(1000/one.m("ops/s")-5))
		},
	}
}

func offlineLocal() section {
	return section{
		title: "Offline: local query by a field over 100,000 rows, and a pull with no changes",
		what: "`Where(Field(\"priority\").Eq(n)).Take(50).ToSlice` over 100,000 rows in a `sqlitestore` file " +
			"(about 1,000 rows match), opened with `WithIndex(\"items\", \"priority\")` and without it; and an " +
			"incremental pull of an unchanged table, counting the requests the fake server receives.",
		cols: [2]string{"with the index", "without"},
		run: func() *run {
			return measure(*count, bench{dir: "offline/sqlitestore", pkg: ".", pattern: "^(BenchmarkLocalQuery|BenchmarkNoChangePull)$", benchtime: *benchtime})
		},
		fill: func(b *builder) {
			q, u := b.get("BenchmarkLocalQuery/index=true"), b.get("BenchmarkLocalQuery/index=false")
			p := b.get("BenchmarkNoChangePull")
			b.row("ms/query", q.m("ms/query"), u.m("ms/query"))
			b.rowText("requests per pull without changes", num(p.m("requests/pull")), "—")
			b.goal("local indexed query, median ms", "< 5", q.m("ms/query"), q.m("ms/query") < 5)
			b.goal("requests per pull without changes", "= 1", p.m("requests/pull"), p.m("requests/pull") == 1)
			b.note("Rows are stored as JSON; the filter compiles to `json_extract(v, '$.\"priority\"') = ?`, the "+
				"expression the index is on, so the index makes the query %s times faster than a scan of the JSON.",
				num(ratio(u.m("ms/query"), q.m("ms/query"))))
		},
	}
}
