package offline

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zumo-go/zumo/internal/wire"
)

// systemProps are the columns the service owns. Local writes never set
// them; they come from the server's copies.
var systemProps = wire.SystemProperties

func isSystemProp(k string) bool {
	for _, p := range systemProps {
		if strings.EqualFold(k, p) {
			return true
		}
	}
	return false
}

// object is a row as its JSON members.
type object map[string]json.RawMessage

func encodeObject(item any) (object, error) {
	b, err := json.Marshal(item)
	if err != nil {
		return nil, fmt.Errorf("offline: encoding item: %w", err)
	}
	return decodeObject(b)
}

func decodeObject(b []byte) (object, error) {
	var o object
	if err := json.Unmarshal(b, &o); err != nil || o == nil {
		return nil, fmt.Errorf("offline: a row must be a JSON object, not %.40q", b)
	}
	return o, nil
}

// decodeStored decodes a row or queued item read from the store: a
// *CorruptError when it is not a JSON object.
func decodeStored(bucket, key string, b []byte) (object, error) {
	o, err := decodeObject(b)
	if err != nil {
		return nil, corrupt(bucket, key, errNotObject) // decodeObject's message quotes the bytes
	}
	return o, nil
}

var errNotObject = errors.New("not a JSON object")

func (o object) bytes() []byte {
	b, _ := json.Marshal(map[string]json.RawMessage(o)) // RawMessages are valid JSON
	return b
}

// id returns the row's id: a non-empty JSON string.
func (o object) id() (string, bool) {
	raw, ok := o["id"]
	if !ok {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil || s == "" {
		return "", false
	}
	return s, true
}

// str returns a string member, "" when it is missing or not a string.
func (o object) str(k string) string {
	var s string
	_ = json.Unmarshal(o[k], &s)
	return s
}

// withoutSystem returns the row without system properties.
func (o object) withoutSystem() object {
	out := make(object, len(o))
	for k, v := range o {
		if !isSystemProp(k) {
			out[k] = v
		}
	}
	return out
}

// holds reports whether server has every value of pushed (system
// properties aside): numbers compare by value, and strings that are both
// date-times by instant, so a server's own formatting does not count as a
// difference.
func holds(server, pushed object) bool {
	for k, pv := range pushed {
		if isSystemProp(k) {
			continue
		}
		sv, ok := server[k]
		if !ok {
			if bytes.Equal(pv, []byte("null")) {
				continue
			}
			return false
		}
		if !sameJSON(sv, pv) {
			return false
		}
	}
	return true
}

func sameJSON(a, b json.RawMessage) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return sameValue(x, y)
}

func sameValue(x, y any) bool {
	switch a := x.(type) {
	case string:
		b, ok := y.(string)
		if !ok {
			return false
		}
		if a == b {
			return true
		}
		ta, err1 := time.Parse(time.RFC3339Nano, a)
		tb, err2 := time.Parse(time.RFC3339Nano, b)
		return err1 == nil && err2 == nil && ta.Equal(tb)
	case map[string]any:
		b, ok := y.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if !sameValue(v, b[k]) {
				return false
			}
		}
		return true
	case []any:
		b, ok := y.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !sameValue(a[i], b[i]) {
				return false
			}
		}
		return true
	}
	return x == y
}
