package odata

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"
)

// fuzzRows are the rows every successfully parsed filter is matched against.
func fuzzRows() []map[string]any {
	return []map[string]any{
		nil,
		{},
		sampleRow(),
		benchRow(),
		{"a": nil, "b": true, "c": int64(-9223372036854775808), "d": json.Number("1e999"),
			"e": "", "f": time.Time{}, "g": []any{}, "x": 0.0, "id": "x"},
		{"a": "2024-01-01T00:00:00Z", "b": json.Number("nope"), "c": math.Copysign(0, -1), "x": 1, "text": "ééé"},
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{
		benchFilter,
		"(Updated eq null)",
		"((id mod 2L) eq 1L)",
		"(Weight gt 1.3f)",
		"(WeightInKG eq 4.0) or (Big lt 6.02E+25)",
		"(Price gt 50M) and (Name eq 'O''Brien')",
		"(createdAt gt datetime'1994-10-14T00:00:00.000Z')",
		"(updatedAt ge datetimeoffset'1994-10-13T17:00:00.0000000+07:00')",
		"(id eq guid'8c0d5a5e-1b2c-4d3e-8f90-a1b2c3d4e5f6')",
		"not(complete)",
		"substringof('a',text) and indexof(text,'b') ge -1",
		"replace(substring(text,1,2),'a','b') eq concat(tolower(a),toupper(trim(b)))",
		"round(x) add floor(x) sub ceiling(x) mul -x div 2 mod 3 eq length(text)",
		"year(a) eq month(a) or day(a) eq hour(a) or minute(a) eq second(a)",
		"dur lt time'PT1H'",
		"obj/y/z eq 'deep'",
		"not not -x lt 1",
		"(",
		"'unterminated",
	} {
		f.Add(s)
	}
	rows := fuzzRows()
	f.Fuzz(func(t *testing.T, src string) {
		flt, err := ParseFilter(src)
		if err != nil {
			var se *SyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("ParseFilter(%q): error %T, want *SyntaxError", src, err)
			}
			if se.Pos < 0 || se.Pos > len(src) {
				t.Fatalf("ParseFilter(%q): position %d out of range", src, se.Pos)
			}
			_ = err.Error()
			if flt != nil {
				t.Fatalf("ParseFilter(%q): non-nil filter with an error", src)
			}
			return
		}
		// not(F) is the SQL negation: F and not(F) are never both true
		// (with null, both are false).
		neg, negErr := ParseFilter("not(" + src + ")")
		for _, row := range rows {
			ok, err := flt.Match(row)
			if vals, bound := bindRow(flt, row); bound {
				vok, verr := flt.MatchValues(vals)
				if vok != ok || (verr == nil) != (err == nil) || (err != nil && verr.Error() != err.Error()) {
					t.Fatalf("MatchValues(%q) = %v, %v; Match = %v, %v", src, vok, verr, ok, err)
				}
			}
			if negErr == nil && err == nil {
				nok, nerr := neg.Match(row)
				if nerr == nil && ok && nok {
					t.Fatalf("both %q and its negation match %v", src, row)
				}
			}
			if err != nil {
				var ee *EvalError
				if !errors.As(err, &ee) {
					t.Fatalf("Match(%q): error %T, want *EvalError", src, err)
				}
				if ok {
					t.Fatalf("Match(%q): true with an error", src)
				}
				_ = err.Error()
			}
		}
		// ParseOrderBy and ParseSelect must not panic either.
		if _, err := ParseOrderBy(src); err != nil && !strings.HasPrefix(err.Error(), "invalid $orderby") {
			t.Fatalf("ParseOrderBy(%q): %v", src, err)
		}
		if _, err := ParseSelect(src); err != nil && !strings.HasPrefix(err.Error(), "invalid $select") {
			t.Fatalf("ParseSelect(%q): %v", src, err)
		}
	})
}
