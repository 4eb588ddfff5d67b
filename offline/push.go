package offline

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"

	"github.com/zumo-go/zumo"
)

// PushResult reports what a push did.
type PushResult struct {
	// Pushed counts the operations that are done: applied by the server,
	// found already applied (an answer lost earlier), or settled by a
	// resolver.
	Pushed int
	// Resolved counts the conflicts a resolver settled (also in Pushed).
	Resolved int
	// Failed lists the operations left in the queue, in queue order.
	Failed []*OperationError
}

// maxConflictRounds bounds how often one operation goes back to the
// resolver when the row keeps changing on the server.
const maxConflictRounds = 3

// Push sends the queued operations of every table to the server, in queue
// order (see WithParallelPush). Inserts are sent without system
// properties, updates and deletes with If-Match from the stored version. A
// delete answered 404 is done; a conflict goes to the resolver; an
// operation whose earlier answer was lost (an insert answered 409, an
// update answered 412 by a server that already holds the pushed values)
// is done. Operations queued while Push runs wait for the next push.
//
// It returns a *PushError (matching ErrPushIncomplete) when operations
// are left: those the server refused (with an *OperationError each), and
// all the rest when a network error, a 401 the client could not recover
// from, a 408, 429 or 5xx answer, or ctx stopped the push. Nothing is lost.
func (sc *SyncContext) Push(ctx context.Context) (*PushResult, error) {
	sc.sync.Lock()
	defer sc.sync.Unlock()
	return sc.push(ctx, "")
}

// Push sends the table's queued operations, as SyncContext.Push does for
// every table.
func (t *Table[T]) Push(ctx context.Context) (*PushResult, error) {
	if t.err != nil {
		return nil, t.err
	}
	t.sc.sync.Lock()
	defer t.sc.sync.Unlock()
	return t.sc.push(ctx, t.name)
}

func (sc *SyncContext) push(ctx context.Context, table string) (*PushResult, error) {
	var seqs []int64
	err := sc.s.View(ctx, func(tx Tx) error {
		return scanOps(tx, func(op *opRecord) error {
			if table == "" || op.Table == table {
				seqs = append(seqs, op.Seq)
			}
			return nil
		})
	})
	if err != nil {
		return nil, err
	}
	res := &PushResult{}
	var (
		mu     sync.Mutex
		stop   error
		failed = map[int64]*OperationError{}
		prog   = Progress{Op: "push", Table: table, Total: len(seqs)}
	)
	stopped := func() bool { mu.Lock(); defer mu.Unlock(); return stop != nil }
	record := recorder(sc.s.Update)
	if sc.opts.parallel > 1 {
		var g *groupCommit
		g, record = newGroupCommit(sc.s, 2*sc.opts.parallel)
		defer g.close()
	}
	one := func(seq int64) {
		out := sc.pushOne(ctx, seq, record)
		mu.Lock()
		defer mu.Unlock()
		switch {
		case out.stop != nil:
			if stop == nil {
				stop = out.stop
			}
			return
		case out.failed != nil:
			failed[seq] = out.failed
		case out.done:
			res.Pushed++
			if out.resolved {
				res.Resolved++
			}
		}
		prog.Operations++
		prog.Bytes += int64(out.bytes)
		sc.progress(prog)
	}
	if n := sc.opts.parallel; n <= 1 {
		for _, seq := range seqs {
			if stopped() {
				break
			}
			one(seq)
		}
	} else {
		sem := make(chan struct{}, n)
		var wg sync.WaitGroup
		for _, seq := range seqs {
			if stopped() {
				break
			}
			sem <- struct{}{}
			wg.Add(1)
			go func() {
				defer func() { <-sem; wg.Done() }()
				one(seq)
			}()
		}
		wg.Wait()
	}
	for _, seq := range slices.Sorted(maps.Keys(failed)) {
		res.Failed = append(res.Failed, failed[seq])
	}
	if stop != nil || len(res.Failed) > 0 {
		return res, &PushError{Failed: res.Failed, Err: stop}
	}
	return res, nil
}

// outcome is what pushing one operation came to.
type outcome struct {
	done, resolved bool
	failed         *OperationError
	stop           error
	bytes          int
}

