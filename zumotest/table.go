package zumotest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// table is one declared table.
type table struct {
	name string
	cfg  tableConfig

	mu      sync.RWMutex
	rows    map[string]*record
	ordered []*record // insertion order

	// The rows' values as the filter engine sees them (numbers as int64 or
	// float64), by column, for the list scan: cols[slot][i] is the value
	// of the column with that slot in ordered[i], nil when the row lacks
	// it. Columns past maxSlots have no slot: they are in record.extra.
	names *sysNames      // the system columns of the server's generation
	slots map[string]int // column name to slot
	cols  [][]any

	cacheMu sync.Mutex
	cache   map[string]*cacheEntry // filtered, sorted results; cleared on write
}

// System columns have the first slots, in this order.
const (
	slotID = iota
	slotCreatedAt
	slotUpdatedAt
	slotVersion
	slotDeleted
	numSysSlots
)

// maxSlots bounds the columns of a table kept in cols, so that a table
// whose rows have many different columns costs at most maxSlots values
// per row; later columns are looked up in record.extra.
const maxSlots = 64

func newTable(name string, cfg tableConfig, names *sysNames) *table {
	t := &table{name: name, cfg: cfg, rows: map[string]*record{}, names: names}
	t.resetColumns()
	return t
}

// resetColumns empties the columns and forgets the user columns' slots;
// t.mu must be held for writing (or t not yet shared).
func (t *table) resetColumns() {
	t.slots = map[string]int{
		"id":              slotID,
		t.names.createdAt: slotCreatedAt,
		t.names.updatedAt: slotUpdatedAt,
		t.names.version:   slotVersion,
		t.names.deleted:   slotDeleted,
	}
	t.cols = make([][]any, numSysSlots)
}

// values returns rec's values by slot (a row of cols) and sets rec.extra,
// giving new columns a slot while there are fewer than maxSlots; t.mu must
// be held for writing.
func (t *table) values(rec *record) []any {
	for k := range rec.data {
		if _, ok := t.slots[k]; !ok && len(t.slots) < maxSlots {
			t.slots[k] = len(t.slots)
			t.cols = append(t.cols, make([]any, len(t.ordered)))
		}
	}
	vals := make([]any, len(t.cols))
	rec.extra = nil
	for k, v := range rec.data {
		if i, ok := t.slots[k]; ok {
			vals[i] = matchValue(v)
			continue
		}
		if rec.extra == nil {
			rec.extra = map[string]any{}
		}
		rec.extra[k] = matchValue(v)
	}
	// The system columns win over a user column of the same name (which
	// the write paths do not let through anyway).
	vals[slotID] = rec.id
	vals[slotCreatedAt] = rec.createdAt
	vals[slotUpdatedAt] = rec.updatedAt
	vals[slotVersion] = rec.version
	vals[slotDeleted] = rec.deleted
	return vals
}

// column is where a list scan finds one column's values.
type column struct {
	slot  bool
	vals  []any  // by row, when the column has a slot
	extra string // else the record.extra key, or "" when no row has it
}

// column returns where the column name lives; t.mu must be held.
func (t *table) column(name string) column {
	if i, ok := t.slots[name]; ok {
		return column{slot: true, vals: t.cols[i]}
	}
	if len(t.slots) < maxSlots {
		return column{} // no row has it
	}
	return column{extra: name}
}

// get returns the value of the column in t.ordered[i], nil when the row
// lacks it.
func (c *column) get(t *table, i int) any {
	switch {
	case c.slot:
		return c.vals[i]
	case c.extra == "":
		return nil
	}
	return t.ordered[i].extra[c.extra]
}

// maxCached bounds the number of cached list results per table.
const maxCached = 64

// maxBody is the largest request body a table accepts.
const maxBody = 4 << 20

// invalidate drops cached list results; call with t.mu held for writing.
func (t *table) invalidate() {
	t.cacheMu.Lock()
	t.cache = nil
	t.cacheMu.Unlock()
}

