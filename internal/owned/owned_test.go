package owned

import (
	"net/http"
	"testing"
)

func TestMark(t *testing.T) {
	h := http.Header{}
	if Is(h) {
		t.Error("empty header is owned")
	}
	Mark(h)
	if !Is(h) {
		t.Error("marked header is not owned")
	}
	// Copies are not owned: a clone, the copy net/http makes for a
	// redirect, a header that merely has the same value.
	if Is(h.Clone()) {
		t.Error("a clone is owned")
	}
	if Is(http.Header{Header: {""}}) {
		t.Error("an equal value is owned")
	}
	r, _ := http.NewRequest("GET", "https://a.example/", nil)
	Mark(r.Header)
	if Is(r.Clone(r.Context()).Header) {
		t.Error("a cloned request is owned")
	}
	if !Is(r.WithContext(r.Context()).Header) {
		t.Error("a shallow copy shares the header and stays owned")
	}
	// Setting the token replaces the marker.
	h.Set(Header, "tok")
	if Is(h) {
		t.Error("owned after the token was set")
	}
	// Appending to the marker does not make a larger owned value, and
	// does not change the marker itself.
	Mark(h)
	h.Add(Header, "x")
	if Is(h) || len(marker) != 1 || marker[0] != "" {
		t.Error("append changed the marker")
	}
}
