package zumotest

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// The query string of a table request: OData options and the
// server-specific parameters.

// tableQuery is the parsed query string of a table request.
type tableQuery struct {
	filter, orderby string
	skip, top       int
	topSet          bool
	sel             []string
	selSet          bool
	inlineCount     bool
	includeDeleted  bool
	sysProps        []string // legacy: system columns asked for
	raw             url.Values
}

// parseQuery parses and checks the OData options of a table request.
func parseQuery(raw string) (*tableQuery, error) {
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return nil, errors.New("malformed query string")
	}
	q := &tableQuery{raw: vals}
	for k, vs := range vals {
		if strings.HasPrefix(k, "$") && len(vs) > 1 {
			return nil, fmt.Errorf("the query option %s is given more than once", k)
		}
	}
	one := func(k string) (string, bool) {
		vs, ok := vals[k]
		if !ok || len(vs) == 0 {
			return "", false
		}
		return vs[0], true
	}
	q.filter, _ = one("$filter")
	q.orderby, _ = one("$orderby")
	if v, ok := one("$skip"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("$skip must be a non-negative integer, not %q", v)
		}
		q.skip = n
	}
	if v, ok := one("$top"); ok {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("$top must be a non-negative integer, not %q", v)
		}
		q.top, q.topSet = n, true
	}
	if v, ok := one("$select"); ok && strings.TrimSpace(v) != "" && strings.TrimSpace(v) != "*" {
		cols, err := parseSelect(v)
		if err != nil {
			return nil, err
		}
		q.sel, q.selSet = cols, true
	}
	if v, ok := one("$inlinecount"); ok && v == "allpages" {
		q.inlineCount = true
	}
	q.includeDeleted = includeDeleted(vals["__includeDeleted"])
	if v, ok := one("__systemproperties"); ok {
		q.sysProps = parseSysProps(v)
	}
	return q, nil
}

// includeDeleted reads __includeDeleted as the official server does
// (!!req.query.__includeDeleted, after Express's query parser): any
// non-empty value includes deleted rows, "false" too; an empty value
// ("__includeDeleted=" or a bare "__includeDeleted") does not; the key
// given twice is an array, which is truthy.
func includeDeleted(vs []string) bool {
	if len(vs) > 1 {
		return true
	}
	return len(vs) == 1 && vs[0] != ""
}

// parseSysProps reads a legacy __systemproperties value: "*" or a comma
// list of column names, with or without the "__" prefix, any case.
func parseSysProps(v string) []string {
	all := []string{namesLegacy.createdAt, namesLegacy.updatedAt, namesLegacy.version, namesLegacy.deleted}
	if strings.TrimSpace(v) == "*" || strings.EqualFold(strings.TrimSpace(v), "all") {
		return all
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		p = strings.TrimPrefix(strings.TrimSpace(p), "__")
		for _, name := range all {
			if strings.EqualFold(p, name[2:]) {
				out = append(out, name)
			}
		}
	}
	return out
}
