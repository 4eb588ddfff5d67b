package sqlitestore

import (
	"database/sql"
	"fmt"
)

// migrations[i] brings a file from schema version i to i+1. Append to
// change the schema; never edit a released step.
var migrations = []func(*sql.Tx) error{
	// 0 → 1: a record of the store itself. Buckets are tables made on
	// first use, so version 1 needs nothing else.
	func(tx *sql.Tx) error {
		_, err := tx.Exec("CREATE TABLE IF NOT EXISTS zumo_store (k TEXT PRIMARY KEY NOT NULL, v TEXT NOT NULL) WITHOUT ROWID")
		if err == nil {
			_, err = tx.Exec("INSERT OR IGNORE INTO zumo_store (k, v) VALUES ('created_by', 'github.com/zumo-go/zumo/offline/sqlitestore')")
		}
		return err
	},
}

// SchemaVersion is the schema version this package writes.
const SchemaVersion = 1

func (s *Store) migrate() error {
	var v int
	if err := s.db.QueryRow("PRAGMA user_version").Scan(&v); err != nil {
		return err
	}
	if v > len(migrations) {
		return fmt.Errorf("%w (schema %d; this version reads up to %d)", ErrNewerSchema, v, len(migrations))
	}
	for ; v < len(migrations); v++ {
		tx, err := s.db.Begin()
		if err != nil {
			return err
		}
		if err := migrations[v](tx); err != nil {
			tx.Rollback()
			return fmt.Errorf("migrating schema %d to %d: %w", v, v+1, err)
		}
		if _, err := tx.Exec(fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			tx.Rollback()
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}