// put stores rec, replacing the row with the same id; t.mu must be held.
func (t *table) put(rec *record) {
	vals := t.values(rec)
	i := len(t.ordered)
	if old, ok := t.rows[rec.id]; ok {
		i = slices.Index(t.ordered, old)
		t.ordered[i] = rec
	} else {
		t.ordered = append(t.ordered, rec)
		for s := range t.cols {
			t.cols[s] = append(t.cols[s], nil)
		}
	}
	for s, v := range vals {
		t.cols[s][i] = v
	}
	t.rows[rec.id] = rec
	t.invalidate()
}

// remove deletes the row with id; t.mu must be held. It moves the later
// rows of ordered and of every column.
func (t *table) remove(id string) {
	old, ok := t.rows[id]
	if !ok {
		return
	}
	delete(t.rows, id)
	if i := slices.Index(t.ordered, old); i >= 0 {
		t.ordered = slices.Delete(t.ordered, i, i+1)
		for s := range t.cols {
			t.cols[s] = slices.Delete(t.cols[s], i, i+1)
		}
	}
	t.invalidate()
}

// serveTable handles /tables/{t} and /tables/{t}/{id}.
func (s *Server) serveTable(w http.ResponseWriter, r *http.Request, rt *route) {
	t := s.table(rt.table)
	if t == nil {
		writeError(w, http.StatusNotFound, fmt.Sprintf("The table '%s' does not exist", rt.table))
		return
	}
	if !s.checkVersion(w, r) {
		return
	}
	if t.cfg.authenticated && userFrom(r.Context()) == nil {
		writeUnauthorized(w)
		return
	}
	q, err := parseQuery(r.URL.RawQuery)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if !rt.hasID {
		switch r.Method {
		case http.MethodGet:
			s.list(w, r, t, q)
		case http.MethodPost:
			s.insert(w, r, t, q)
		default:
			w.Header().Set("Allow", "GET, POST")
			writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed on a table")
		}
		return
	}
	switch r.Method {
	case http.MethodGet:
		s.lookup(w, t, rt.id, q)
	case http.MethodPatch:
		s.update(w, r, t, rt.id, q)
	case http.MethodDelete:
		s.delete(w, r, t, rt.id, q)
	case http.MethodPost:
		s.undelete(w, r, t, rt.id, q)
	default:
		w.Header().Set("Allow", "GET, PATCH, DELETE, POST")
		writeError(w, http.StatusMethodNotAllowed, "method "+r.Method+" is not allowed on a table item")
	}
}

// checkVersion enforces the generation's ZUMO-API-VERSION rule; it writes
// a 400 and returns false when the request breaks it.
func (s *Server) checkVersion(w http.ResponseWriter, r *http.Request) bool {
	v := r.Header.Get("ZUMO-API-VERSION")
	present := v != "" || len(r.Header.Values("ZUMO-API-VERSION")) > 0
	if !present {
		// The official server also accepts it as a query parameter.
		for k, vs := range r.URL.Query() {
			if strings.EqualFold(k, "ZUMO-API-VERSION") && len(vs) > 0 {
				v, present = vs[0], true
				break
			}
		}
	}
	if s.cfg.legacy {
		if present {
			writeError(w, http.StatusBadRequest, "The ZUMO-API-VERSION header is not supported by a Mobile Services backend")
			return false
		}
		return true
	}
	if !present {
		writeError(w, http.StatusBadRequest, "An API version is required: send the ZUMO-API-VERSION header with the value 2.0.0")
		return false
	}
	if !validAPIVersion(v) {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("The API version %q is not supported: send ZUMO-API-VERSION 2.0.x", v))
		return false
	}
	return true
}

