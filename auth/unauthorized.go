package auth

// The 401 loop: log in again once for every request refused with the same
// token, resend with the body replayed, and stop when a login cannot help.

import (
	"bytes"
	"context"
	"fmt"
	"hash/maphash"
	"io"
	"net/http"
	"slices"

	"github.com/zumo-go/zumo/internal/wire"
)

// maxKept401 is how much of a 401 body is held in memory while the handler
// logs in; the rest, if any, stays unread on the original connection.
const maxKept401 = 1 << 20

// handle401 logs in again (once for every request that got a 401 with the
// same token) and resends req, up to h.attempts times.
func (h *Handler) handle401(req *http.Request, next http.RoundTripper, sent *state, resp *http.Response) (*http.Response, error) {
	ctx := req.Context()
	freeUsed := false
	for attempt := 0; ; attempt++ {
		if attempt >= h.attempts {
			return withCause(resp, ErrStillUnauthorized), nil
		}
		if sent != nil {
			h.reject(sent)
		}
		replayable := req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
		if !replayable {
			return withCause(resp, ErrBodyNotReplayable), nil
		}
		if h.authn == nil {
			return withCause(resp, ErrNoAuthenticator), nil
		}
		// Keep the 401 intact while logging in, in case the login fails.
		kept, err := keep(resp)
		if err != nil {
			return nil, err
		}
		nst, err := h.obtain(ctx, sent, needAfter401)
		if err != nil {
			return withCause(kept, err), nil
		}
		r := withToken(req, nst)
		if req.GetBody != nil && req.Body != nil && req.Body != http.NoBody {
			body, err := req.GetBody()
			if err != nil {
				return withCause(kept, fmt.Errorf("auth: replaying body: %w", err)), nil
			}
			r.Body = body
		}
		wire.CloseBody(kept)
		h.resends.Add(1)
		resp, err = next.RoundTrip(r)
		if err != nil {
			return resp, err
		}
		if resp.StatusCode != http.StatusUnauthorized {
			h.served(nst)
			return resp, nil
		}
		if h.refusedFresh(nst) {
			return withCause(resp, fmt.Errorf("%w: %w", ErrStillUnauthorized, ErrFreshTokenRefused)), nil
		}
		if nst.adopted && !freeUsed {
			// The token came from the store (another process saved it),
			// not from a login, and it was stale too: that round cost no
			// login, so it does not count. Once per request, so the loop
			// stays bounded.
			freeUsed = true
			attempt--
		}
		sent = nst
	}
}

// refusedFresh handles a 401 to st's token: when this handler's login or
// refresh has just returned it and no request with it has been answered
// otherwise, the server refuses the tokens it issues. That counts as a
// failed login for the back-off, and st is rejected. It reports whether
// it was so.
func (h *Handler) refusedFresh(st *state) bool {
	if !st.issued || st.served.Load() {
		return false
	}
	if !h.reject(st) {
		return true // noted by another request's 401
	}
	h.mu.Lock()
	h.backOff(ErrFreshTokenRefused)
	h.mu.Unlock()
	h.warn(context.Background(), "auth: the server refused a token it had just issued; backing off before the next login")
	return true
}

// reject marks st's token as refused by the server, so no request sends it
// again and the store's copy of it is not adopted.
// It reports whether this call marked it (false: already marked).
func (h *Handler) reject(st *state) bool {
	if st.rejected.Swap(true) {
		return false
	}
	h.mu.Lock()
	if len(h.rejected) == maxRejected {
		copy(h.rejected, h.rejected[1:])
		h.rejected = h.rejected[:maxRejected-1]
	}
	h.rejected = append(h.rejected, maphash.String(h.seed, st.user.Token()))
	h.mu.Unlock()
	return true
}

// maxRejected is how many refused tokens the handler remembers.
const maxRejected = 16

// wasRejected reports whether the server refused tok; h.mu must be held.
// Only hashes are kept: a handler printed with %#v shows no token.
func (h *Handler) wasRejected(tok string) bool {
	return slices.Contains(h.rejected, maphash.String(h.seed, tok))
}

// keep reads a 401's body into memory (up to maxKept401; the rest stays
// on the connection) so the response can be handed back intact later.
func keep(resp *http.Response) (*http.Response, error) {
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxKept401))
	if err != nil {
		resp.Body.Close()
		return nil, fmt.Errorf("auth: reading 401 response: %w", err)
	}
	r := *resp
	if len(head) < maxKept401 {
		resp.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(head))
	} else {
		r.Body = struct {
			io.Reader
			io.Closer
		}{io.MultiReader(bytes.NewReader(head), resp.Body), resp.Body}
	}
	return &r, nil
}

func withCause(resp *http.Response, cause error) *http.Response {
	r := *resp
	r.Body = &causeBody{ReadCloser: resp.Body, cause: cause}
	return &r
}

func closeReqBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
