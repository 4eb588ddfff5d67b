package cache

import (
	"bytes"
	"errors"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/zumo-go/zumo/auth"
)

// FuzzFileDecode checks that the entry decoder never panics and gives
// either a whole user or an error wrapping auth.ErrCorruptEntry, whose
// message never quotes the entry's token.
func FuzzFileDecode(f *testing.F) {
	const key = "zumo|https://app.example|alice"
	tok := fakeJWT(f, map[string]any{"sub": "sid:1", "exp": 1900000000})
	good, err := encodeEntry(key, auth.NewUser("sid:1", tok), time.Unix(1700000000, 0))
	if err != nil {
		f.Fatal(err)
	}
	seeds := [][]byte{
		good,
		good[:len(good)/2],
		nil,
		[]byte("null"),
		[]byte("[]"),
		[]byte(`{"v":1}`),
		[]byte(`{"v":2,"key":"` + key + `","user":{"userId":"a","authenticationToken":"b"}}`),
		[]byte(`{"v":1,"key":"` + key + `","user":{"userId":"a","authenticationToken":"b"}}`),
		[]byte(`{"v":1,"key":"` + key + `","user":{"userId":"a","authenticationToken":"b"},"savedAt":"` + tok + `"}`),
		[]byte(`{"v":1,"key":"` + key + `","user":{"userId":"a","authenticationToken":""}}`),
		[]byte(`{"v":1,"key":"` + key + `","user":"` + tok + `"}`),
		[]byte(`{"v":1e400,"key":"` + key + `"}`),
		[]byte(`{"V":1,"KEY":"` + key + `","User":{"USERID":"a","authenticationtoken":"b"}}`),
	}
	for _, s := range seeds {
		f.Add(s, key)
	}
	f.Add(good, "zumo|https://other.example|alice")

	f.Fuzz(func(t *testing.T, data []byte, key string) {
		const path = "/store/entry.json"
		u, err := decodeEntry(path, data, key)
		if err != nil {
			if u != nil {
				t.Fatalf("a user and an error: %v", err)
			}
			if !errors.Is(err, auth.ErrCorruptEntry) {
				t.Fatalf("error does not wrap ErrCorruptEntry: %v", err)
			}
			var ce *CorruptEntryError
			if !errors.As(err, &ce) || ce.Entry != path {
				t.Fatalf("error is not a *CorruptEntryError for %s: %#v", path, err)
			}
			// Nothing from the input may reach the message: a run of 12
			// input bytes found in it would be a leak.
			msg := []byte(err.Error())
			for i := 0; i+12 <= len(data); i++ {
				chunk := data[i : i+12]
				if bytes.Contains(msg, chunk) && !bytes.Contains([]byte(path), chunk) && !isFixedText(chunk) {
					t.Fatalf("message %q quotes input %q", msg, chunk)
				}
			}
			return
		}
		if u == nil || u.ID() == "" || u.Token() == "" {
			t.Fatalf("no error but user %v", u)
		}
		// A decoded user survives a Save and Load unchanged, when a Save
		// can write it.
		if !utf8.ValidString(key) {
			return
		}
		again, err := encodeEntry(key, u, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		u2, err := decodeEntry(path, again, key)
		if err != nil {
			t.Fatalf("re-encoded entry does not decode: %v", err)
		}
		if u2.ID() != u.ID() || (utf8.ValidString(u.Token()) && u2.Token() != u.Token()) {
			t.Fatalf("round trip changed the user: %v -> %v", u, u2)
		}
	})
}

// isFixedText reports whether chunk is part of a message this package
// writes itself, or a number it reports, so finding it in the message is no
// leak.
func isFixedText(chunk []byte) bool {
	// Numbers the message reports: a format version, a byte offset.
	if len(bytes.Trim(chunk, "-0123456789")) == 0 {
		return true
	}
	for _, s := range []string{
		"cache: unreadable user entry ", "entry is not valid JSON (syntax error at byte ",
		"is not a JSON object", "has the wrong JSON type", "unsupported format version",
		"no format version", "entry was saved under another key", "no user id or no token",
		"has a time that is not RFC 3339", "is malformed", "has a field of the wrong JSON type",
		`field "authenticationToken"`, `field "savedAt"`, `field "userId"`,
	} {
		if bytes.Contains([]byte(s), chunk) {
			return true
		}
	}
	return false
}
