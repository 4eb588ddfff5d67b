package zumotest

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// snapshotFormat identifies the snapshot layout; Restore refuses others.
const snapshotFormat = "zumotest-snapshot/1"

// ErrSnapshot is wrapped by every error Restore returns for a snapshot it
// cannot read (not JSON, another format or generation, a bad row).
var ErrSnapshot = errors.New("zumotest: invalid snapshot")

// Snapshot writes every table's rows to w as one JSON document: the rows
// in insertion order, each with its id, user columns and every system
// column (dates, version, deleted flag) exactly as stored, so Restore gives
// back the same rows, versions and soft deletes. Each table is read under
// its own lock: writes that run concurrently with Snapshot may or may not
// be in it. It fails only when w does.
func (s *Server) Snapshot(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, `{"format":%q,"legacy":%t,"versions":%d,"tables":[`,
		snapshotFormat, s.cfg.legacy, s.versions.Load())
	var buf bytes.Buffer
	for i, name := range s.Tables() {
		t := s.table(name)
		if t == nil {
			continue
		}
		if i > 0 {
			bw.WriteByte(',')
		}
		buf.Reset()
		appendString(&buf, t.name)
		fmt.Fprintf(bw, "\n{\"name\":%s,\"rows\":[", buf.Bytes())
		t.mu.RLock()
		recs := append([]*record(nil), t.ordered...)
		t.mu.RUnlock()
		for j, rec := range recs {
			if j > 0 {
				bw.WriteByte(',')
			}
			bw.WriteByte('\n')
			buf.Reset()
			s.encodeFields(&buf, rec, nil, true)
			bw.Write(buf.Bytes())
		}
		bw.WriteString("]}")
	}
	bw.WriteString("]}\n")
	return bw.Flush()
}

type snapshotDoc struct {
	Format   string `json:"format"`
	Legacy   bool   `json:"legacy"`
	Versions uint64 `json:"versions"`
	Tables   []struct {
		Name string            `json:"name"`
		Rows []json.RawMessage `json:"rows"`
	} `json:"tables"`
}

// Restore loads a document written by Snapshot. A table the server does
// not have is declared with opts (as AddTable would); a restored row
// replaces a row with the same id. Rows keep their dates, versions and
// deleted flags, and versions issued afterwards never repeat a restored
// one. Restore checks the whole document before changing anything: a
// snapshot that is not JSON, has another format, was written by the other
// generation (WithLegacy), names a table AddTable would refuse or holds an
// invalid row fails with an error
// wrapping ErrSnapshot, and the server is left as it was.
func (s *Server) Restore(r io.Reader, opts ...TableOption) error {
	var doc snapshotDoc
	dec := json.NewDecoder(r)
	if err := dec.Decode(&doc); err != nil {
		return fmt.Errorf("%w: %v", ErrSnapshot, err)
	}
	if doc.Format != snapshotFormat {
		return fmt.Errorf("%w: format %q, want %q", ErrSnapshot, doc.Format, snapshotFormat)
	}
	if doc.Legacy != s.cfg.legacy {
		return fmt.Errorf("%w: written by a server with legacy=%t", ErrSnapshot, doc.Legacy)
	}
	type loaded struct {
		name string
		recs []*record
	}
	all := make([]loaded, 0, len(doc.Tables))
	maxVersion := doc.Versions
	for _, dt := range doc.Tables {
		// Checked here, not left to AddTable below, so that a bad name
		// fails before an earlier table is declared.
		if err := checkTableName(dt.Name); err != nil {
			return fmt.Errorf("%w: %v", ErrSnapshot, err)
		}
		l := loaded{name: dt.Name, recs: make([]*record, 0, len(dt.Rows))}
		for i, raw := range dt.Rows {
			rec, counter, err := s.restoreRecord(raw)
			if err != nil {
				return fmt.Errorf("%w: table %q row %d: %v", ErrSnapshot, dt.Name, i, err)
			}
			maxVersion = max(maxVersion, counter)
			l.recs = append(l.recs, rec)
		}
		all = append(all, l)
	}
	for _, l := range all {
		if s.table(l.name) == nil {
			if err := s.AddTable(l.name, opts...); err != nil {
				return err
			}
		}
	}
	for {
		cur := s.versions.Load()
		if cur >= maxVersion || s.versions.CompareAndSwap(cur, maxVersion) {
			break
		}
	}
	for _, l := range all {
		t := s.table(l.name)
		t.mu.Lock()
		for _, rec := range l.recs {
			rec.seq = s.seq.Add(1)
			t.put(s.finish(rec))
		}
		t.mu.Unlock()
	}
	return nil
}

// restoreRecord rebuilds a stored row from its snapshot form; counter is
// the version's counter when it is one this server could have issued.
func (s *Server) restoreRecord(raw []byte) (rec *record, counter uint64, err error) {
	obj, err := decodeObject(raw)
	if err != nil {
		return nil, 0, errors.New("not a JSON object")
	}
	id, ok := obj["id"].(string)
	if !ok || id == "" {
		return nil, 0, errors.New("no string id")
	}
	n := s.names()
	rec = &record{id: id}
	for _, d := range []struct {
		name string
		dst  *time.Time
	}{{n.createdAt, &rec.createdAt}, {n.updatedAt, &rec.updatedAt}} {
		v, _ := obj[d.name].(string)
		tm, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, 0, fmt.Errorf("%s: not an RFC 3339 date", d.name)
		}
		*d.dst = tm.UTC()
	}
	if rec.version, ok = obj[n.version].(string); !ok || rec.version == "" {
		return nil, 0, fmt.Errorf("%s: not a string", n.version)
	}
	if rec.deleted, ok = obj[n.deleted].(bool); !ok {
		return nil, 0, fmt.Errorf("%s: not a boolean", n.deleted)
	}
	if b, err := base64.StdEncoding.DecodeString(rec.version); err == nil && len(b) == 8 {
		counter = binary.BigEndian.Uint64(b)
	}
	rec.data = make(map[string]any, len(obj))
	for k, v := range obj {
		switch k {
		case "id", n.createdAt, n.updatedAt, n.version, n.deleted:
			continue
		}
		rec.data[k] = v
	}
	if err := checkScalars(rec.data); err != nil {
		return nil, 0, err
	}
	return rec, counter, nil
}
