package zumo

import (
	"encoding/json"
	"fmt"
	"hash/maphash"
	"iter"
	"math"
	"reflect"
	"strconv"
	"strings"
	"sync"

	"github.com/zumo-go/zumo/internal/wire"
)

// systemProps are the system property names on Mobile Apps; legacy Mobile
// Services prefixes them with "__".
var systemProps = wire.SystemProperties

// isSystemProp reports whether a JSON key names a system property, with or
// without the legacy prefix, in any letter case.
func isSystemProp(k string) bool {
	k = strings.TrimPrefix(k, "__")
	for _, p := range systemProps {
		if strings.EqualFold(k, p) {
			return true
		}
	}
	return false
}

// legacyName is the name legacy Mobile Services gives a field: a system
// property's bare name gets its "__" (createdAt → __createdAt); any other
// name is as it is.
func legacyName(f string) string {
	for _, p := range systemProps {
		if strings.EqualFold(f, p) {
			return "__" + p
		}
	}
	return f
}

// typeInfo is what the client knows about an item type T, found once.
type typeInfo struct {
	typ     reflect.Type
	isMap   bool           // map[string]any: the untyped table
	id      []int          // index of the id field (nil: none)
	idKind  reflect.Kind   // string or an integer kind
	version []int          // index of the string version field (nil: none)
	sysJSON map[string]int // system property JSON names the struct declares → position in systemProps
	prefix  bool           // the struct names its system properties with "__"
	err     error          // T cannot be a table item
}

var typeInfos sync.Map // reflect.Type → *typeInfo

func typeInfoFor[T any]() *typeInfo {
	t := reflect.TypeFor[T]()
	if ti, ok := typeInfos.Load(t); ok {
		return ti.(*typeInfo)
	}
	ti := buildTypeInfo(t)
	v, _ := typeInfos.LoadOrStore(t, ti)
	return v.(*typeInfo)
}

func buildTypeInfo(t reflect.Type) *typeInfo {
	ti := &typeInfo{typ: t, sysJSON: map[string]int{}}
	switch {
	case t.Kind() == reflect.Map && t.Key().Kind() == reflect.String && t.Elem().Kind() == reflect.Interface:
		ti.isMap = true
		return ti
	case t.Kind() != reflect.Struct:
		ti.err = fmt.Errorf("zumo: table item type %s must be a struct or map[string]any", t)
		return ti
	}
	for f, name := range jsonFields(t) {
		switch {
		case strings.EqualFold(name, "id"):
			switch f.Type.Kind() {
			case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
				reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
				ti.id, ti.idKind = f.Index, f.Type.Kind()
			default:
				ti.err = fmt.Errorf("zumo: the id field of %s must be a string or an integer, not %s", t, f.Type)
			}
		case isSystemProp(name):
			bare := strings.TrimPrefix(name, "__")
			for i, p := range systemProps {
				if strings.EqualFold(bare, p) {
					ti.sysJSON[name] = i
				}
			}
			if strings.HasPrefix(name, "__") {
				ti.prefix = true
			}
			if strings.EqualFold(bare, "version") && f.Type.Kind() == reflect.String {
				ti.version = f.Index
			}
		}
	}
	return ti
}

// jsonFields yields the fields of the struct type t that encoding/json
// writes, with their JSON names.
func jsonFields(t reflect.Type) iter.Seq2[reflect.StructField, string] {
	return func(yield func(reflect.StructField, string) bool) {
		for _, f := range reflect.VisibleFields(t) {
			if !f.IsExported() || f.Anonymous && f.Type.Kind() == reflect.Struct {
				continue
			}
			if name := jsonName(f); name != "-" && !yield(f, name) {
				return
			}
		}
	}
}

// jsonName is the JSON key encoding/json uses for f.
func jsonName(f reflect.StructField) string {
	tag := f.Tag.Get("json")
	if tag == "-" {
		return "-"
	}
	name, _, _ := strings.Cut(tag, ",")
	if name == "" {
		return f.Name
	}
	return name
}

// itemID returns the item's id and whether it has one (a non-empty string
// or a non-zero integer).
func (ti *typeInfo) itemID(item any) (any, bool) {
	if ti.isMap {
		m, _ := item.(map[string]any)
		id, ok := m["id"]
		if !ok || id == nil || id == "" {
			return nil, false
		}
		if f, ok := id.(float64); ok && f == float64(int64(f)) {
			return int64(f), f != 0
		}
		if n, ok := id.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				return i, i != 0
			}
		}
		return id, true
	}
	if ti.id == nil {
		return nil, false
	}
	v := reflect.ValueOf(item).FieldByIndex(ti.id)
	if v.IsZero() {
		return nil, false
	}
	return v.Interface(), true
}