// sent is the state of an operation when a push took it.
type sent struct {
	seq     int64
	table   string
	id      string
	version int64 // the operation's version when taken
}

func (sc *SyncContext) pushOne(ctx context.Context, seq int64, record recorder) outcome {
	var (
		s    sent
		kind OpKind
		item object
		skip bool
	)
	// An insert is marked attempted before it is sent, in its own
	// transaction: a delete queued after that must become a delete, not
	// cancel the insert (it may have reached the server). Updates and
	// deletes need no mark, so they are read without a write.
	take := func(tx Tx, mark bool) error {
		op, err := getOp(tx, seq)
		if err != nil || op == nil {
			skip = op == nil
			return err
		}
		raw, bucket, key := op.Item, bucketOps, seqKey(seq)
		if op.Kind != OpDelete {
			v, ok, err := tx.Get(op.Table, op.ItemID)
			if err != nil {
				return err
			}
			if !ok {
				return fmt.Errorf("offline: queued %s of %s/%s has no row", op.Kind, op.Table, op.ItemID)
			}
			raw, bucket, key = v, op.Table, op.ItemID
		}
		if item, err = decodeStored(bucket, key, raw); err != nil {
			return err
		}
		s = sent{seq: seq, table: op.Table, id: op.ItemID, version: op.Version}
		kind = op.Kind
		if !mark || op.Attempted || op.Kind != OpInsert {
			return nil
		}
		op.Attempted = true
		return putOp(tx, op)
	}
	err := sc.s.View(ctx, func(tx Tx) error { return take(tx, false) })
	if err == nil && !skip && kind == OpInsert {
		err = sc.s.Update(ctx, func(tx Tx) error { return take(tx, true) })
	}
	if err != nil {
		return outcome{stop: err}
	}
	if skip {
		return outcome{}
	}
	out := outcome{}
	resolved := false
	for round := 0; ; round++ {
		body := item.bytes()
		out.bytes += len(body)
		server, err := sc.send(ctx, s.table, kind, item)
		if err == nil || (kind == OpDelete && errors.Is(err, zumo.ErrNotFound)) {
			return sc.finish(ctx, record, s, kind, server, resolved, out)
		}
		status, copy, isConflict := conflictOf(err)
		if !isConflict {
			var ze *zumo.Error
			if !errors.As(err, &ze) || ze.StatusCode == http.StatusUnauthorized || ze.StatusCode == http.StatusRequestTimeout ||
				ze.StatusCode == http.StatusTooManyRequests || ze.StatusCode >= 500 {
				out.stop = err
				return out
			}
			out.failed = &OperationError{Table: s.table, ID: s.id, Kind: kind, Err: err}
			return out
		}
		if copy == nil {
			// The answer did not carry the server's row (or only echoed
			// ours): ask for it.
			var lerr error
			if copy, lerr = sc.lookup(ctx, s.table, s.id); lerr != nil {
				out.stop = lerr
				return out
			}
		}
		// A lost answer: the server applied this very change earlier.
		if copy != nil && ((kind == OpInsert && status == http.StatusConflict) ||
			(kind == OpUpdate && status == http.StatusPreconditionFailed)) && holds(copy, item.withoutSystem()) {
			return sc.finish(ctx, record, s, kind, copy, resolved, out)
		}
		if kind == OpDelete && copy == nil {
			return sc.finish(ctx, record, s, kind, nil, resolved, out)
		}
		c := &Conflict{Table: s.table, ID: s.id, Kind: kind, Client: body, Err: err}
		if copy != nil {
			c.Server = copy.bytes()
		}
		fail := func(err error) outcome {
			out.failed = &OperationError{Table: s.table, ID: s.id, Kind: kind, Conflict: c, Err: err}
			return out
		}
		if sc.opts.resolver == nil || round >= maxConflictRounds {
			return fail(err)
		}
		r, rerr := sc.opts.resolver(ctx, c)
		if rerr != nil {
			return fail(fmt.Errorf("offline: resolver: %w (conflict: %w)", rerr, err))
		}
		resolved = true
		switch r.take {
		case resServer:
			return sc.finish(ctx, record, s, OpUpdate, copy, true, out) // copy nil: the row is gone
		case resItem:
			if item, err = decodeObject(r.item); err != nil {
				return fail(err)
			}
			item["id"], _ = json.Marshal(s.id)
		case resClient:
		default:
			return fail(err)
		}
		// Push again over the server's version.
		switch {
		case copy == nil && kind != OpDelete:
			kind = OpInsert
			delete(item, "version")
		case copy != nil:
			item["version"] = copy["version"]
			if kind == OpInsert {
				kind = OpUpdate
			}
		}
	}
}

