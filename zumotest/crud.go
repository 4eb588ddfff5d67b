package zumotest

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"github.com/zumo-go/zumo/internal/wire"
)

// Insert, lookup, update, delete and undelete of one row, with their
// request-body checks and If-Match handling.

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
			//lint:ignore ST1005 the official server's message, word for word
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
		id = wire.NewGUID()
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
	cur := s.writable(w, r, t, id, q, false)
	if cur == nil {
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
	rec := s.replace(t, cur, data, false)
	t.mu.Unlock()
	s.writeRecord(w, http.StatusOK, rec, q)
}

func (s *Server) delete(w http.ResponseWriter, r *http.Request, t *table, id string, q *tableQuery) {
	t.mu.Lock()
	cur := s.writable(w, r, t, id, q, false)
	if cur == nil {
		t.mu.Unlock()
		return
	}
	out := cur
	if t.cfg.softDelete {
		out = s.replace(t, cur, cur.data, true)
	} else {
		t.remove(id)
	}
	t.mu.Unlock()
	s.writeRecord(w, http.StatusOK, out, q)
}

func (s *Server) undelete(w http.ResponseWriter, r *http.Request, t *table, id string, q *tableQuery) {
	_, _ = io.Copy(io.Discard, io.LimitReader(r.Body, maxBody))
	t.mu.Lock()
	cur := s.writable(w, r, t, id, q, true)
	if cur == nil {
		t.mu.Unlock()
		return
	}
	rec := s.replace(t, cur, cur.data, false)
	t.mu.Unlock()
	s.writeRecord(w, http.StatusCreated, rec, q)
}

// writable returns the row with id for a write, soft-deleted rows only
// when deleted is true. When there is none (404) or If-Match fails (412)
// it writes the answer and returns nil. t.mu must be held for writing.
func (s *Server) writable(w http.ResponseWriter, r *http.Request, t *table, id string, q *tableQuery, deleted bool) *record {
	cur := t.rows[id]
	if cur == nil || (cur.deleted && !deleted) {
		writeNotFound(w, id)
		return nil
	}
	if s.preconditionFailed(w, r, cur, q) {
		return nil
	}
	return cur
}

// replace stores a new version of cur with data and the deleted flag and
// returns it; t.mu must be held for writing.
func (s *Server) replace(t *table, cur *record, data map[string]any, deleted bool) *record {
	rec := &record{id: cur.id, data: data, createdAt: cur.createdAt, updatedAt: s.now(),
		version: s.newVersion(), deleted: deleted, seq: cur.seq}
	s.finish(rec)
	t.put(rec)
	return rec
}
