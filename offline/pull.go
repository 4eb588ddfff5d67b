package offline

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zumo-go/zumo"
)

// PullResult reports what a pull did.
type PullResult struct {
	// Requests counts the requests sent (a pull with no changes sends 1).
	Requests int
	// Rows counts the rows received.
	Rows int
	// Deleted counts local rows removed because the server marked them
	// deleted.
	Deleted int
	// Skipped counts received rows not stored because the row has a
	// queued local operation (the next push sends it).
	Skipped int
}

// deltaToken is where an incremental pull stands: every row up to
// (UpdatedAt, ID) in (updatedAt, id) order has been stored.
type deltaToken struct {
	UpdatedAt time.Time `json:"updatedAt"`
	ID        string    `json:"id"`
}

func deltaKey(table, queryID string) string { return "delta/" + table + "/" + queryID }

// Pull brings the server's rows that q selects into the local table,
// incrementally: it first pushes the table's queued operations, then asks
// for the rows changed after the query's delta token, in pages ordered by
// (updatedAt, id) — keyset paging, so rows sharing one updatedAt are
// neither skipped nor repeated — with deleted rows included. Each page's
// rows and the new token are stored in one transaction, so a pull that is
// cancelled or killed resumes where it stopped. Rows the server marks
// deleted are removed locally; rows with queued operations are left as
// they are. A pull with nothing new costs one request.
//
// queryID names the query's token (at most 255 characters); "" pulls
// everything q selects without keeping a token. q may only filter: an
// ordering, Skip, Take or Select is an error matching
// zumo.ErrInvalidQuery. Pull fails with the push's *PushError when that
// push stopped (operations it could not send are reported but do not stop
// the pull), the server's error, an error matching zumo.ErrInvalidResponse
// for rows without id or updatedAt or out of order, ErrNoProgress, or the
// store's error; the pages stored before the failure stay stored.
func (t *Table[T]) Pull(ctx context.Context, queryID string, q Query[T]) (*PullResult, error) {
	if t.err != nil {
		return nil, t.err
	}
	if len(queryID) > 255 {
		return nil, invalidQuery("query id longer than 255 bytes")
	}
	if q.t == nil || q.t.name != t.name {
		return nil, invalidQuery("the query is not this table's (use Table.Query or Table.Where)")
	}
	lq, sel, err := q.local()
	if err != nil {
		return nil, err
	}
	if len(lq.order) > 0 || lq.Skip > 0 || lq.Take >= 0 || len(sel) > 0 || lq.Count {
		return nil, invalidQuery("a pull query may only filter (no ordering, Skip, Take, Select or count)")
	}
	sc := t.sc
	sc.sync.Lock()
	defer sc.sync.Unlock()
	if _, err := sc.push(ctx, t.name); err != nil {
		var pe *PushError
		if !errors.As(err, &pe) || pe.Err != nil {
			return nil, err
		}
	}
	var tok deltaToken
	have := false
	if queryID != "" {
		err := sc.s.View(ctx, func(tx Tx) error {
			v, ok, err := tx.Get(bucketConfig, deltaKey(t.name, queryID))
			if err != nil || !ok {
				return err
			}
			have = true
			if json.Unmarshal(v, &tok) != nil {
				return fmt.Errorf("offline: the delta token of %s/%s is corrupt", t.name, queryID)
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	res := &PullResult{}
	prog := Progress{Op: "pull", Table: t.name}
	for {
		jq := sc.c.Table(t.name).Query()
		if f := lq.Filter(); f != "" {
			jq = jq.Where(zumo.Raw("(" + f + ")"))
		}
		if have {
			ts := zumo.DateTimeOffset(tok.UpdatedAt.UTC())
			jq = jq.Where(zumo.Field("updatedAt").Gt(ts).Or(
				zumo.Field("updatedAt").Eq(ts).And(zumo.Field("id").Gt(tok.ID))))
		}
		jq = jq.OrderBy("updatedAt").ThenBy("id").IncludeDeleted().Take(sc.opts.pageSize)
		page, err := jq.Page(ctx)
		res.Requests++
		if err != nil {
			return res, err
		}
		if len(page.Items) == 0 {
			return res, nil
		}
		next, n, err := t.storePage(ctx, queryID, tok, have, page.Items, res)
		if err != nil {
			return res, err
		}
		tok, have = next, true
		prog.Pages++
		prog.Rows = res.Rows
		prog.Bytes += n
		sc.progress(prog)
	}
}

// storePage stores one page and the token after it in one transaction.
func (t *Table[T]) storePage(ctx context.Context, queryID string, tok deltaToken, have bool, items []map[string]any, res *PullResult) (deltaToken, int64, error) {
	type pulled struct {
		id  string
		obj object
		raw []byte
	}
	rows := make([]pulled, 0, len(items))
	next := tok
	var bytes int64
	for _, m := range items {
		raw, err := json.Marshal(m)
		if err != nil {
			return tok, 0, fmt.Errorf("offline: %w", err)
		}
		obj, err := decodeObject(raw)
		if err != nil {
			return tok, 0, err
		}
		id, ok := obj.id()
		if !ok {
			return tok, 0, fmt.Errorf("%w: a pulled %s row has no string id", zumo.ErrInvalidResponse, t.name)
		}
		u, err := time.Parse(time.RFC3339Nano, obj.str("updatedAt"))
		if err != nil {
			return tok, 0, fmt.Errorf("%w: pulled row %s/%s has no valid updatedAt", zumo.ErrInvalidResponse, t.name, id)
		}
		if (have || len(rows) > 0) && u.Before(next.UpdatedAt) {
			return tok, 0, fmt.Errorf("%w: pulled row %s/%s is out of updatedAt order", zumo.ErrInvalidResponse, t.name, id)
		}
		next = deltaToken{UpdatedAt: u, ID: id}
		rows = append(rows, pulled{id, obj, raw})
		bytes += int64(len(raw))
	}
	if have && next.UpdatedAt.Equal(tok.UpdatedAt) && next.ID == tok.ID {
		return tok, 0, ErrNoProgress
	}
	err := t.sc.s.Update(ctx, func(tx Tx) error {
		pending := map[string]bool{}
		prefix := t.name + "/"
		err := tx.Scan(bucketOpIdx, prefix, func(k string, _ []byte) (bool, error) {
			if !strings.HasPrefix(k, prefix) {
				return false, nil
			}
			pending[k[len(prefix):]] = true
			return true, nil
		})
		if err != nil {
			return err
		}
		for _, r := range rows {
			switch {
			case pending[r.id]:
				res.Skipped++
			case r.obj.isDeleted():
				if _, ok, err := tx.Get(t.name, r.id); err != nil {
					return err
				} else if ok {
					res.Deleted++
					if err := tx.Delete(t.name, r.id); err != nil {
						return err
					}
				}
			default:
				if err := tx.Put(t.name, r.id, r.raw); err != nil {
					return err
				}
			}
		}
		if queryID == "" {
			return nil
		}
		b, _ := json.Marshal(next)
		return tx.Put(bucketConfig, deltaKey(t.name, queryID), b)
	})
	if err != nil {
		return tok, 0, err
	}
	res.Rows += len(rows)
	return next, bytes, nil
}
