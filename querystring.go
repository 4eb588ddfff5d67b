package zumo

import (
	"fmt"
	"strconv"
)

// QueryString returns the query string the query sends (without "?"), or
// the query's error. Its order is fixed: $filter, $orderby, $skip, $top,
// $select, $inlinecount, user parameters, __includeDeleted (and, on legacy
// Mobile Services, __systemproperties).
func (q Query[T]) QueryString() (string, error) {
	b, err := q.appendQuery(nil, q.skip, q.hasSkip, q.top, q.hasTop)
	return string(b), err
}

func (q Query[T]) appendQuery(dst []byte, skip int, hasSkip bool, top int, hasTop bool) ([]byte, error) {
	if q.t == nil {
		return dst, fmt.Errorf("%w: query without a table (use Table.Query)", ErrInvalidQuery)
	}
	if q.t.err != nil {
		return dst, q.t.err
	}
	if q.err != nil {
		return dst, q.err
	}
	if err := q.checkFields(); err != nil {
		return dst, err
	}
	sep := func() {
		if len(dst) > 0 {
			dst = append(dst, '&')
		}
	}
	field := func(f string) string { return f }
	if q.t.legacyBare {
		field = legacyName
	}
	if q.filter != nil {
		sep()
		dst = append(dst, "$filter="...)
		start := len(dst)
		var err error
		filter := q.filter
		if q.t.legacyBare {
			filter = renameFields(filter, legacyName)
		}
		if dst, err = filter.appendTo(dst); err != nil {
			return dst, err
		}
		// Structural characters that are not query-safe (spaces above
		// all) are escaped; the literals are already.
		dst = escapeTail(dst, start)
	}
	if len(q.order) > 0 {
		sep()
		dst = append(dst, "$orderby="...)
		for i, o := range q.order {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendEscaped(dst, field(o.field), rawSafe)
			if o.desc {
				dst = append(dst, "%20desc"...)
			}
		}
	}
	if hasSkip {
		sep()
		dst = strconv.AppendInt(append(dst, "$skip="...), int64(skip), 10)
	}
	if hasTop {
		sep()
		dst = strconv.AppendInt(append(dst, "$top="...), int64(top), 10)
	}
	if len(q.sel) > 0 {
		sep()
		dst = append(dst, "$select="...)
		for i, f := range q.sel {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendEscaped(dst, field(f), rawSafe)
		}
	}
	if q.total {
		sep()
		dst = append(dst, "$inlinecount=allpages"...)
	}
	for _, p := range q.params {
		sep()
		dst = appendEscaped(dst, p.k, unreserved)
		dst = append(dst, '=')
		dst = appendEscaped(dst, p.v, unreserved)
	}
	if q.deleted {
		sep()
		dst = append(dst, "__includeDeleted=true"...)
	}
	if q.t.sysQuery != "" {
		sep()
		dst = append(dst, "__systemproperties="...)
		dst = appendEscaped(dst, q.t.sysQuery, unreserved)
	}
	return dst, nil
}

// escapeTail escapes, in place from start, the bytes that are not
// filterSafe.
func escapeTail(dst []byte, start int) []byte {
	for i := start; i < len(dst); i++ {
		if !filterSafe(dst[i]) {
			tail := append([]byte(nil), dst[i:]...)
			return appendEscaped(dst[:i], string(tail), filterSafe)
		}
	}
	return dst
}
