package handler

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzRetryAfter feeds arbitrary Retry-After, Retry-After-Ms and
// X-Ms-Retry-After-Ms values to the retry handler's parser. It must not
// panic; a delay it accepts lies within [0, the cap]; a header it cannot
// read is no header (the backoff applies); and plain seconds within the
// cap are taken as they are.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []struct{ ra, ms, xms string }{
		{"2", "", ""}, {" 3 ", "", ""}, {"0", "", ""}, {"61", "", ""}, {"-5", "", ""}, {"1.5", "", ""},
		{"99999999999999999999", "", ""}, {"soon", "", ""}, {"Wed, 21 Oct 2015 07:28:00 GMT", "", ""},
		{"Sun, 06 Nov 2994 08:49:37 GMT", "", ""}, {"Sunday, 06-Nov-94 08:49:37 GMT", "", ""},
		{"", "250", ""}, {"", "", "1500"}, {"5", "60001", ""}, {"", "99999999999999999999", ""}, {"", " ", "x"},
		{"\t7\t", "", ""}, {"+5", "", ""}, {"٣", "", ""},
	} {
		f.Add(s.ra, s.ms, s.xms)
	}
	const maxRA = 30 * time.Second
	r := Retry(RetryMaxRetryAfter(maxRA)).(*retry)
	f.Fuzz(func(t *testing.T, ra, ms, xms string) {
		h := http.Header{}
		for k, v := range map[string]string{"Retry-After": ra, "Retry-After-Ms": ms, "X-Ms-Retry-After-Ms": xms} {
			if v != "" {
				h.Set(k, v)
			}
		}
		d, ok, has := r.retryAfter(&http.Response{StatusCode: http.StatusServiceUnavailable, Header: h})
		switch {
		case ok && !has:
			t.Fatalf("%v: ok without a header", h)
		case ok && (d < 0 || d > maxRA):
			t.Fatalf("%v: delay %v outside [0, %v]", h, d, maxRA)
		case !ok && d != 0:
			t.Fatalf("%v: delay %v with ok false", h, d)
		}
		msSet := isDigits(strings.TrimSpace(h.Get("Retry-After-Ms"))) || isDigits(strings.TrimSpace(h.Get("X-Ms-Retry-After-Ms")))
		if secs, err := strconv.ParseInt(strings.TrimSpace(h.Get("Retry-After")), 10, 64); err == nil && !msSet &&
			isDigits(strings.TrimSpace(h.Get("Retry-After"))) && secs <= int64(maxRA/time.Second) {
			if !ok || d != time.Duration(secs)*time.Second {
				t.Fatalf("Retry-After %q: got %v, %t; want %ds", ra, d, ok, secs)
			}
		}
		if h.Get("Retry-After") == "" && !msSet && has {
			t.Fatalf("%v: a header reported where none can be read", h)
		}
	})
}