// validAPIVersion accepts "2.0." followed by one or more digits.
func validAPIVersion(v string) bool {
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), "2.0.")
	if !ok || rest == "" {
		return false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

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

// encodeOne writes one record with the query's view (select, legacy
// system properties).
func (s *Server) encodeOne(buf *bytes.Buffer, rec *record, q *tableQuery) {
	switch {
	case q.selSet:
		s.encodeFields(buf, rec, q.sel, false)
	case s.cfg.legacy:
		s.encodeLegacy(buf, rec, q.sysProps)
	default:
		buf.Write(rec.enc)
	}
}

// writeRecord answers with one record and its strong ETag.
func (s *Server) writeRecord(w http.ResponseWriter, status int, rec *record, q *tableQuery) {
	var buf bytes.Buffer
	s.encodeOne(&buf, rec, q)
	w.Header().Set("ETag", etag(rec.version))
	writeJSON(w, status, buf.Bytes())
}

// etag quotes a version for the ETag header, escaping inner quotes.
func etag(version string) string {
	return `"` + strings.ReplaceAll(version, `"`, `\"`) + `"`
}

// parseIfMatch turns an If-Match value back into a version; star reports
// the "*" wildcard.
func parseIfMatch(v string) (version string, star bool) {
	v = strings.TrimSpace(v)
	if v == "*" {
		return "", true
	}
	v = strings.TrimPrefix(v, "W/")
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		v = strings.ReplaceAll(v[1:len(v)-1], `\"`, `"`)
	}
	return v, false
}

// readObject reads a JSON object body. It writes a 400 (or 413) and
// returns nil when the body is missing, too large or not an object.
func readObject(w http.ResponseWriter, r *http.Request) map[string]any {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		writeError(w, http.StatusBadRequest, "cannot read the request body")
		return nil
	}
	if len(body) > maxBody {
		writeError(w, http.StatusRequestEntityTooLarge, "the request body is too large")
		return nil
	}
	obj, err := decodeObject(body)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return nil
	}
	return obj
}

// decodeObject decodes a JSON object, numbers as json.Number.
func decodeObject(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, errors.New("the request body must be a JSON object, and it is empty")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, errors.New("the request body is not valid JSON")
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("the request body has data after the JSON value")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the request body must be a JSON object")
	}
	return obj, nil
}

// checkReserved rejects the system properties a client may not send.
func (s *Server) checkReserved(obj map[string]any, op string) error {
	n := s.names()
	for _, k := range []string{n.createdAt, n.updatedAt, n.deleted} {
		if _, ok := obj[k]; ok {
			return fmt.Errorf("Cannot %s item with property '%s' as it is reserved", op, k)
		}
	}
	return nil
}

// idFromBody reads the id property: ok is false when it is not a string.
func idFromBody(obj map[string]any) (id string, ok bool) {
	switch v := obj["id"].(type) {
	case nil:
		return "", true
	case string:
		return v, true
	}
	return "", false
}

func (s *Server) insert(w http.ResponseWriter, r *http.Request, t *table, q *tableQuery) {
	obj := readObject(w, r)
	if obj == nil {
		return
	}
	if err := s.checkReserved(obj, "insert"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	id, ok := idFromBody(obj)
	if !ok {
		writeError(w, http.StatusBadRequest, "the id must be a string")
		return
	}
	if id == "" {
		id = newGUID()
	}
	data := make(map[string]any, len(obj))
	for k, v := range obj {
		if k == "id" || k == s.names().version {
			continue
		}
		data[k] = v
	}
	if err := checkScalars(data); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	now := s.now()
	rec := &record{id: id, data: data, createdAt: now, updatedAt: now, version: s.newVersion(), seq: s.seq.Add(1)}
	s.finish(rec)
	t.mu.Lock()
	if _, dup := t.rows[id]; dup {
		t.mu.Unlock()
		// The official server echoes the request item, not the stored row.
		var buf bytes.Buffer
		appendObject(&buf, obj)
		writeJSON(w, http.StatusConflict, buf.Bytes())
		return
	}
	t.put(rec)
	t.mu.Unlock()
	s.writeRecord(w, http.StatusCreated, rec, q)
}

// appendObject writes a decoded JSON object with sorted keys.
func appendObject(buf *bytes.Buffer, obj map[string]any) {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	buf.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			buf.WriteByte(',')
		}
		appendString(buf, k)
		buf.WriteByte(':')
		appendValue(buf, obj[k])
	}
	buf.WriteByte('}')
}

// current returns the live row with id, hiding soft-deleted rows.
func (t *table) current(id string) *record {
	rec := t.rows[id]
	if rec == nil || rec.deleted {
		return nil
	}
	return rec
}

func (s *Server) lookup(w http.ResponseWriter, t *table, id string, q *tableQuery) {
	t.mu.RLock()
	rec := t.current(id)
	t.mu.RUnlock()
	if rec == nil {
		writeNotFound(w, id)
		return
	}
	s.writeRecord(w, http.StatusOK, rec, q)
}

