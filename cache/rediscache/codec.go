package rediscache

import (
	"bytes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/zumo-go/zumo/auth"
)

// entryVersion is the value format this package writes and reads.
const entryVersion = 1

// aadLabel starts the additional data every encrypted value is
// authenticated with, ahead of its Redis key and token hash.
const aadLabel = "zumo-rediscache/v1\x00"

// tokenHash is the fingerprint of a token the compare-and-swap script
// compares: the hex SHA-256 of the token. The token itself is never sent to
// Redis except inside the entry.
func tokenHash(tok string) string {
	sum := sha256.Sum256([]byte(tok))
	return hex.EncodeToString(sum[:])
}

// entryOut is a value Save writes. Without encryption it carries the key,
// user and savedAt in the clear; with encryption only v, th and enc, where
// enc is base64(nonce || AES-GCM(inner)).
type entryOut struct {
	V       int        `json:"v"`
	TH      string     `json:"th"`
	Enc     string     `json:"enc,omitempty"`
	Key     string     `json:"key,omitempty"`
	User    *auth.User `json:"user,omitempty"`
	SavedAt *time.Time `json:"savedAt,omitempty"`
}

// innerOut is what an encrypted value encrypts.
type innerOut struct {
	Key     string     `json:"key"`
	User    *auth.User `json:"user"`
	SavedAt time.Time  `json:"savedAt"`
}

// entryIn is a value Load reads; pointers tell a missing field from a zero
// one.
type entryIn struct {
	V       *int            `json:"v"`
	TH      *string         `json:"th"`
	Enc     *string         `json:"enc"`
	Key     *string         `json:"key"`
	User    json.RawMessage `json:"user"`
	SavedAt *time.Time      `json:"savedAt"`
}

// aad is the additional data an encrypted value under redisKey with token
// hash th is authenticated with.
func aad(redisKey, th string) []byte {
	b := make([]byte, 0, len(aadLabel)+len(redisKey)+1+len(th))
	b = append(b, aadLabel...)
	b = append(b, redisKey...)
	b = append(b, 0)
	return append(b, th...)
}

// encodeEntry returns the value for u saved under authKey (Redis key
// redisKey) at now, encrypted when aead is not nil.
func encodeEntry(aead cipher.AEAD, redisKey, authKey string, u *auth.User, now time.Time) ([]byte, error) {
	th := tokenHash(u.Token())
	now = now.UTC()
	if aead == nil {
		return json.Marshal(entryOut{V: entryVersion, TH: th, Key: authKey, User: u, SavedAt: &now})
	}
	plain, err := json.Marshal(innerOut{Key: authKey, User: u, SavedAt: now})
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plain)+aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	sealed := aead.Seal(nonce, nonce, plain, aad(redisKey, th))
	clear(plain)
	return json.Marshal(entryOut{V: entryVersion, TH: th, Enc: base64.StdEncoding.EncodeToString(sealed)})
}

// decodeEntry reads a value from redisKey, checking it was saved under
// authKey. It returns the user, or a *CorruptEntryError whose message
// holds nothing from data.
func decodeEntry(aead cipher.AEAD, redisKey, authKey string, data []byte) (*auth.User, error) {
	corrupt := func(err error) (*auth.User, error) {
		return nil, &CorruptEntryError{Entry: redisKey, Err: err}
	}
	if len(data) > DefaultMaxEntrySize {
		return corrupt(fmt.Errorf("larger than the limit of %d bytes", DefaultMaxEntrySize))
	}
	var e entryIn
	if err := json.Unmarshal(data, &e); err != nil {
		return corrupt(jsonFault("entry", err))
	}
	switch {
	case string(bytes.TrimSpace(data)) == "null":
		return corrupt(errors.New("entry is not a JSON object"))
	case e.V == nil:
		return corrupt(errors.New("no format version"))
	case *e.V != entryVersion:
		return corrupt(fmt.Errorf("unsupported format version %d", *e.V))
	case e.TH == nil || *e.TH == "":
		return corrupt(errors.New("no token hash"))
	}
	key, rawUser := e.Key, e.User
	if e.Enc != nil {
		if aead == nil {
			return corrupt(errors.New("entry is encrypted but no encryption key is configured"))
		}
		if e.Key != nil || len(e.User) != 0 || e.SavedAt != nil {
			return corrupt(errors.New("encrypted entry has clear-text fields"))
		}
		sealed, err := base64.StdEncoding.DecodeString(*e.Enc)
		if err != nil {
			return corrupt(errors.New("encrypted data is not base64"))
		}
		if len(sealed) < aead.NonceSize()+aead.Overhead() {
			return corrupt(errors.New("encrypted data is too short"))
		}
		ns := aead.NonceSize()
		plain, err := aead.Open(nil, sealed[:ns], sealed[ns:], aad(redisKey, *e.TH))
		if err != nil {
			return corrupt(errors.New("cannot decrypt: wrong encryption key, or the value was saved under another key"))
		}
		defer clear(plain)
		var in entryIn
		if err := json.Unmarshal(plain, &in); err != nil {
			return corrupt(jsonFault("decrypted entry", err))
		}
		key, rawUser = in.Key, in.User
	} else if aead != nil {
		return corrupt(errors.New("entry is not encrypted but an encryption key is configured"))
	}
	switch {
	case key == nil:
		return corrupt(errors.New("no key"))
	case *key != authKey:
		return corrupt(errors.New("entry was saved under another key"))
	case len(rawUser) == 0 || string(rawUser) == "null":
		return corrupt(errors.New("no user"))
	}
	u := new(auth.User)
	if err := u.UnmarshalJSON(rawUser); err != nil {
		if errors.Is(err, auth.ErrInvalidUser) {
			return corrupt(errors.New("no user id or no token"))
		}
		return corrupt(jsonFault("user", err))
	}
	if tokenHash(u.Token()) != *e.TH {
		return corrupt(errors.New("token hash does not match the token"))
	}
	return u, nil
}
