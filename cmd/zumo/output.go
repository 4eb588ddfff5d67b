package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"

	"golang.org/x/term"
)

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// wantJSON reports whether rows are written as JSON: with -o json, or by
// default when stdout is not a terminal.
func (g *globals) wantJSON() (bool, error) {
	switch g.output {
	case "json":
		return true, nil
	case "table":
		return false, nil
	case "":
		return !isTerminal(g.io.out), nil
	}
	return false, usagef(`-o wants "table" or "json", got %q`, g.output)
}

// systemColumns are left out of the table view unless --select names them.
var systemColumns = map[string]bool{"createdAt": true, "updatedAt": true, "version": true, "deleted": true}

// rowWriter writes rows as JSON lines or as an aligned table. A table is
// flushed every flushRows rows, so memory stays bounded by a chunk even
// for --all (columns are fixed by the first chunk).
type rowWriter struct {
	out     io.Writer
	json    bool
	columns []string // fixed columns (--select), else from the first chunk
	pending []map[string]any
	tw      *tabwriter.Writer
}

const flushRows = 100

func (w *rowWriter) write(row map[string]any) error {
	if w.json {
		b, err := json.Marshal(row)
		if err != nil {
			return err
		}
		b = append(b, '\n')
		_, err = w.out.Write(b)
		return err
	}
	w.pending = append(w.pending, row)
	if len(w.pending) >= flushRows {
		return w.flush()
	}
	return nil
}

func (w *rowWriter) flush() error {
	if w.json {
		return nil
	}
	if w.tw == nil {
		if w.columns == nil {
			w.columns = columnsOf(w.pending)
		}
		if len(w.columns) == 0 {
			return nil
		}
		w.tw = tabwriter.NewWriter(w.out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w.tw, strings.ToUpper(strings.Join(w.columns, "\t")))
	}
	for _, row := range w.pending {
		cells := make([]string, len(w.columns))
		for i, c := range w.columns {
			cells[i] = cell(row[c])
		}
		fmt.Fprintln(w.tw, strings.Join(cells, "\t"))
	}
	w.pending = w.pending[:0]
	return w.tw.Flush()
}

// columnsOf is id, then the other non-system columns in name order.
func columnsOf(rows []map[string]any) []string {
	seen := map[string]bool{}
	for _, r := range rows {
		for k := range r {
			if k != "id" && !systemColumns[k] {
				seen[k] = true
			}
		}
	}
	cols := make([]string, 0, len(seen)+1)
	for k := range seen {
		cols = append(cols, k)
	}
	sort.Strings(cols)
	if len(rows) > 0 {
		cols = slices.Insert(cols, 0, "id")
	}
	return cols
}

// cell formats a value for the table view on one line.
func cell(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(x)
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// writeItem writes one item: indented JSON on a terminal, one line else.
func (g *globals) writeItem(item any) error {
	asJSON, err := g.wantJSON()
	if err != nil {
		return err
	}
	var b []byte
	if asJSON {
		b, err = json.Marshal(item)
	} else {
		b, err = json.MarshalIndent(item, "", "  ")
	}
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(g.io.out, "%s\n", b)
	return err
}