// conflictOf reports whether err is a 409 or 412, with the server's copy
// when the answer carried one (with a version: an echo of the request is
// not the server's row).
func conflictOf(err error) (int, object, bool) {
	var m map[string]any
	var has bool
	var status int
	var ce *zumo.ConflictError[map[string]any]
	var pe *zumo.PreconditionFailedError[map[string]any]
	switch {
	case errors.As(err, &ce):
		status, m, has = http.StatusConflict, ce.Item, ce.HasItem
	case errors.As(err, &pe):
		status, m, has = http.StatusPreconditionFailed, pe.Item, pe.HasItem
	default:
		return 0, nil, false
	}
	if !has {
		return status, nil, true
	}
	o, err := encodeObject(m)
	if err != nil || o.str("version") == "" {
		return status, nil, true
	}
	return status, o, true
}

// send pushes one operation through the online table and returns the
// server's copy (nil for a delete).
func (sc *SyncContext) send(ctx context.Context, table string, kind OpKind, item object) (object, error) {
	m, err := toMap(item)
	if err != nil {
		return nil, err
	}
	jt := sc.c.Table(table)
	var out map[string]any
	switch kind {
	case OpInsert:
		out, err = jt.Insert(ctx, m)
	case OpUpdate:
		out, err = jt.Update(ctx, m)
	default:
		_, err = jt.Delete(ctx, m)
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	return encodeObject(out)
}

// lookup returns the server's copy of a row, nil when it is gone.
func (sc *SyncContext) lookup(ctx context.Context, table, id string) (object, error) {
	m, err := sc.c.Table(table).Lookup(ctx, id)
	if errors.Is(err, zumo.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return encodeObject(m)
}

func toMap(o object) (map[string]any, error) {
	d := json.NewDecoder(bytes.NewReader(o.bytes()))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return nil, fmt.Errorf("offline: %w", err)
	}
	return m, nil
}

// finish records a done operation: the operation leaves the queue and
// the row becomes the server's copy (server nil: the row is gone), unless
// the row changed locally since the push took it; then the operation
// stays (an insert becoming an update) with the server's new version.
func (sc *SyncContext) finish(ctx context.Context, record recorder, s sent, kind OpKind, server object, resolved bool, out outcome) outcome {
	err := record(ctx, func(tx Tx) error {
		op, err := getOp(tx, s.seq)
		if err != nil || op == nil {
			return err
		}
		if op.Version == s.version {
			if err := removeOp(tx, op); err != nil {
				return err
			}
			switch {
			case kind == OpDelete:
				return nil
			case server == nil:
				return tx.Delete(s.table, s.id)
			}
			return tx.Put(s.table, s.id, server.bytes())
		}
		// Changed meanwhile: keep the change, on top of the server's state.
		if op.Kind == OpInsert && kind != OpDelete {
			op.Kind = OpUpdate
		}
		op.Attempted = false
		if server != nil {
			if op.Kind == OpDelete {
				o, err := decodeStored(bucketOps, seqKey(op.Seq), op.Item)
				if err != nil {
					return err
				}
				copySystem(o, server)
				op.Item = o.bytes()
			} else if v, ok, err := tx.Get(s.table, s.id); err != nil {
				return err
			} else if ok {
				o, err := decodeStored(s.table, s.id, v)
				if err != nil {
					return err
				}
				copySystem(o, server)
				if err := tx.Put(s.table, s.id, o.bytes()); err != nil {
					return err
				}
			}
		}
		return putOp(tx, op)
	})
	// The server has the change; if recording it failed, the operation is
	// still queued (attempted) and the next push finds it done.
	if err != nil {
		out.stop = err
		return out
	}
	out.done, out.resolved = true, resolved
	return out
}

func copySystem(dst, src object) {
	for _, k := range systemProps {
		if v, ok := src[k]; ok {
			dst[k] = v
		}
	}
}
