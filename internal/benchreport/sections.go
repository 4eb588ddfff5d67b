package main

import "runtime"

// sections is the report, in order; a section's number is its place here.
// To add one, write a function like these and list it.
func sections() []section {
	return []section{
		requestOverhead(),
		authHotPath(),
		loginStorms(),
		paging(),
		fakeVsOfficial(),
		filterEngine(),
		redisHotPath(),
		redisFleet(),
		connectionReuse(),
		cliCommand(),
		serveVsOfficial(),
		offlinePull(),
		offlinePush(),
		offlineLocal(),
	}
}

func requestOverhead() section {
	return section{
		title: "Per-request overhead: `ToSlice` vs hand-written `net/http` + `encoding/json`",
		what: "A 50-row page from a local server. The ratio comes from `BenchmarkRequestOverhead`, which sends the two " +
			"requests in pairs (alternating which goes first) so that both meet the same noise; B/op and allocs/op " +
			"from the two sides run on their own.",
		cols: [2]string{"zumo", "by hand"},
		run: func() *run {
			return measure(*count, bench{pkg: ".", pattern: "^(BenchmarkRequestOverhead|BenchmarkToSlice|BenchmarkHandWritten)$", benchtime: *benchtime})
		},
		fill: func(b *builder) {
			p := b.get("BenchmarkRequestOverhead")
			z, h := b.get("BenchmarkToSlice"), b.get("BenchmarkHandWritten")
			b.row("ns/op (in pairs)", p.m("zumo-ns/op"), p.m("hand-ns/op"))
			b.row("B/op", z.m("B/op"), h.m("B/op"))
			b.row("allocs/op", z.m("allocs/op"), h.m("allocs/op"))
			b.goal("ratio of time (zumo / by hand, in pairs)", "≤ 1.05", p.m("ratio"), p.m("ratio") <= 1.05)
			lo, hi := b.ratioRange("BenchmarkToSlice", "BenchmarkHandWritten", "ns/op")
			b.note("Both sides send the same request (URL and protocol headers) and spend almost all their time in "+
				"loopback HTTP and in `encoding/json`. zumo adds the query string, the protocol headers, the handler "+
				"chain with the auth handler, a bounded reader around the body and the pager's bookkeeping: "+
				"%s allocations and %s bytes per request in this run. In pairs, the rounds' ratios ranged "+
				"over %s; the two benchmarks run on their own gave ratios from %s to %s, which is why the "+
				"goal is judged in pairs.",
				num(z.m("allocs/op")-h.m("allocs/op")), num(z.m("B/op")-h.m("B/op")), p.rng("ratio"), num(lo), num(hi))
		},
	}
}

func authHotPath() section {
	return section{
		title: "Auth hot path: a valid cached token vs no auth handler",
		what:  "The handler chain with and without the auth handler, a canned response underneath (no network).",
		cols:  [2]string{"with auth", "without"},
		run: func() *run {
			return measure(*count, bench{pkg: "./auth", pattern: "^(BenchmarkHandlerHotPath|BenchmarkNoAuthHandler)$", benchtime: *benchtime})
		},
		fill: func(b *builder) {
			a, n := b.get("BenchmarkHandlerHotPath"), b.get("BenchmarkNoAuthHandler")
			b.row("ns/op", a.m("ns/op"), n.m("ns/op"))
			b.row("allocs/op", a.m("allocs/op"), n.m("allocs/op"))
			added := a.m("ns/op") - n.m("ns/op")
			addedA := a.m("allocs/op") - n.m("allocs/op")
			b.goal("added allocs/op", "≤ 5 (one copy of the request)", addedA, addedA <= 5)
			b.note("The %s ns the auth handler adds are a copy of the request (req.Clone: the RoundTripper "+
				"contract forbids changing the caller's), the token's expiry check (one clock read, wall and monotonic "+
				"together, so that neither a machine that slept past the expiry nor a wall clock set back lets an "+
				"expired token through) and the token header. No JWT is parsed on this path: a token's expiry "+
				"is read once, when the user is made. The whole request's overhead is the first section's goal.", num(added))
		},
	}
}

func loginStorms() section {
	return section{
		title: "Login storm: 1,000 goroutines, 50 ms login endpoint",
		what:  "Expired token (`BenchmarkLoginStorm`) and 1,000 concurrent 401s (`BenchmarkReloginStorm`); wall time as a ratio to one login.",
		cols:  [2]string{"expired token", "401s"},
		run: func() *run {
			return measure(*count, bench{pkg: "./auth", pattern: "^(BenchmarkLoginStorm|BenchmarkReloginStorm)$", benchtime: "3x"})
		},
		fill: func(b *builder) {
			e, u := b.get("BenchmarkLoginStorm"), b.get("BenchmarkReloginStorm")
			b.row("logins per storm", e.m("logins"), u.m("logins"))
			b.row("wall time / one login", e.m("ratio"), u.m("ratio"))
			b.goal("logins (expired token)", "1", e.m("logins"), e.m("logins") == 1)
			b.goal("logins (401s)", "1", u.m("logins"), u.m("logins") == 1)
			b.goal("ratio (expired token)", "< 1.5", e.m("ratio"), e.m("ratio") < 1.5)
			b.goal("ratio (401s)", "< 1.5", u.m("ratio"), u.m("ratio") < 1.5)
			b.note("The wall time includes starting the goroutines and sending their requests (twice as many for the "+
				"storm of rejected tokens) through the chain on this machine's %s cores; the login itself is one call, shared by all "+
				"of them. The in-process fake server remembers each token's verdict, as a real server does its "+
				"checking on its own machine.", num(float64(runtime.NumCPU())))
		},
	}
}