func writeNotFound(w http.ResponseWriter, id string) {
	writeError(w, http.StatusNotFound, fmt.Sprintf("The item with id '%s' was not found", id))
}

// preconditionFailed checks If-Match against rec; on a mismatch (and
// always for "*", as the official server does) it answers 412 with the
// current row and returns true.
func (s *Server) preconditionFailed(w http.ResponseWriter, r *http.Request, rec *record, q *tableQuery) bool {
	vals := r.Header.Values("If-Match")
	if len(vals) == 0 {
		return false
	}
	v, star := parseIfMatch(strings.Join(vals, ","))
	if !star && v == rec.version {
		return false
	}
	s.writeRecord(w, http.StatusPreconditionFailed, rec, q)
	return true
}

func (s *Server) update(w http.ResponseWriter, r *http.Request, t *table, id string, q *tableQuery) {
	obj := readObject(w, r)
	if obj == nil {
		return
	}
	if err := s.checkReserved(obj, "update"); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if bid, ok := idFromBody(obj); !ok || (bid != "" && bid != id) {
		writeError(w, http.StatusBadRequest, "the id in the body does not match the id in the URL")
		return
	}
	vname := s.names().version
	var bodyVersion *string
	if v, ok := obj[vname]; ok && v != nil {
		sv, isStr := v.(string)
		if !isStr {
			writeError(w, http.StatusBadRequest, "the "+vname+" property must be a string")
			return
		}
		bodyVersion = &sv
	}
	patch := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != "id" && k != vname {
			patch[k] = v
		}
	}
	if err := checkScalars(patch); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	t.mu.Lock()
	cur := t.current(id)
	if cur == nil {
		t.mu.Unlock()
		writeNotFound(w, id)
		return
	}
	if s.preconditionFailed(w, r, cur, q) {
		t.mu.Unlock()
		return
	}
	if len(r.Header.Values("If-Match")) == 0 && bodyVersion != nil && *bodyVersion != cur.version {
		t.mu.Unlock()
		s.writeRecord(w, http.StatusConflict, cur, q)
		return
	}
	data := make(map[string]any, len(cur.data)+len(patch))
	for k, v := range cur.data {
		data[k] = v
	}
	for k, v := range patch {
		data[k] = v
	}
	rec := &record{id: id, data: data, createdAt: cur.createdAt, updatedAt: s.now(),
		version: s.newVersion(), seq: cur.seq}
	s.finish(rec)
	t.put(rec)
	t.mu.Unlock()
	s.writeRecord(w, http.StatusOK, rec, q)
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, t *table, id string, q *tableQuery) {
	t.mu.Lock()
	cur := t.current(id)
	if cur == nil {
		t.mu.Unlock()
		writeNotFound(w, id)
		return
	}
	if s.preconditionFailed(w, r, cur, q) {
		t.mu.Unlock()
		return
	}
	out := cur
	if t.cfg.softDelete {
		out = &record{id: id, data: cur.data, createdAt: cur.createdAt, updatedAt: s.now(),
			version: s.newVersion(), deleted: true, seq: cur.seq}
		s.finish(out)
		t.put(out)
	} else {
		t.remove(id)
	}
	t.mu.Unlock()
	s.writeRecord(w, http.StatusOK, out, q)
}

func (s *Server) undelete(w http.ResponseWriter, r *http.Request, t *table, id string, q *tableQuery) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBody))
	t.mu.Lock()
	cur := t.rows[id]
	if cur == nil {
		t.mu.Unlock()
		writeNotFound(w, id)
		return
	}
	if s.preconditionFailed(w, r, cur, q) {
		t.mu.Unlock()
		return
	}
	rec := &record{id: id, data: cur.data, createdAt: cur.createdAt, updatedAt: s.now(),
		version: s.newVersion(), seq: cur.seq}
	s.finish(rec)
	t.put(rec)
	t.mu.Unlock()
	s.writeRecord(w, http.StatusCreated, rec, q)
}

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
	return scheme + "://" + host + u.EscapedPath() + "?" + strings.Join(parts, "&")
}

