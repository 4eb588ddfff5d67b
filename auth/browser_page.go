package auth

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/zumo-go/zumo/internal/redact"
)

// pageScript reads the fragment (which never reaches a server), removes it
// from the address bar and the history, posts it to the callback URL (the
// same origin, with the state in the query) and shows the answer. It sends
// nothing anywhere else.
const pageScript = `(function () {
  var frag = location.hash.slice(1), target = location.pathname + location.search;
  history.replaceState(null, "", location.pathname);
  function show(t, m) {
    document.getElementById("t").textContent = t;
    document.getElementById("m").textContent = m;
  }
  fetch(target, {method: "POST", body: frag, credentials: "omit", cache: "no-store",
                 headers: {"Content-Type": "text/plain"}})
    .then(function (r) { return r.json(); })
    .then(function (j) { show(j.title, j.message); })
    .catch(function () { show("Login not finished", "The application is no longer waiting. You can close this tab."); });
})();`

const pageStyle = `body{font-family:system-ui,sans-serif;max-width:36em;margin:4em auto;padding:0 1em;line-height:1.5}`

// page is the loopback page; it holds no code, token or state.
var page = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="referrer" content="no-referrer">
<title>Login</title><style>` + pageStyle + `</style></head>
<body><h1 id="t">Finishing the login…</h1><p id="m">One moment.</p>
<noscript><p>This page needs script to hand the login back to the application.</p></noscript>
<script>` + pageScript + `</script></body></html>
`

// pageCSP allows exactly the page's own script and style, and requests to
// its own origin: no third-party request can be made.
var pageCSP = "default-src 'none'; script-src '" + cspHash(pageScript) + "'; style-src '" +
	cspHash(pageStyle) + "'; connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

func cspHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// pageAnswer is the JSON the callback POST answers with, shown by the page.
type pageAnswer struct {
	Title   string `json:"title"`
	Message string `json:"message"`
}

var (
	answerOK       = pageAnswer{"Logged in", "You are logged in. You can close this tab and return to the application."}
	answerFailed   = pageAnswer{"Login failed", "The login did not succeed; the application says why. You can close this tab."}
	answerDeclined = pageAnswer{"Login failed", "The service did not log you in. You can close this tab and try again."}
	answerState    = pageAnswer{"Login not accepted", "This page was not opened by the application's current login. Start the login again from the application."}
	answerDone     = pageAnswer{"Login already finished", "The application is no longer waiting for this login. You can close this tab."}
)

// maxFragment caps a posted fragment.
const maxFragment = 64 << 10

// ServeHTTP is the loopback server: GET /callback serves the page, POST
// /callback takes the fragment. Every answer is uncacheable and names no
// secret.
func (f *flow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	// A page on another site reaching 127.0.0.1 through a name of its own
	// (DNS rebinding) sends that name as Host.
	if r.Host != strings.TrimPrefix(f.origin, "http://") || r.URL.Path != "/callback" {
		http.NotFound(w, r)
		return
	}
	ok := subtle.ConstantTimeCompare([]byte(r.URL.Query().Get("state")), []byte(f.state)) == 1
	switch r.Method {
	case http.MethodGet:
		if !ok {
			f.mismatches.Add(1)
			h.Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusBadRequest)
			_, _ = io.WriteString(w, answerState.Title+". "+answerState.Message+"\n")
			return
		}
		h.Set("Content-Type", "text/html; charset=utf-8")
		h.Set("Content-Security-Policy", pageCSP)
		_, _ = io.WriteString(w, page)
	case http.MethodPost:
		f.post(w, r, ok)
	default:
		h.Set("Allow", "GET, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// post hands the fragment of the one accepted callback to Authenticate and
// answers with the outcome.
func (f *flow) post(w http.ResponseWriter, r *http.Request, stateOK bool) {
	if o := r.Header.Get("Origin"); o != "" && o != f.origin {
		f.mismatches.Add(1)
		answer(w, http.StatusForbidden, answerState)
		return
	}
	if !stateOK {
		f.mismatches.Add(1)
		answer(w, http.StatusBadRequest, answerState)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxFragment+1))
	if err != nil || len(body) > maxFragment {
		answer(w, http.StatusBadRequest, answerFailed)
		return
	}
	if !f.accepted.CompareAndSwap(false, true) {
		answer(w, http.StatusConflict, answerDone)
		return
	}
	cb := callback{fragment: string(body), reply: make(chan error, 1)}
	select {
	case f.callbacks <- cb:
	case <-f.done:
		answer(w, http.StatusServiceUnavailable, answerDone)
		return
	}
	var outcome error
	select {
	case outcome = <-cb.reply:
	case <-f.done:
		select { // the outcome is sent before done is closed
		case outcome = <-cb.reply:
		default:
			answer(w, http.StatusServiceUnavailable, answerDone)
			return
		}
	}
	var le *LoginError
	switch {
	case outcome == nil:
		answer(w, http.StatusOK, answerOK)
	case errors.As(outcome, &le) && le.StatusCode == 0:
		answer(w, http.StatusOK, answerDeclined)
	default:
		answer(w, http.StatusOK, answerFailed)
	}
}

func answer(w http.ResponseWriter, status int, a pageAnswer) {
	b, _ := json.Marshal(a)
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// parseFragment reads the fragment a callback carried (with or without its
// leading '#'): #authorization_code=<code> gives the code;
// #token=<url-encoded login JSON> gives the user; #error=<message> (with an
// optional error_description) a *LoginError; neither ErrLoginCancelled.
// Anything ambiguous or malformed is an error wrapping
// ErrInvalidLoginResponse. No error contains the code or the token.
func parseFragment(frag string) (code string, u *User, err error) {
	vals, perr := url.ParseQuery(strings.TrimPrefix(frag, "#"))
	if perr != nil {
		return "", nil, fmt.Errorf("%w: the callback's fragment does not parse", ErrInvalidLoginResponse)
	}
	for k, v := range vals {
		if len(v) > 1 {
			return "", nil, fmt.Errorf("%w: the callback's fragment repeats %q", ErrInvalidLoginResponse, k)
		}
	}
	_, hasCode := vals["authorization_code"]
	_, hasToken := vals["token"]
	if e := vals.Get("error"); e != "" {
		msg := e
		if d := vals.Get("error_description"); d != "" {
			msg += ": " + d
		}
		secrets := []string{vals.Get("authorization_code"), vals.Get("token")}
		return "", nil, &LoginError{Op: "login", Message: redact.String(msg, secrets...)}
	}
	switch {
	case hasCode && hasToken:
		return "", nil, fmt.Errorf("%w: the callback carries both a code and a token", ErrInvalidLoginResponse)
	case hasCode:
		c := vals.Get("authorization_code")
		if c == "" {
			return "", nil, fmt.Errorf("%w: empty authorization_code", ErrInvalidLoginResponse)
		}
		return c, nil, nil
	case hasToken:
		u, err := ParseLoginResponse([]byte(vals.Get("token")))
		return "", u, err
	}
	return "", nil, ErrLoginCancelled
}
