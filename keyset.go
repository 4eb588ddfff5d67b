package zumo

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// keysetKeys returns the keys All pages by: the query's orderings up to
// the first on id, then id ascending when there was none; nil when the
// item type has no ids or an ordering is on a field whose values cannot be
// written back as literals (see All).
func (q Query[T]) keysetKeys() []orderKey {
	ti := q.t.ti
	if !ti.isMap && ti.id == nil {
		return nil
	}
	var keys []orderKey
	for _, o := range q.order {
		if isIDKey(o) {
			return append(keys, o)
		}
		if kind := keyKind(ti, o.field); kind == keyNone {
			return nil
		}
		keys = append(keys, o)
	}
	return append(keys, orderKey{field: "id"})
}

type keyKindT int

const (
	keyNone   keyKindT = iota
	keyString          // a string column
	keyNumber          // a number column
	keyDate            // a date column
	keyAny             // a map item's: decided by the value
)

var timeType = reflect.TypeFor[time.Time]()

// keyKind is how a key field's values are written as literals.
func keyKind(ti *typeInfo, field string) keyKindT {
	if ti.isMap {
		return keyAny
	}
	idx, ok := fieldsOf(ti.typ).index[strings.ToLower(field)]
	if !ok {
		return keyNone // a member path, or a column T does not declare
	}
	t := ti.typ.FieldByIndex(idx).Type
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType || isDateProp(field) && t.Kind() == reflect.String:
		return keyDate
	case t.Kind() == reflect.String:
		return keyString
	case t.Kind() >= reflect.Int && t.Kind() <= reflect.Float64:
		return keyNumber
	}
	return keyNone
}

func isDateProp(field string) bool {
	f := strings.TrimPrefix(field, "__")
	return strings.EqualFold(f, "createdAt") || strings.EqualFold(f, "updatedAt")
}

// boundary returns the filter for the rows after item in the keys' order:
// ((k1 gt v1) or ((k1 eq v1) and (… (id gt I)))), with lt for a descending
// key, which also takes the nulls (they sort last when descending on the
// official servers' databases). It is false when a key's value cannot be
// written: null or missing (nulls have no place in the comparison), or of a
// kind All does not page by.
func (pg *pager[T]) boundary(item *T) (Expr, bool) {
	lits := make([]string, len(pg.keys))
	var raw map[string]json.RawMessage
	for i, k := range pg.keys {
		if isIDKey(k) {
			lit, ok := idLiteral(pg.q.t.ti, item)
			if !ok {
				return Expr{}, false
			}
			lits[i] = lit
			continue
		}
		if raw == nil {
			if raw = lastObject(pg.body.Bytes()); raw == nil {
				return Expr{}, false
			}
		}
		lit, ok := keyLiteral(keyKind(pg.q.t.ti, k.field), k.field, lookup(raw, k.field))
		if !ok {
			return Expr{}, false
		}
		lits[i] = lit
	}
	last := len(pg.keys) - 1
	acc := after(pg.keys[last], lits[last])
	for i := last - 1; i >= 0; i-- {
		acc = after(pg.keys[i], lits[i]).Or(Field(pg.keys[i].field).Eq(Expr{litNode{text: lits[i]}}).And(acc))
	}
	return acc, true
}

// idLiteral writes the id of the item p points to as a literal; false
// when it has none that tells rows apart (empty, zero, a float beyond
// 2^53).
func idLiteral(ti *typeInfo, p any) (string, bool) {
	var id any
	if ti.isMap {
		v := reflect.ValueOf(p).Elem() // a map, of a named map type too
		if v.IsNil() {
			return "", false
		}
		if iv := v.MapIndex(reflect.ValueOf("id").Convert(v.Type().Key())); iv.IsValid() {
			id = iv.Interface()
		}
		if f, ok := id.(float64); ok {
			if f != float64(int64(f)) || f >= 1<<53 || f <= -1<<53 {
				return "", false
			}
			id = int64(f)
		}
	} else if v, err := reflect.ValueOf(p).Elem().FieldByIndexErr(ti.id); err == nil {
		id = v.Interface()
	}
	switch x := id.(type) {
	case string:
		if x == "" {
			return "", false
		}
	case int64, int, int32, int16, int8, uint, uint64, uint32, uint16, uint8:
		if reflect.ValueOf(x).IsZero() {
			return "", false
		}
	default:
		return "", false
	}
	lit, err := formatLiteral(id)
	return lit, err == nil
}

// after is the comparison that puts a row after lit in k's order.
func after(k orderKey, lit string) Expr {
	v := Expr{litNode{text: lit}}
	if k.desc {
		return Field(k.field).Lt(v).Or(Field(k.field).Eq(nil))
	}
	return Field(k.field).Gt(v)
}

// keyLiteral writes a key's JSON value, as the server sent it, as a literal
// of the key's kind.
func keyLiteral(kind keyKindT, field string, raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", false
	}
	if kind == keyAny {
		switch {
		case raw[0] == '"' && isDateProp(field):
			kind = keyDate
		case raw[0] == '-' || raw[0] >= '0' && raw[0] <= '9':
			kind = keyNumber
		default:
			return "", false // a map item's other strings may be dates: not told apart
		}
	}
	switch kind {
	case keyString, keyDate:
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return "", false
		}
		if kind == keyString {
			lit, err := formatLiteral(s)
			return lit, err == nil
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return "", false
		}
		lit, err := formatLiteral(DateTimeOffset(t))
		return lit, err == nil
	case keyNumber:
		if i, err := strconv.ParseInt(string(raw), 10, 64); err == nil {
			var v any = i
			if i == int64(int32(i)) {
				v = int32(i)
			}
			lit, err := formatLiteral(v)
			return lit, err == nil
		}
		f, err := strconv.ParseFloat(string(raw), 64)
		if err != nil {
			return "", false
		}
		lit, err := formatLiteral(f)
		return lit, err == nil
	}
	return "", false
}

// lookup finds a field in a JSON object as a server names it: in any
// letter case, a system property also with its legacy "__".
func lookup(obj map[string]json.RawMessage, field string) json.RawMessage {
	if v, ok := obj[field]; ok {
		return v
	}
	for k, v := range obj {
		if strings.EqualFold(k, field) || isSystemProp(field) && strings.EqualFold(k, "__"+field) {
			return v
		}
	}
	return nil
}

// lastObject returns the last item of a page's body (an array, or the
// $inlinecount envelope), nil when there is none.
func lastObject(body []byte) map[string]json.RawMessage {
	var items []json.RawMessage
	if b := bytes.TrimSpace(body); len(b) > 0 && b[0] == '{' {
		var env struct {
			Results []json.RawMessage `json:"results"`
		}
		if json.Unmarshal(b, &env) != nil {
			return nil
		}
		items = env.Results
	} else if json.Unmarshal(b, &items) != nil {
		return nil
	}
	if len(items) == 0 {
		return nil
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(items[len(items)-1], &obj) != nil {
		return nil
	}
	return obj
}

// deleteKeys removes keys from item, a map (of a named map type too);
// anything else is left alone.
func deleteKeys(item any, keys []string) {
	if len(keys) == 0 {
		return
	}
	if m, ok := item.(map[string]any); ok {
		for _, k := range keys {
			delete(m, k)
		}
		return
	}
	if v := reflect.ValueOf(item); v.Kind() == reflect.Map && !v.IsNil() && v.Type().Key().Kind() == reflect.String {
		for _, k := range keys {
			v.SetMapIndex(reflect.ValueOf(k).Convert(v.Type().Key()), reflect.Value{})
		}
	}
}
