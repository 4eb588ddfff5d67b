package sqlitestore

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/zumo-go/zumo/offline"
	"modernc.org/sqlite"
)

// ErrNewerSchema is returned by Open for a file written by a newer
// version of this package.
var ErrNewerSchema = errors.New("sqlitestore: the file was written by a newer version of zumo")

// Store is an offline.Store in a SQLite file. Get one with Open.
type Store struct {
	db  *sql.DB // the writer: one connection, so writes never wait on SQLite's lock
	rdb *sql.DB // readers: WAL lets them read the last commit beside the writer

	// mu guards known, the tables that exist.
	mu    sync.Mutex
	known map[string]bool
}

// Option configures Open.
type Option func(*config)

type config struct {
	indexes [][2]string
	full    bool
}

// WithIndex indexes the JSON columns fields of table's rows, so that
// local queries filtering or ordering on them do not scan the table.
func WithIndex(table string, fields ...string) Option {
	return func(c *config) {
		for _, f := range fields {
			c.indexes = append(c.indexes, [2]string{table, f})
		}
	}
}

// WithSynchronousFull makes every commit wait until it is on the disk
// (SQLite's synchronous=FULL), so that a power loss loses no commit.
func WithSynchronousFull() Option { return func(c *config) { c.full = true } }

var registerOnce sync.Once
var registerErr error

// register makes the functions of offline.SQLFunctions known to every
// SQLite connection of the process.
//
// The functions are registered with VolatileArgs because only that path
// passes text by its byte length: the default one reads it as a C string
// and so cuts a value holding U+0000 at the NUL. The wrapper copies every
// string and byte slice before the call, so nothing keeps SQLite's memory.
func register() error {
	registerOnce.Do(func() {
		for _, f := range offline.SQLFunctions() {
			call := f.Call
			err := sqlite.RegisterFunction(f.Name, &sqlite.FunctionImpl{
				NArgs:         int32(f.NArgs),
				Deterministic: true,
				VolatileArgs:  true,
				Scalar: func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
					in := make([]any, len(args))
					for i, a := range args {
						switch v := a.(type) {
						case string:
							in[i] = strings.Clone(v)
						case []byte:
							in[i] = bytes.Clone(v)
						default:
							in[i] = a
						}
					}
					return call(in)
				},
			})
			if err != nil {
				registerErr = fmt.Errorf("sqlitestore: registering %s: %w", f.Name, err)
				return
			}
		}
	})
	return registerErr
}

// Open opens (creating if needed) the store in the file path, migrating
// an older schema. It fails for a file that is not a SQLite database
// ("file is not a database"), one locked by another writer for too long,
// and with ErrNewerSchema for a newer one.
func Open(path string, opts ...Option) (*Store, error) {
	var cfg config
	for _, o := range opts {
		o(&cfg)
	}
	if err := register(); err != nil {
		return nil, err
	}
	sync := "NORMAL"
	if cfg.full {
		sync = "FULL"
	}
	dsn := "file:" + escapePath(path) + "?_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)&_pragma=synchronous(" + sync + ")&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	// One connection: transactions run one at a time, and none waits on
	// SQLite's lock of another.
	db.SetMaxOpenConns(1)
	s := &Store{db: db}
	if err := s.migrate(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	if err := s.loadKnown(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	// Readers open after the migration, so they see its schema.
	rdb, err := sql.Open("sqlite", "file:"+escapePath(path)+"?_pragma=busy_timeout(5000)&_pragma=query_only(1)")
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlitestore: open %s: %w", path, err)
	}
	rdb.SetMaxOpenConns(4)
	s.rdb = rdb
	for _, ix := range cfg.indexes {
		if err := s.index(ix[0], ix[1]); err != nil {
			s.Close()
			return nil, fmt.Errorf("sqlitestore: open %s: index %s.%s: %w", path, ix[0], ix[1], err)
		}
	}
	return s, nil
}

// escapePath escapes what a file: URI would read as syntax.
func escapePath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(p)
}

// Close closes the file. Transactions after Close fail.
func (s *Store) Close() error {
	return errors.Join(s.rdb.Close(), s.db.Close())
}

// tableName is the SQL table of a bucket, quoted.
func tableName(bucket string) string {
	return `"b_` + strings.ReplaceAll(bucket, `"`, `""`) + `"`
}

func createSQL(bucket string) string {
	return "CREATE TABLE IF NOT EXISTS " + tableName(bucket) + " (k TEXT PRIMARY KEY NOT NULL, v TEXT NOT NULL) WITHOUT ROWID"
}

func (s *Store) loadKnown(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, "SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'b\\_%' ESCAPE '\\'")
	if err != nil {
		return err
	}
	defer rows.Close()
	known := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return err
		}
		known[strings.TrimPrefix(name, "b_")] = true
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	s.known = known
	s.mu.Unlock()
	return nil
}

func (s *Store) index(table, field string) error {
	if _, err := s.db.Exec(createSQL(table)); err != nil {
		return err
	}
	s.mu.Lock()
	s.known[table] = true
	s.mu.Unlock()
	name := `"i_` + strings.ReplaceAll(table+"_"+field, `"`, `""`) + `"`
	_, err := s.db.Exec("CREATE INDEX IF NOT EXISTS " + name + " ON " + tableName(table) + " (" + offline.IndexSQL("v", field) + ")")
	return err
}

// Update runs fn in a SQLite transaction (see offline.Store).
func (s *Store) Update(ctx context.Context, fn func(offline.Tx) error) error {
	return s.run(ctx, fn, true)
}

// View runs fn in a read-only SQLite transaction.
func (s *Store) View(ctx context.Context, fn func(offline.Tx) error) error {
	return s.run(ctx, fn, false)
}

func (s *Store) run(ctx context.Context, fn func(offline.Tx) error, write bool) (err error) {
	if err := ctx.Err(); err != nil {
		return err
	}
	db := s.db
	if !write {
		db = s.rdb
	}
	stx, err := db.BeginTx(ctx, &sql.TxOptions{ReadOnly: !write})
	if err != nil {
		return fmt.Errorf("sqlitestore: %w", err)
	}
	tx := &tx{s: s, tx: stx, ctx: ctx, write: write, stmts: map[string]*sql.Stmt{}}
	committed := false
	defer func() {
		if !committed {
			_ = stx.Rollback()
		}
	}()
	if err := fn(tx); err != nil {
		return err
	}
	if err := stx.Commit(); err != nil {
		return fmt.Errorf("sqlitestore: commit: %w", err)
	}
	committed = true
	if len(tx.created) > 0 {
		s.mu.Lock()
		for b := range tx.created {
			s.known[b] = true
		}
		s.mu.Unlock()
	}
	return nil
}
