package offline

import (
	"errors"
	"net/url"
	"testing"

	"github.com/zumo-go/zumo"
)

// FuzzParseLocalQuery reads any query string as a store would: it is
// refused with an error matching zumo.ErrInvalidQuery, or it gives a
// query whose parts are in range, whose filter prints back to itself,
// which compiles to SQL or says it cannot, and whose ordering is a
// consistent comparison.
func FuzzParseLocalQuery(f *testing.F) {
	for _, s := range []string{
		"",
		"$filter=" + url.QueryEscape("(n gt 1) and startswith(name,'a')") + "&$orderby=name%20desc,id&$skip=2&$top=5&$inlinecount=allpages",
		"$filter=" + url.QueryEscape("a/b eq 1") + "&$select=id,name",
		"$filter=" + url.QueryEscape("n mod 2 eq 1"),
		"$orderby=",
		"$skip=-1",
		"$top=99999999999999999999",
		"$filter=%zz",
		"$select=*&__includeDeleted=true",
		"$orderby=a%20asc,%20b",
	} {
		f.Add(s)
	}
	rows := []map[string]any{
		nil,
		{"id": "a", "name": "Milk", "n": 1.0},
		{"id": "b", "name": nil, "n": "2"},
		{"id": "c", "name": "\x00", "n": true, "when": "2024-01-01T00:00:00Z"},
	}
	sign := func(c int) int {
		switch {
		case c < 0:
			return -1
		case c > 0:
			return 1
		}
		return 0
	}
	f.Fuzz(func(t *testing.T, qs string) {
		q, sel, err := parseLocalQuery(qs)
		if err != nil {
			if !errors.Is(err, zumo.ErrInvalidQuery) {
				t.Fatalf("parseLocalQuery(%q): %v does not match zumo.ErrInvalidQuery", qs, err)
			}
			if q != nil || sel != nil {
				t.Fatalf("parseLocalQuery(%q): a query with an error", qs)
			}
			return
		}
		if q.Skip < 0 || q.Take < -1 {
			t.Fatalf("parseLocalQuery(%q): skip %d, take %d", qs, q.Skip, q.Take)
		}
		if text := q.Filter(); text != "" {
			again, _, err := parseLocalQuery("$filter=" + url.QueryEscape(text))
			if err != nil {
				t.Fatalf("filter %q of %q does not parse again: %v", text, qs, err)
			}
			if again.Filter() != text {
				t.Fatalf("filter %q prints as %q when parsed again", text, again.Filter())
			}
		}
		if _, _, _, err := q.SQL("d"); err != nil && !errors.Is(err, ErrUnsupportedQuery) {
			t.Fatalf("SQL of %q: %v does not match ErrUnsupportedQuery", qs, err)
		}
		for _, a := range rows {
			_, _ = q.Match(a)
			for _, b := range rows {
				if ab, ba := sign(q.Compare(a, b)), sign(q.Compare(b, a)); ab != -ba {
					t.Fatalf("ordering of %q: Compare(%v, %v) = %d but the reverse is %d", qs, a, b, ab, ba)
				}
			}
		}
	})
}
