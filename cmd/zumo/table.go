package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/zumo-go/zumo"
)

func newTableCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "table",
		Short: "List, read and change a table's rows",
	}
	cmd.AddCommand(newTableListCmd(g), newTableGetCmd(g),
		newTableWriteCmd(g, "insert", "Insert a row (JSON from the argument or stdin)"),
		newTableWriteCmd(g, "update", "Update a row: the JSON names the id (and the version to check)"),
		newTableIDCmd(g, "delete", "Delete a row"),
		newTableIDCmd(g, "undelete", "Undelete a soft-deleted row"),
	)
	return cmd
}

type listFlags struct {
	filter, orderby, sel string
	top, skip            int
	all, deleted         bool
	db                   string
}

func newTableListCmd(g *globals) *cobra.Command {
	var f listFlags
	cmd := &cobra.Command{
		Use:   "list NAME",
		Short: "List rows: one page, or every row with --all",
		Long: `list prints a table's rows: an aligned table on a terminal, one JSON object
per line when stdout is a pipe or with -o json. Without --all it prints one
page (the server's page size, or --top rows); with --all it follows the pages
to the end and streams the rows, holding one page in memory.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			asJSON, err := g.wantJSON()
			if err != nil {
				return err
			}
			w := &rowWriter{out: g.io.out, json: asJSON}
			if f.sel != "" {
				w.columns = splitList(f.sel)
			}
			if f.db != "" {
				return listLocal(cmd.Context(), g, &f, args[0], w)
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			q, err := applyList(c.Table(args[0]).Query(), &f)
			if err != nil {
				return err
			}
			if f.deleted {
				q = q.IncludeDeleted()
			}
			ctx := cmd.Context()
			if f.all {
				for row, err := range q.All(ctx) {
					if err != nil {
						w.flush()
						return err
					}
					if err := w.write(row); err != nil {
						return err
					}
				}
				return w.flush()
			}
			page, err := q.Page(ctx)
			if err != nil {
				return err
			}
			for _, row := range page.Items {
				if err := w.write(row); err != nil {
					return err
				}
			}
			return w.flush()
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.filter, "filter", "", "an OData $filter, e.g. \"complete eq false\"")
	fl.StringVar(&f.orderby, "orderby", "", `ordering, e.g. "priority desc, text"`)
	fl.StringVar(&f.sel, "select", "", "the columns to return, comma-separated")
	fl.IntVar(&f.top, "top", 0, "at most this many rows")
	fl.IntVar(&f.skip, "skip", 0, "skip this many rows")
	fl.BoolVar(&f.all, "all", false, "follow the pages to the last row")
	fl.BoolVar(&f.deleted, "include-deleted", false, "include soft-deleted rows")
	fl.StringVar(&f.db, "db", "", "list the rows of a local store made by zumo pull, not the service's")
	return cmd
}

// listQuery is what zumo.Query and offline.Query share, so the list flags
// build either.
type listQuery[Q any] interface {
	Where(zumo.Expr) Q
	OrderBy(field string) Q
	OrderByDescending(field string) Q
	ThenBy(field string) Q
	ThenByDescending(field string) Q
	Select(fields ...string) Q
	Take(n int) Q
	Skip(n int) Q
}

// applyList adds the list flags to q.
func applyList[Q listQuery[Q]](q Q, f *listFlags) (Q, error) {
	if f.filter != "" {
		q = q.Where(zumo.Raw(f.filter))
	}
	for i, key := range splitList(f.orderby) {
		field, dir, _ := strings.Cut(key, " ")
		field = strings.TrimSpace(field)
		switch d := strings.ToLower(strings.TrimSpace(dir)); {
		case (d == "" || d == "asc") && i == 0:
			q = q.OrderBy(field)
		case d == "" || d == "asc":
			q = q.ThenBy(field)
		case d == "desc" && i == 0:
			q = q.OrderByDescending(field)
		case d == "desc":
			q = q.ThenByDescending(field)
		default:
			return q, usagef("--orderby: %q: want FIELD [asc|desc]", key)
		}
	}
	if f.sel != "" {
		q = q.Select(splitList(f.sel)...)
	}
	if f.top < 0 || f.skip < 0 {
		return q, usagef("--top and --skip must not be negative")
	}
	if f.top > 0 {
		q = q.Take(f.top)
	}
	if f.skip > 0 {
		q = q.Skip(f.skip)
	}
	return q, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func newTableGetCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME ID",
		Short: "Print one row",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			row, err := c.Table(args[0]).Lookup(cmd.Context(), args[1])
			if err != nil {
				return err
			}
			return g.writeItem(row)
		},
	}
}

func newTableWriteCmd(g *globals, op, short string) *cobra.Command {
	return &cobra.Command{
		Use:   op + " NAME [JSON|-]",
		Short: short,
		Args:  rangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			item, err := readItem(g, args[1:])
			if err != nil {
				return err
			}
			if op == "update" {
				if _, ok := item["id"]; !ok {
					return errors.New("update: the JSON has no id")
				}
			}
			c, err := g.client()
			if err != nil {
				return err
			}
			t := c.Table(args[0])
			var row map[string]any
			if op == "insert" {
				row, err = t.Insert(cmd.Context(), item)
			} else {
				row, err = t.Update(cmd.Context(), item)
			}
			if err != nil {
				return err
			}
			return g.writeItem(row)
		},
	}
}

func newTableIDCmd(g *globals, op, short string) *cobra.Command {
	return &cobra.Command{
		Use:   op + " NAME ID",
		Short: short,
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := g.client()
			if err != nil {
				return err
			}
			t := c.Table(args[0])
			item := map[string]any{"id": args[1]}
			if op == "delete" {
				if _, err := t.Delete(cmd.Context(), item); err != nil {
					return err
				}
				fmt.Fprintf(g.io.err, "deleted %s\n", args[1])
				return nil
			}
			row, err := t.Undelete(cmd.Context(), item)
			if err != nil {
				return err
			}
			return g.writeItem(row)
		},
	}
}

// readItem reads one JSON object from args[0] or, when there is none or
// it is "-", from stdin.
func readItem(g *globals, args []string) (map[string]any, error) {
	var raw []byte
	if len(args) == 0 || args[0] == "-" {
		b, err := io.ReadAll(io.LimitReader(g.io.in, 8<<20))
		if err != nil {
			return nil, err
		}
		raw = b
	} else {
		raw = []byte(args[0])
	}
	return decodeItem(raw)
}

// decodeItem decodes exactly one JSON object.
func decodeItem(raw []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	var item map[string]any
	if err := dec.Decode(&item); err != nil {
		if len(bytes.TrimSpace(raw)) == 0 {
			return nil, errors.New("no JSON object given (argument or stdin)")
		}
		return nil, fmt.Errorf("the input is not a JSON object: %v", err)
	}
	if item == nil {
		return nil, errors.New("the input is not a JSON object: null")
	}
	if dec.More() {
		return nil, errors.New("the input has more than one JSON value")
	}
	return item, nil
}

func exactArgs(n int) cobra.PositionalArgs { return rangeArgs(n, n) }

func rangeArgs(lo, hi int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < lo || len(args) > hi {
			return usagef("%s: wants %s, got %d arguments", cmd.CommandPath(), cmd.Use[strings.Index(cmd.Use, " ")+1:], len(args))
		}
		return nil
	}
}