// itemVersion returns the item's version, "" when it has none.
func (ti *typeInfo) itemVersion(item any) string {
	if ti.isMap {
		m, _ := item.(map[string]any)
		for _, k := range []string{"version", "__version"} {
			if s, ok := m[k].(string); ok {
				return s
			}
		}
		return ""
	}
	if ti.version == nil {
		return ""
	}
	return reflect.ValueOf(item).FieldByIndex(ti.version).String()
}

// setVersion writes v into *item's version, when the type has one.
func (ti *typeInfo) setVersion(item any, v string, legacy bool) {
	if ti.isMap {
		m, _ := reflect.ValueOf(item).Elem().Interface().(map[string]any)
		if m == nil {
			return
		}
		if legacy {
			m["__version"] = v
		} else {
			m["version"] = v
		}
		return
	}
	if ti.version == nil {
		return
	}
	reflect.ValueOf(item).Elem().FieldByIndex(ti.version).SetString(v)
}

// encodeItem marshals item for a request body with the system properties
// removed (the server rejects or misreads them), and an empty id removed
// (the server makes one).
func encodeItem(item any) ([]byte, error) {
	raw, err := json.Marshal(item)
	if err != nil {
		return nil, fmt.Errorf("zumo: encoding item: %w", err)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, fmt.Errorf("zumo: an item must encode as a JSON object, not %.40s", raw)
	}
	for k, v := range obj {
		if isSystemProp(k) {
			delete(obj, k)
			continue
		}
		if strings.EqualFold(k, "id") {
			s := string(v)
			if s == `""` || s == "null" || s == "0" {
				delete(obj, k)
			}
		}
	}
	return json.Marshal(obj)
}

// legacyNames renames the "__" system properties of one JSON object (or
// each object of an array) to the bare names the struct declares. It is
// only needed for legacy Mobile Services and structs without "__" tags.
func legacyNames(raw json.RawMessage) (json.RawMessage, error) {
	trim := strings.TrimSpace(string(raw))
	if strings.HasPrefix(trim, "[") {
		var arr []json.RawMessage
		if err := json.Unmarshal(raw, &arr); err != nil {
			return nil, err
		}
		for i := range arr {
			r, err := legacyNames(arr[i])
			if err != nil {
				return nil, err
			}
			arr[i] = r
		}
		return json.Marshal(arr)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return nil, err
	}
	for k, v := range obj {
		if strings.HasPrefix(k, "__") && isSystemProp(k) {
			delete(obj, k)
			obj[k[2:]] = v
		}
	}
	return json.Marshal(obj)
}

// idHash hashes the id of the item p points to (a *T) with seed; false
// when the item has no id.
func (ti *typeInfo) idHash(p any, seed maphash.Seed) (uint64, bool) {
	var buf [24]byte
	if ti.isMap {
		var id any
		if mp, ok := p.(*map[string]any); ok {
			id = (*mp)["id"]
		} else if v := reflect.ValueOf(p).Elem(); v.Kind() == reflect.Map && !v.IsNil() {
			// A named map type (type Row map[string]any).
			if iv := v.MapIndex(reflect.ValueOf("id")); iv.IsValid() {
				id = iv.Interface()
			}
		}
		switch id := id.(type) {
		case string:
			return maphash.String(seed, id), id != ""
		case json.Number:
			return maphash.String(seed, string(id)), true
		case float64:
			// Beyond 2^53 distinct integer ids decode to the same float:
			// not an id to tell items apart by.
			return maphash.Bytes(seed, strconv.AppendFloat(buf[:0], id, 'g', -1, 64)), math.Abs(id) < 1<<53
		}
		return 0, false
	}
	if ti.id == nil {
		return 0, false
	}
	v, err := reflect.ValueOf(p).Elem().FieldByIndexErr(ti.id)
	if err != nil {
		return 0, false
	}
	switch v.Kind() {
	case reflect.String:
		return maphash.String(seed, v.String()), v.Len() > 0
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return maphash.Bytes(seed, strconv.AppendInt(buf[:0], v.Int(), 10)), v.Int() != 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return maphash.Bytes(seed, strconv.AppendUint(buf[:0], v.Uint(), 10)), v.Uint() != 0
	}
	return 0, false
}

// pageKey identifies the set of items on a page, whatever their order:
// their number and the sum of their ids' hashes. ok is false when an item
// has no id.
type pageKey struct {
	n   int
	sum uint64
}

func idSetKey[T any](ti *typeInfo, items []T, seed maphash.Seed) (k pageKey, ok bool) {
	k, ok = pageKey{n: len(items)}, true
	for i := range items {
		h, has := ti.idHash(&items[i], seed)
		ok = ok && has
		k.sum += h
	}
	return k, ok
}
