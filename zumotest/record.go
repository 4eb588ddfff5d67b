package zumotest

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"
	"unicode/utf8"
)

// sysNames are the wire names of the system columns of one generation.
type sysNames struct {
	createdAt, updatedAt, version, deleted string
}

var (
	names20     = sysNames{"createdAt", "updatedAt", "version", "deleted"}
	namesLegacy = sysNames{"__createdAt", "__updatedAt", "__version", "__deleted"}
)

func (s *Server) names() *sysNames {
	if s.cfg.legacy {
		return &namesLegacy
	}
	return &names20
}

// record is one stored row. A record is immutable once built: a write
// replaces it, so readers may encode it without holding the table lock.
type record struct {
	id        string
	data      map[string]any // user columns: nil, bool, json.Number, string
	keys      []string       // sorted keys of data
	createdAt time.Time
	updatedAt time.Time
	version   string
	deleted   bool
	seq       uint64 // insertion order, the order of an unordered list

	enc   []byte         // the default wire form
	extra map[string]any // columns without a slot in the table, set by table.put
}

// dateLayout is the wire form of system dates: RFC 3339, milliseconds, UTC.
const dateLayout = "2006-01-02T15:04:05.000Z"

func formatDate(t time.Time) string { return t.UTC().Format(dateLayout) }

// newVersion returns a fresh opaque version: like SQL Server's rowversion,
// the base64 of an 8-byte big-endian counter shared by the whole server.
func (s *Server) newVersion() string {
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], s.versions.Add(1))
	return base64.StdEncoding.EncodeToString(b[:])
}

// finish computes the derived fields of rec (keys, encoding); table.put
// adds the filter engine's view of the row.
func (s *Server) finish(rec *record) *record {
	rec.keys = rec.keys[:0]
	for k := range rec.data {
		rec.keys = append(rec.keys, k)
	}
	sort.Strings(rec.keys)
	var buf bytes.Buffer
	if s.cfg.legacy {
		s.encodeFields(&buf, rec, nil, false)
	} else {
		s.encodeFields(&buf, rec, nil, true)
	}
	rec.enc = buf.Bytes()
	return rec
}

// matchValue converts a stored value for the filter engine: a json.Number
// becomes an int64 (when integral and in range) or a float64, so filtering
// and sorting never re-parse numbers.
func matchValue(v any) any {
	n, ok := v.(json.Number)
	if !ok {
		return v
	}
	if i, err := strconv.ParseInt(string(n), 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(string(n), 64); err == nil {
		return f
	}
	return v
}

// field returns the value of a named column of rec as it is written on the
// wire (dates as time.Time); ok is false for a column the row lacks.
func (s *Server) field(rec *record, name string) (any, bool) {
	n := s.names()
	switch name {
	case "id":
		return rec.id, true
	case n.createdAt:
		return rec.createdAt, true
	case n.updatedAt:
		return rec.updatedAt, true
	case n.version:
		return rec.version, true
	case n.deleted:
		return rec.deleted, true
	}
	v, ok := rec.data[name]
	return v, ok
}

// encodeFields writes rec as a JSON object. With sel non-nil it writes
// exactly those columns, in that order (null for a missing one). Otherwise
// it writes id, the user columns in key order, then the system columns
// when sys is true.
func (s *Server) encodeFields(buf *bytes.Buffer, rec *record, sel []string, sys bool) {
	buf.WriteByte('{')
	first := true
	put := func(k string, v any) {
		if !first {
			buf.WriteByte(',')
		}
		first = false
		appendString(buf, k)
		buf.WriteByte(':')
		appendValue(buf, v)
	}
	if sel != nil {
		for _, k := range sel {
			v, _ := s.field(rec, k)
			put(k, v)
		}
		buf.WriteByte('}')
		return
	}
	put("id", rec.id)
	for _, k := range rec.keys {
		put(k, rec.data[k])
	}
	if sys {
		n := s.names()
		put(n.createdAt, rec.createdAt)
		put(n.updatedAt, rec.updatedAt)
		put(n.version, rec.version)
		put(n.deleted, rec.deleted)
	}
	buf.WriteByte('}')
}

// encodeLegacy writes rec with the legacy system columns in want.
func (s *Server) encodeLegacy(buf *bytes.Buffer, rec *record, want []string) {
	if len(want) == 0 {
		buf.Write(rec.enc)
		return
	}
	cols := make([]string, 0, 1+len(rec.keys)+len(want))
	cols = append(cols, "id")
	cols = append(cols, rec.keys...)
	cols = append(cols, want...)
	s.encodeFields(buf, rec, cols, false)
}

func appendValue(buf *bytes.Buffer, v any) {
	switch x := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(x))
	case json.Number:
		buf.WriteString(string(x))
	case string:
		appendString(buf, x)
	case time.Time:
		buf.WriteByte('"')
		buf.WriteString(formatDate(x))
		buf.WriteByte('"')
	default:
		b, err := json.Marshal(x)
		if err != nil {
			buf.WriteString("null")
			return
		}
		buf.Write(b)
	}
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string, escaping like JavaScript's
// JSON.stringify (no HTML escaping); invalid UTF-8 becomes U+FFFD.
func appendString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			buf.WriteString(s[start:i])
			switch c {
			case '"', '\\':
				buf.WriteByte('\\')
				buf.WriteByte(c)
			case '\n':
				buf.WriteString(`\n`)
			case '\r':
				buf.WriteString(`\r`)
			case '\t':
				buf.WriteString(`\t`)
			default:
				buf.WriteString(`\u00`)
				buf.WriteByte(hexDigits[c>>4])
				buf.WriteByte(hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf.WriteString(s[start:i])
			buf.WriteString(`\ufffd`)
			i++
			start = i
			continue
		}
		i += size
	}
	buf.WriteString(s[start:])
	buf.WriteByte('"')
}

// errNested is returned for object and array property values.
var errNested = errors.New("objects and arrays are not supported as property values")

// checkScalars rejects property values the official server cannot store.
func checkScalars(obj map[string]any) error {
	for k, v := range obj {
		switch v.(type) {
		case nil, bool, json.Number, string:
		default:
			return fmt.Errorf("property %q: %w", k, errNested)
		}
	}
	return nil
}

// wireRow decodes the default-plus-system wire form of rec the way
// encoding/json would (numbers float64, dates strings).
func (s *Server) wireRow(rec *record) map[string]any {
	var buf bytes.Buffer
	s.encodeFields(&buf, rec, nil, true)
	var m map[string]any
	_ = json.Unmarshal(buf.Bytes(), &m)
	return m
}