func paging() section {
	return section{
		title: "Paging at scale: `All(ctx)` over 100,000 rows",
		what:  "Pages of 50 and of 1,000 from a local server that encodes each page on demand, vs the same pages decoded by hand.",
		cols:  [2]string{"zumo All", "by hand"},
		run: func() *run {
			return measure(*count, bench{pkg: ".", pattern: "^(BenchmarkAllPaging|BenchmarkHandPaging)$", benchtime: "3x"})
		},
		fill: func(b *builder) {
			for _, size := range []string{"50", "1000"} {
				z, h := b.get("BenchmarkAllPaging/page="+size), b.get("BenchmarkHandPaging/page="+size)
				b.row("rows/s, page "+size, z.m("rows/s"), h.m("rows/s"))
				b.row("peak heap MiB, page "+size, z.m("peak-heap-MiB"), h.m("peak-heap-MiB"))
				rt := ratio(h.m("rows/s"), z.m("rows/s"))
				b.goal("throughput ratio (by hand / zumo), page "+size, "≤ 1.2", rt, rt <= 1.2)
				b.goal("peak heap, page "+size, "bounded by a page, not the table (< 32 MiB)", z.m("peak-heap-MiB"), z.m("peak-heap-MiB") < 32)
				lo, hi := b.ratioRange("BenchmarkHandPaging/page="+size, "BenchmarkAllPaging/page="+size, "rows/s")
				b.note("With %s-row pages the rounds' ratios (by hand / zumo) ranged from %s to %s.", size, num(lo), num(hi))
			}
			b.note("The peak heap is the live heap sampled during the whole run — the client, the in-process server and " +
				"the benchmark harness together: `All` holds one page at a time. Per page, `All` pays for a request " +
				"built and sent through the chain and for hashing the ids on the page (so that a server that ignores " +
				"`$skip` cannot loop it for ever), so small pages weigh more on its side.")
		},
	}
}

func fakeVsOfficial() section {
	fake := bench{pkg: "./zumotest", pattern: "^(BenchmarkFilteredPage|BenchmarkFilteredPageUncached)$", benchtime: "3s"}
	official := bench{pkg: "./internal/realserver", pattern: "^(BenchmarkOfficialFilteredPage|BenchmarkOfficialFilteredPageUncached)$",
		benchtime: "3s", tags: "integration"}
	return section{
		title: "Fake backend vs the official Node.js server",
		what: "10,000 rows, `$filter=(complete eq false)&$orderby=priority&$top=50`, 16 concurrent clients over loopback HTTP, " +
			"the same rows, query and clients on both sides. *Repeated*: the same query every request; *new filter*: " +
			"a different filter on every request, which no cache on either side can answer.",
		cols: [2]string{"zumotest", "official"},
		run: func() *run {
			if *skipReal {
				return measure(*count, fake)
			}
			return measure(*count, fake, official)
		},
		fill: func(b *builder) {
			f, fu := b.get("BenchmarkFilteredPage"), b.get("BenchmarkFilteredPageUncached")
			o, ou := b.get("BenchmarkOfficialFilteredPage"), b.get("BenchmarkOfficialFilteredPageUncached")
			b.row("requests/s (repeated query)", f.m("req/s"), o.m("req/s"))
			b.row("requests/s (new filter every request)", fu.m("req/s"), ou.m("req/s"))
			rt := ratio(f.m("req/s"), o.m("req/s"))
			b.goal("ratio zumotest / official (repeated query)", "≥ 10", rt, rt >= 10)
			ru := ratio(fu.m("req/s"), ou.m("req/s"))
			b.goal("ratio zumotest / official (new filter every request)", "≥ 10", ru, ru >= 10)
			lo, hi := b.ratioRange("BenchmarkFilteredPage", "BenchmarkOfficialFilteredPage", "req/s")
			ulo, uhi := b.ratioRange("BenchmarkFilteredPageUncached", "BenchmarkOfficialFilteredPageUncached", "req/s")
			b.note("Each ratio divides like by like: the repeated query by the official server's repeated query, the new "+
				"filters by its new filters, in the same rounds. The rounds' ratios ranged from %s to %s (repeated) and "+
				"from %s to %s (new filter). `zumotest` keeps no result cache: every list filters the table's column "+
				"store and keeps the first rows of the order in a bounded heap, which is what meets the goal with a new "+
				"filter on every request.", num(lo), num(hi), num(ulo), num(uhi))
		},
	}
}

