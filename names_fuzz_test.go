package zumo

import (
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/zumo-go/zumo/internal/wire"
)

// FuzzAppURL: NewClient never panics, and an app URL it accepts is an
// absolute http(s) URL ending in "/", without query, fragment or user
// info, whose port (if any) is a real one; anything else wraps
// ErrInvalidAppURL.
func FuzzAppURL(f *testing.F) {
	for _, s := range []string{"https://app.example/", "http://127.0.0.1:8080/app", "https://host:99999/",
		"http://host:0/", "https://host:65535", "ftp://x/", "https://u:p@h/", "https://h/?q", "https://h/#f",
		"https://[::1]:443/", "http://h:/", "https://h/a%2Fb", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := NewClient(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidAppURL) {
				t.Fatalf("NewClient(%q): %v does not wrap ErrInvalidAppURL", s, err)
			}
			return
		}
		u, err := url.Parse(c.AppURL())
		if err != nil {
			t.Fatalf("accepted %q gives an unparsable app URL %q", s, c.AppURL())
		}
		if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" ||
			u.User != nil || !strings.HasSuffix(u.Path, "/") {
			t.Fatalf("accepted %q as %q", s, c.AppURL())
		}
		if p := u.Port(); p != "" {
			if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
				t.Fatalf("accepted %q with port %q", s, p)
			}
		}
	})
}

// FuzzNames: a table or API name is refused before anything is built
// when it holds a control character or invalid UTF-8, and a table name
// that is accepted makes a table URL on the app's origin.
func FuzzNames(f *testing.F) {
	for _, s := range []string{"todoitem", "a\x00b", "a\nb", "..", "a/b", "/.auth/me", "api/sub/", "héllo", "\xff"} {
		f.Add(s)
	}
	c, err := NewClient("https://app.example/base/")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name string) {
		bad := !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0
		tbl := GetTable[map[string]any](c, name)
		if bad && !errors.Is(tbl.err, ErrInvalidName) {
			t.Fatalf("table name %q accepted", name)
		}
		if tbl.err == nil && !sameOrigin(tbl.url, c.base) {
			t.Fatalf("table %q is on another origin: %s", name, tbl.url)
		}
		u, err := c.apiURL(name, nil)
		if bad && !errors.Is(err, ErrInvalidName) {
			t.Fatalf("API name %q accepted: %v", name, err)
		}
		if err == nil && !sameOrigin(u, c.base) {
			t.Fatalf("API %q is on another origin: %s", name, u)
		}
	})
}

// FuzzID: an id is accepted only when the service could store it (1–255
// UTF-16 units, valid UTF-8, no control character, not a path step), and
// an accepted id — whatever "/", "?", "#", "%" or unicode it holds — makes
// exactly one path segment under the table's URL that decodes back to it.
func FuzzID(f *testing.F) {
	for _, s := range []string{"a1", "a/b", "a?b#c", "50%", "..", ".", "", "héllo", "\xff", "a\x00", strings.Repeat("😀", 128), strings.Repeat("x", 255)} {
		f.Add(s)
	}
	base, err := url.Parse("https://app.example/tables/todoitem")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, id string) {
		got, err := formatID(id)
		ok := id != "" && id != "." && id != ".." && wire.UTF16Len(id) <= wire.MaxIDLength &&
			utf8.ValidString(id) && strings.IndexFunc(id, unicode.IsControl) < 0
		if ok != (err == nil) {
			t.Fatalf("id %q: accepted=%v, want %v (%v)", id, err == nil, ok, err)
		}
		if err != nil {
			var ie *InvalidIDError
			if !errors.As(err, &ie) {
				t.Fatalf("id %q: error %T is not an *InvalidIDError", id, err)
			}
			return
		}
		u := itemURL(base, got)
		rest, found := strings.CutPrefix(u.EscapedPath(), "/tables/todoitem/")
		if !found || strings.Contains(rest, "/") {
			t.Fatalf("id %q: URL %s is not one segment under the table", id, u)
		}
		back, err := url.PathUnescape(rest)
		if err != nil || back != id {
			t.Fatalf("id %q: segment %q decodes to %q (%v)", id, rest, back, err)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.Host != base.Host {
			t.Fatalf("id %q: URL %s leaves the item path", id, u)
		}
	})
}
