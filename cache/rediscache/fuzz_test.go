package rediscache

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"strings"
	"testing"
	"time"

	"github.com/zumo-go/zumo/auth"
)

// FuzzDecodeEntry: any value under the key gives a user whose token matches
// the stored hash, or a corrupt-entry error that quotes nothing of the value.
func FuzzDecodeEntry(f *testing.F) {
	block, _ := aes.NewCipher(bytes.Repeat([]byte{7}, 32))
	aead, _ := cipher.NewGCM(block)
	u := newUser("sid:fuzz", time.Unix(2e9, 0))
	plain, _ := encodeEntry(nil, "zumo:{k}", "k", u, time.Unix(1e9, 0))
	sealed, _ := encodeEntry(aead, "zumo:{k}", "k", u, time.Unix(1e9, 0))
	for _, seed := range [][]byte{plain, sealed, []byte("null"), []byte(`{"v":1}`), []byte(`{"v":1,"th":"x","enc":""}`), {}} {
		f.Add(seed, false)
		f.Add(seed, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, encrypted bool) {
		a := cipher.AEAD(nil)
		if encrypted {
			a = aead
		}
		got, err := decodeEntry(a, "zumo:{k}", "k", data)
		if err != nil {
			if got != nil {
				t.Fatal("a user with an error")
			}
			if !isCorrupt(err) {
				t.Fatalf("error does not wrap ErrCorruptEntry: %v", err)
			}
			msg := err.Error()
			for _, w := range strings.Fields(string(data)) {
				if len(w) >= 12 && strings.Contains(msg, w) {
					t.Fatalf("error quotes the value: %q", msg)
				}
			}
			return
		}
		if got == nil || got.Token() == "" || got.ID() == "" {
			t.Fatal("no error and no complete user")
		}
	})
}

func isCorrupt(err error) bool {
	ce, ok := err.(*CorruptEntryError)
	return ok && ce.Entry == "zumo:{k}" && len(ce.Unwrap()) > 0 && ce.Unwrap()[0] == auth.ErrCorruptEntry
}