func filterEngine() section {
	return section{
		title: "Filter engine and query building",
		what: "The OData engine that `zumotest` uses on a five-clause filter, and the client writing the query string of a " +
			"query with a five-clause filter, ordering, skip, take and select.",
		cols: [2]string{"ns/op", "allocs/op"},
		run: func() *run {
			return measure(*count,
				bench{pkg: "./internal/odata", pattern: "^(BenchmarkParseFilter|BenchmarkMatch)$", benchtime: *benchtime},
				bench{pkg: ".", pattern: "^BenchmarkQueryString$", benchtime: *benchtime})
		},
		fill: func(b *builder) {
			for _, n := range []string{"BenchmarkParseFilter", "BenchmarkMatch", "BenchmarkQueryString"} {
				x := b.get(n)
				b.row(n, x.m("ns/op"), x.m("allocs/op"))
			}
		},
	}
}

func redisHotPath() section {
	return section{
		title: "Redis user store: hot path vs the memory store",
		what:  "The same handler with a Redis-backed store and with the memory store; Redis is not on the hot path.",
		cols:  [2]string{"redis store", "memory store"},
		run: func() *run {
			return measure(*count, bench{dir: "cache/rediscache", pkg: ".", pattern: "^BenchmarkHotPath", benchtime: *benchtime})
		},
		fill: func(b *builder) {
			rd, mem := b.get("BenchmarkHotPath/store=redis"), b.get("BenchmarkHotPath/store=memory")
			b.row("ns/op (median)", rd.m("ns/op"), mem.m("ns/op"))
			b.rowText("ns/op (range of the rounds)", rd.rng("ns/op"), mem.rng("ns/op"))
			b.row("Redis commands/op", rd.m("redis-cmds/op"), mem.m("redis-cmds/op"))
			b.goal("Redis commands on the hot path", "0", rd.m("redis-cmds/op"), rd.m("redis-cmds/op") == 0)
			rt := ratio(rd.m("ns/op"), mem.m("ns/op"))
			b.goal("hot path, redis / memory (median ratio)", "equal within noise: the rounds' ranges overlap", rt, rd.overlap(mem, "ns/op"))
			b.note("Both sides run the same code on the hot path — the handler never touches its store while the " +
				"current user's token is valid — which the Redis command counter proves.")
		},
	}
}

func redisFleet() section {
	return section{
		title: "Redis user store: one login for a fleet of processes",
		what: "`BenchmarkFleetRotation`: 3 OS processes, each a service instance with its own zumo client and Redis store, share one Redis and one fake backend " +
			"whose login takes 50 ms. Each iteration rotates the backend's signing key (every cached token gets a 401) and has each process send 20 concurrent " +
			"requests; it ends when all 60 have succeeded. `BenchmarkStorm`: 20 instances in one process, 50 concurrent requests each and no user yet, 20 ms login. " +
			"Wall time as a ratio to one login.",
		cols: [2]string{"3 processes, key rotation", "20 instances in 1 process, first login"},
		run: func() *run {
			return measure(*count, bench{dir: "cache/rediscache", pkg: ".", pattern: "^(BenchmarkFleetRotation|BenchmarkStorm)$", benchtime: "20x"})
		},
		fill: func(b *builder) {
			f, s := b.get("BenchmarkFleetRotation"), b.get("BenchmarkStorm")
			b.row("logins per storm", f.m("logins/op"), s.m("logins/op"))
			b.row("wall time / one login", f.m("recovery/login"), s.m("wall/login"))
			b.rowText("wall time / one login (range of the rounds)", f.rng("recovery/login"), s.rng("wall/login"))
			b.row("ms per storm", f.m("ns/op")/1e6, s.m("ns/op")/1e6)
			b.goal("logins per storm across 3 processes", "1", f.m("logins/op"), f.m("logins/op") == 1)
			b.goal("logins per storm across 20 instances", "1", s.m("logins/op"), s.m("logins/op") == 1)
			b.goal("fleet recovery after a rotation / one login", "< 2", f.m("recovery/login"), f.m("recovery/login") < 2)
			ms := f.m("ns/op") / 1e6
			b.note("The processes are the test binary started again; they stay up for the whole benchmark and get their "+
				"orders as lines on stdin, so the wall time counts waking them through a pipe but not starting them. "+
				"Besides the login, a rotation cost the fleet %s ms in this run: each request rejected once, the "+
				"compare-and-swap that clears the rejected token, the lock, the save, the release and the PUBLISH that "+
				"wakes the waiting processes, their read of the new user and the requests sent again. A fleet that "+
				"logged in once per process, one after the other behind the lock, would take at least one login per "+
				"process.", num(ms-ms/f.m("recovery/login")))
		},
	}
}
