package offline

import (
	"bytes"
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
				return corrupt(bucketConfig, deltaKey(t.name, queryID), errors.New("not a delta token"))
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
		jq := zumo.GetTable[pulledRow](sc.c, t.name).Query()
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

// pulledRow is a pulled row as the server sent it, with the members the
// pull reads; decoding it does not build a map of the row.
type pulledRow struct {
	ID        string `json:"id"`
	UpdatedAt string `json:"updatedAt"`
	Deleted   bool   `json:"deleted"`
	// Legacy is a legacy Mobile Services row's __updatedAt.
	Legacy string `json:"__updatedAt"`
	raw    []byte
}

// UnmarshalJSON keeps the row's JSON text as well as the members.
func (r *pulledRow) UnmarshalJSON(b []byte) error {
	type members pulledRow // without this method
	var m members
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	*r = pulledRow(m)
	r.raw = bytes.Clone(b)
	return nil
}

// storePage stores one page and the token after it in one transaction.
func (t *Table[T]) storePage(ctx context.Context, queryID string, tok deltaToken, have bool, rows []pulledRow, res *PullResult) (deltaToken, int64, error) {
	next := tok
	var n int64
	for i, r := range rows {
		if r.ID == "" {
			return tok, 0, fmt.Errorf("%w: a pulled %s row has no id", zumo.ErrInvalidResponse, t.name)
		}
		u, err := time.Parse(time.RFC3339Nano, r.UpdatedAt)
		if err != nil && r.UpdatedAt == "" && r.Legacy != "" {
			return tok, 0, fmt.Errorf("offline: pull %s: %w (the rows are legacy Mobile Services rows; offline sync needs Mobile Apps)", t.name, zumo.ErrNotSupported)
		}
		if err != nil {
			return tok, 0, fmt.Errorf("%w: pulled row %s/%s has no valid updatedAt", zumo.ErrInvalidResponse, t.name, r.ID)
		}
		if (have || i > 0) && u.Before(next.UpdatedAt) {
			return tok, 0, fmt.Errorf("%w: pulled row %s/%s is out of updatedAt order", zumo.ErrInvalidResponse, t.name, r.ID)
		}
		next = deltaToken{UpdatedAt: u, ID: r.ID}
		n += int64(len(r.raw))
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
			case pending[r.ID]:
				res.Skipped++
			case r.Deleted:
				if _, ok, err := tx.Get(t.name, r.ID); err != nil {
					return err
				} else if ok {
					res.Deleted++
					if err := tx.Delete(t.name, r.ID); err != nil {
						return err
					}
				}
			default:
				if err := tx.Put(t.name, r.ID, r.raw); err != nil {
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
	return next, n, nil
}
