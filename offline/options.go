package offline

// Option configures a SyncContext.
type Option func(*options)

type options struct {
	resolver Resolver
	pageSize int
	parallel int
	progress func(Progress)
}

// WithResolver sets the conflict resolver Push uses (ServerWins,
// ClientWins, Merge or your own). Without one, a conflict is reported in
// the push's OperationError and the operation stays queued.
func WithResolver(r Resolver) Option { return func(o *options) { o.resolver = r } }

// WithPageSize sets the $top of each pull request (default 1000, the
// official servers' largest; values below 1 are ignored). Keyset paging
// makes a smaller page served by the server just cost more requests.
func WithPageSize(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.pageSize = n
		}
	}
}

// WithParallelPush lets Push send up to n operations at once (default 1:
// one at a time, in queue order). Each row has at most one queued
// operation, so parallel operations touch different rows; their order on
// the server is then not the queue's, which matters only when the server
// ties rows together (a trigger, a foreign key).
func WithParallelPush(n int) Option {
	return func(o *options) {
		if n > 0 {
			o.parallel = n
		}
	}
}

// WithProgress calls fn after every pulled page and every pushed
// operation, from the goroutine running the push or pull (or one of the
// push's workers, one call at a time). It may read and write tables, but
// must not call Push, Pull or Purge, which wait for the running one.
func WithProgress(fn func(Progress)) Option { return func(o *options) { o.progress = fn } }

// Progress reports how far a push or pull has come.
type Progress struct {
	// Op is "push" or "pull".
	Op string
	// Table is the table being pulled; "" for a push of every table.
	Table string
	// Pages and Rows count pulled pages and rows so far.
	Pages, Rows int
	// Operations counts pushed operations so far (done or failed), of
	// Total queued when the push began.
	Operations, Total int
	// Bytes counts the JSON bytes of the rows pulled or sent so far.
	Bytes int64
}
