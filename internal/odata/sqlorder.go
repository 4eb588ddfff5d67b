package odata

import (
	"encoding/json"
	"strconv"
	"strings"
)

// SQLOrderCompare compares two JSON-decoded values (nil, bool, float64,
// int64, json.Number, string, maps and slices) the way SQLite's ORDER BY
// compares what json_extract returns for them: null first, then numbers
// (booleans are 0 and 1) by value, exactly across integers and floats,
// then strings byte-wise; maps and slices compare as their JSON text,
// after strings. It returns -1, 0 or +1.
func SQLOrderCompare(a, b any) int {
	ca, cb := orderClass(a), orderClass(b)
	if ca != cb {
		return cmpInt(int64(ca), int64(cb))
	}
	switch ca {
	case 0:
		return 0
	case 1:
		ia, fa, aInt := orderNum(a)
		ib, fb, bInt := orderNum(b)
		switch {
		case aInt && bInt:
			return cmpInt(ia, ib)
		case aInt:
			return cmpIntFloat(ia, fb)
		case bInt:
			return -cmpIntFloat(ib, fa)
		}
		return cmpFloat(fa, fb)
	case 2:
		return strings.Compare(a.(string), b.(string))
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return strings.Compare(string(ja), string(jb))
}

// orderClass is SQLite's storage class order: NULL, numeric, TEXT, then
// the JSON text of containers.
func orderClass(x any) int {
	switch x.(type) {
	case nil:
		return 0
	case bool, float64, int64, int, json.Number:
		return 1
	case string:
		return 2
	}
	return 3
}

func orderNum(x any) (int64, float64, bool) {
	switch v := x.(type) {
	case bool:
		return b2i(v), 0, true
	case int64:
		return v, 0, true
	case int:
		return int64(v), 0, true
	case float64:
		return 0, v, false
	case json.Number:
		if i, err := strconv.ParseInt(string(v), 10, 64); err == nil {
			return i, 0, true
		}
		f, _ := strconv.ParseFloat(string(v), 64)
		return 0, f, false
	}
	return 0, 0, false
}
