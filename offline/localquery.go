package offline

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"

	"github.com/zumo-go/zumo/internal/odata"
)

// LocalQuery is a read of one table that a Store answers: a filter, an
// ordering, Skip and Take, and whether to count. It comes from a Query's
// OData text, parsed by the same code as zumotest's fake service, so a
// local query means what it would mean on the server. Stores evaluate it
// with Match and Compare (in Go) or SQL (in SQLite).
type LocalQuery struct {
	filter *odata.Filter
	order  []odata.OrderKey
	// Skip is how many matching rows to leave out first.
	Skip int
	// Take is how many rows to return at most; negative for all.
	Take int
	// Count asks the store for the number of matching rows, before Skip
	// and Take.
	Count bool
}

// parseLocalQuery reads a query string as the server would: $filter,
// $orderby, $skip, $top, $inlinecount; $select is returned for the
// caller. __includeDeleted is ignored (deleted rows are not stored).
func parseLocalQuery(qs string) (*LocalQuery, []string, error) {
	vals, err := url.ParseQuery(qs)
	if err != nil {
		return nil, nil, invalidQuery("%v", err)
	}
	q := &LocalQuery{Take: -1}
	if f := vals.Get("$filter"); f != "" {
		if q.filter, err = odata.ParseFilter(f); err != nil {
			return nil, nil, invalidQuery("%v", err)
		}
	}
	if q.order, err = odata.ParseOrderBy(vals.Get("$orderby")); err != nil {
		return nil, nil, invalidQuery("%v", err)
	}
	sel, err := odata.ParseSelect(vals.Get("$select"))
	if err != nil {
		return nil, nil, invalidQuery("%v", err)
	}
	if s := vals.Get("$skip"); s != "" {
		if q.Skip, err = strconv.Atoi(s); err != nil || q.Skip < 0 {
			return nil, nil, invalidQuery("$skip %q", s)
		}
	}
	if s := vals.Get("$top"); s != "" {
		if q.Take, err = strconv.Atoi(s); err != nil || q.Take < 0 {
			return nil, nil, invalidQuery("$top %q", s)
		}
	}
	q.Count = vals.Get("$inlinecount") == "allpages"
	return q, sel, nil
}

// Filter returns the OData filter text, "" when every row matches.
func (q *LocalQuery) Filter() string {
	if q.filter == nil {
		return ""
	}
	return q.filter.String()
}

// Match reports whether a row (a JSON object decoded with
// json.Decoder.UseNumber, or with float64 numbers) passes the filter. It
// fails when the filter cannot be evaluated on the row (comparing a
// string with a number by order, and the like).
func (q *LocalQuery) Match(row map[string]any) (bool, error) {
	if q.filter == nil {
		return true, nil
	}
	return q.filter.Match(row)
}

// Compare orders two rows by the query's ordering, as SQLite orders
// json_extract values: null first, then numbers and booleans, then
// strings byte-wise. Equal rows compare 0; stores break ties by id.
func (q *LocalQuery) Compare(a, b map[string]any) int {
	for _, k := range q.order {
		if c := odata.SQLOrderCompare(a[k.Field], b[k.Field]); c != 0 {
			if k.Desc {
				return -c
			}
			return c
		}
	}
	return 0
}

// SQL compiles the filter and the ordering for SQLite, over JSON objects
// in the column col: where is a boolean expression with ? placeholders
// for args ("1" without a filter), orderBy an ORDER BY list ("" without an
// ordering). The SQL calls the functions of SQLFunctions, which the store
// must register. A filter or ordering that SQLite cannot evaluate exactly
// (a member path "a/b", mod) fails with an error wrapping
// ErrUnsupportedQuery.
func (q *LocalQuery) SQL(col string) (where string, args []any, orderBy string, err error) {
	where = "1"
	if q.filter != nil {
		if where, args, err = q.filter.SQL(col); err != nil {
			return "", nil, "", unsupported(err)
		}
	}
	if orderBy, err = odata.OrderSQL(q.order, col); err != nil {
		return "", nil, "", unsupported(err)
	}
	return where, args, orderBy, nil
}

func unsupported(err error) error {
	var u *odata.UnsupportedError
	if errors.As(err, &u) {
		return fmt.Errorf("%w: %s", ErrUnsupportedQuery, u.What)
	}
	return err
}

// IndexSQL is the expression that LocalQuery.SQL reads field with from
// the JSON column col: an index on it serves filters and orderings on
// field.
func IndexSQL(col, field string) string { return odata.MemberSQL(col, field) }

// SQLFunction is a scalar function that SQL from LocalQuery.SQL calls.
type SQLFunction struct {
	// Name is the SQL name; NArgs the argument count, -1 for any.
	Name  string
	NArgs int
	// Call evaluates it on SQL values (nil, int64, float64, string,
	// []byte) and returns nil, int64, float64 or string. Its errors are
	// the query's.
	Call func(args []any) (any, error)
}

// SQLFunctions returns the functions a SQL store registers so that
// LocalQuery.SQL's expressions mean what Match means. They are
// deterministic.
func SQLFunctions() []SQLFunction {
	mk := func(name string) SQLFunction {
		return SQLFunction{Name: name, NArgs: -1, Call: func(args []any) (any, error) { return odata.SQLFunc(name, args) }}
	}
	return []SQLFunction{mk(odata.SQLCompareFunc), mk(odata.SQLCallFunc)}
}
