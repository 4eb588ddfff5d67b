package sqlitestore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/zumo-go/zumo/offline"
)

var errReadOnly = errors.New("sqlitestore: write in a read-only transaction")

type tx struct {
	s       *Store
	tx      *sql.Tx
	ctx     context.Context
	write   bool
	created map[string]bool // tables this transaction created, known to others once it commits
	stmts   map[string]*sql.Stmt
}

// stmt returns a statement prepared once per transaction.
func (t *tx) stmt(query string) (*sql.Stmt, error) {
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	st, err := t.tx.PrepareContext(t.ctx, query)
	if err != nil {
		return nil, err
	}
	t.stmts[query] = st
	return st, nil
}

func (t *tx) exists(bucket string) bool {
	if t.created[bucket] {
		return true
	}
	t.s.mu.Lock()
	defer t.s.mu.Unlock()
	return t.s.known[bucket]
}

func (t *tx) ensure(bucket string) error {
	if t.exists(bucket) {
		return nil
	}
	if _, err := t.tx.ExecContext(t.ctx, createSQL(bucket)); err != nil {
		return err
	}
	if t.created == nil {
		t.created = map[string]bool{}
	}
	t.created[bucket] = true
	return nil
}

func (t *tx) Get(bucket, key string) ([]byte, bool, error) {
	if !t.exists(bucket) {
		return nil, false, nil
	}
	st, err := t.stmt("SELECT v FROM " + tableName(bucket) + " WHERE k = ?")
	if err != nil {
		return nil, false, err
	}
	var v []byte
	err = st.QueryRowContext(t.ctx, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return v, true, nil
}

func (t *tx) Put(bucket, key string, value []byte) error {
	if !t.write {
		return errReadOnly
	}
	if err := t.ensure(bucket); err != nil {
		return err
	}
	st, err := t.stmt("INSERT OR REPLACE INTO " + tableName(bucket) + " (k, v) VALUES (?, ?)")
	if err != nil {
		return err
	}
	_, err = st.ExecContext(t.ctx, key, string(value))
	return err
}

func (t *tx) Delete(bucket, key string) error {
	if !t.write {
		return errReadOnly
	}
	if !t.exists(bucket) {
		return nil
	}
	st, err := t.stmt("DELETE FROM " + tableName(bucket) + " WHERE k = ?")
	if err != nil {
		return err
	}
	_, err = st.ExecContext(t.ctx, key)
	return err
}

func (t *tx) Scan(bucket, from string, fn func(string, []byte) (bool, error)) error {
	if !t.exists(bucket) {
		return nil
	}
	rows, err := t.tx.QueryContext(t.ctx, "SELECT k, v FROM "+tableName(bucket)+" WHERE k >= ? ORDER BY k", from)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return err
		}
		more, err := fn(k, v)
		if err != nil || !more {
			return err
		}
	}
	return rows.Err()
}

func (t *tx) Query(bucket string, q *offline.LocalQuery) ([][]byte, int64, error) {
	where, args, order, err := q.SQL("v")
	if err != nil {
		return nil, 0, err
	}
	if !t.exists(bucket) {
		if q.Count {
			return nil, 0, nil
		}
		return nil, -1, nil
	}
	tbl := tableName(bucket)
	count := int64(-1)
	if q.Count {
		if err := t.tx.QueryRowContext(t.ctx, "SELECT count(*) FROM "+tbl+" WHERE "+where, args...).Scan(&count); err != nil {
			return nil, 0, fmt.Errorf("sqlitestore: %w", err)
		}
	}
	if order != "" {
		order += ", "
	}
	query := "SELECT v FROM " + tbl + " WHERE " + where + " ORDER BY " + order + "k LIMIT ? OFFSET ?"
	rows, err := t.tx.QueryContext(t.ctx, query, append(args, q.Take, q.Skip)...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlitestore: %w", err)
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var v []byte
		if err := rows.Scan(&v); err != nil {
			return nil, 0, err
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlitestore: %w", err)
	}
	return out, count, nil
}
