package main

// connectionReuse is the section on connections under concurrency:
// BenchmarkConcurrentTLS in the root package.
func connectionReuse() section {
	const goroutines, requests = 32, 3200
	return section{
		title: "Connection reuse: 32 goroutines over TLS through one client",
		what: "`BenchmarkConcurrentTLS`: 32 goroutines read a 50-row page over TLS (an `httptest` server that counts the connections it accepts), " +
			"3,200 requests per round (32 × 100). *default* is the client's default transport, *old default* a clone of `http.DefaultTransport` " +
			"(2 idle connections per host), what the client used before. Each row gives zumo beside the hand-written request on the same transport. " +
			"The wall time per request is the round's wall time over its requests, 32 in flight at a time.",
		cols: [2]string{"zumo", "by hand"},
		run: func() *run {
			return measure(*count, bench{pkg: ".", pattern: "^BenchmarkConcurrentTLS$", benchtime: "3200x"})
		},
		fill: func(b *builder) {
			for _, v := range []string{"default/http1", "default/http2", "old-default/http1"} {
				z, h := b.get("BenchmarkConcurrentTLS/"+v+"/sdk"), b.get("BenchmarkConcurrentTLS/"+v+"/by-hand")
				b.row("new connections per 1,000 requests, "+v, z.m("newconns/1000req"), h.m("newconns/1000req"))
				b.row("wall µs per request, "+v, z.m("ns/op")/1e3, h.m("ns/op")/1e3)
			}
			for _, v := range []string{"default/http1", "default/http2"} {
				z := b.get("BenchmarkConcurrentTLS/" + v + "/sdk")
				b.goal("new connections per 1,000 requests, zumo, "+v, "≤ N + 4 = 36", z.m("newconns/1000req"), z.m("newconns/1000req") <= goroutines+4)
			}
			d, o := b.get("BenchmarkConcurrentTLS/default/http1/sdk"), b.get("BenchmarkConcurrentTLS/old-default/http1/sdk")
			b.note("Without multiplexing the default transport opened %s connections in all for %s requests from %s goroutines, "+
				"the old default %s: every connection beyond the pool's idle limit is a TLS handshake and a socket left in TIME_WAIT. "+
				"Connections beyond one per goroutine are net/http dialling while another connection is being freed.",
				num(d.m("newconns/1000req")*requests/1000), num(requests), num(goroutines), num(o.m("newconns/1000req")*requests/1000))
		},
	}
}