// Seed inserts rows into a table at run time, with the rules of the Seed
// table option. It fails (inserting none of the rows after the bad one)
// when the table does not exist or a row is invalid or has a duplicate id.
func (s *Server) Seed(tableName string, rows ...any) error {
	t := s.table(tableName)
	if t == nil {
		return fmt.Errorf("zumotest: no table %q", tableName)
	}
	for _, row := range rows {
		if err := s.seedRow(t, row); err != nil {
			return fmt.Errorf("zumotest: seed %q: %w", tableName, err)
		}
	}
	return nil
}

func (s *Server) seedRow(t *table, row any) error {
	var raw []byte
	switch v := row.(type) {
	case json.RawMessage:
		raw = v
	case []byte:
		raw = v
	case string:
		raw = []byte(v)
	default:
		b, err := json.Marshal(row)
		if err != nil {
			return err
		}
		raw = b
	}
	obj, err := decodeObject(raw)
	if err != nil {
		return errors.New(strings.Replace(err.Error(), "the request body", "the row", 1))
	}
	id, ok := idFromBody(obj)
	if !ok {
		return errors.New("the id must be a string")
	}
	if id == "" {
		id = newGUID()
	}
	n := s.names()
	now := s.now()
	rec := &record{id: id, createdAt: now, updatedAt: now, version: s.newVersion(), seq: s.seq.Add(1)}
	for _, d := range []struct {
		name string
		dst  *time.Time
	}{{n.createdAt, &rec.createdAt}, {n.updatedAt, &rec.updatedAt}} {
		switch v := obj[d.name].(type) {
		case nil:
		case string:
			tm, err := time.Parse(time.RFC3339Nano, v)
			if err != nil {
				return fmt.Errorf("%s: %w", d.name, err)
			}
			if !tm.IsZero() {
				*d.dst = tm.UTC().Truncate(time.Millisecond)
			}
		default:
			return fmt.Errorf("%s must be an RFC 3339 string", d.name)
		}
	}
	switch v := obj[n.deleted].(type) {
	case nil:
	case bool:
		rec.deleted = v
	default:
		return fmt.Errorf("%s must be a boolean", n.deleted)
	}
	data := make(map[string]any, len(obj))
	for k, v := range obj {
		switch k {
		case "id", n.createdAt, n.updatedAt, n.version, n.deleted:
			continue
		}
		data[k] = v
	}
	if err := checkScalars(data); err != nil {
		return err
	}
	rec.data = data
	s.finish(rec)
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, dup := t.rows[id]; dup {
		return fmt.Errorf("duplicate id %q", id)
	}
	t.put(rec)
	return nil
}

// Rows returns a snapshot of a table in insertion order, soft-deleted rows
// included, each row with every system column and decoded the way
// encoding/json decodes the wire form (numbers float64, dates strings).
// It fails when the table does not exist.
func (s *Server) Rows(tableName string) ([]map[string]any, error) {
	t := s.table(tableName)
	if t == nil {
		return nil, fmt.Errorf("zumotest: no table %q", tableName)
	}
	t.mu.RLock()
	recs := append([]*record(nil), t.ordered...)
	t.mu.RUnlock()
	out := make([]map[string]any, len(recs))
	for i, rec := range recs {
		out[i] = s.wireRow(rec)
	}
	return out, nil
}

// Row returns one row like Rows does (soft-deleted included); ok is false
// when the table or the row does not exist.
func (s *Server) Row(tableName, id string) (row map[string]any, ok bool) {
	t := s.table(tableName)
	if t == nil {
		return nil, false
	}
	t.mu.RLock()
	rec := t.rows[id]
	t.mu.RUnlock()
	if rec == nil {
		return nil, false
	}
	return s.wireRow(rec), true
}

// Truncate removes every row of a table. It fails when the table does not
// exist.
func (s *Server) Truncate(tableName string) error {
	t := s.table(tableName)
	if t == nil {
		return fmt.Errorf("zumotest: no table %q", tableName)
	}
	t.mu.Lock()
	t.rows = map[string]*record{}
	t.ordered = nil
	t.resetColumns()
	t.invalidate()
	t.mu.Unlock()
	return nil
}
