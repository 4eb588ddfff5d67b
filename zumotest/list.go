package zumotest

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
)

// Listing: a page of a query's result, the total count and the next link.

func (s *Server) list(w http.ResponseWriter, r *http.Request, t *table, q *tableQuery) {
	if q.topSet && q.top > t.cfg.maxTop {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("The value of $top (%d) exceeds the maximum of %d", q.top, t.cfg.maxTop))
		return
	}
	// As on the official server, the page size applies only when $top is
	// missing or 0; a $top up to maxTop is honoured as it is. So only a
	// page-size page can leave rows the client asked for: then a Link
	// points at the rest.
	limit, bounded := t.cfg.pageSize, q.topSet && q.top > 0
	if bounded {
		limit = q.top
	}
	recs, total, err := s.results(t, q, limit)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	start, end := min(q.skip, total), total
	if limit < total-start {
		end = start + limit
	}
	var page []*record
	if start < end {
		page = recs[start:end]
	}
	if !bounded && end < total {
		w.Header().Set("Link", "<"+nextLink(r, q.skip+len(page), -1)+">; rel=next")
	}
	buf := bufPool.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 {
			bufPool.Put(buf)
		}
	}()
	if q.inlineCount {
		buf.WriteString(`{"results":`)
	}
	buf.WriteByte('[')
	for i, rec := range page {
		if i > 0 {
			buf.WriteByte(',')
		}
		s.encodeOne(buf, rec, q)
	}
	buf.WriteByte(']')
	if q.inlineCount {
		buf.WriteString(`,"count":`)
		buf.WriteString(strconv.Itoa(total))
		buf.WriteByte('}')
	}
	writeJSON(w, http.StatusOK, buf.Bytes())
}

// bufPool recycles list response buffers.
var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// nextLink is the absolute URL of the request with $skip set to skip and,
// when top >= 0, $top set to top; every other parameter is kept byte for
// byte, in order.
func nextLink(r *http.Request, skip, top int) string {
	u := r.URL
	if r.RequestURI != "" {
		if pu, err := url.ParseRequestURI(r.RequestURI); err == nil {
			u = pu
		}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	host := r.Host
	if host == "" {
		host = u.Host
	}
	var parts []string
	if u.RawQuery != "" {
		parts = strings.Split(u.RawQuery, "&")
	}
	setSkip, setTop := false, top < 0
	for i, p := range parts {
		k, _, _ := strings.Cut(p, "=")
		dk, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		switch {
		case dk == "$skip" && !setSkip:
			parts[i] = k + "=" + strconv.Itoa(skip)
			setSkip = true
		case dk == "$top" && !setTop:
			parts[i] = k + "=" + strconv.Itoa(top)
			setTop = true
		}
	}
	if !setSkip {
		parts = append(parts, "$skip="+strconv.Itoa(skip))
	}
	if !setTop {
		parts = append(parts, "$top="+strconv.Itoa(top))
	}
	return scheme + "://" + host + u.EscapedPath() + "?" + escapeLinkUnsafe(strings.Join(parts, "&"))
}

// escapeLinkUnsafe percent-encodes the bytes a query may arrive with but a
// URI may not hold (RFC 3986), such as '>', which would end the Link
// header's <…> early. Every other byte is kept as the client sent it.
func escapeLinkUnsafe(q string) string {
	const hex = "0123456789ABCDEF"
	unsafe := func(c byte) bool {
		return c <= ' ' || c >= 0x7f || strings.IndexByte("\"<>\\^`{|}", c) >= 0
	}
	n := 0
	for i := 0; i < len(q); i++ {
		if unsafe(q[i]) {
			n++
		}
	}
	if n == 0 {
		return q
	}
	b := make([]byte, 0, len(q)+2*n)
	for i := 0; i < len(q); i++ {
		if c := q[i]; unsafe(c) {
			b = append(b, '%', hex[c>>4], hex[c&15])
		} else {
			b = append(b, c)
		}
	}
	return string(b)
}
