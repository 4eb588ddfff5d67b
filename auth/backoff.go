package auth

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"time"
)

// The login back-off: after a login the service refused, requests do not
// ask the Authenticator again for a while.

// heldBack returns an error wrapping ErrLoginBackoff and the failure while
// the back-off after a failed login lasts; nil otherwise. Only the
// Authenticator is held back: the store, and a refresh, are still tried.
func (h *Handler) heldBack() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failErr != nil && time.Now().Before(h.failUntil) {
		return fmt.Errorf("%w: %w", ErrLoginBackoff, h.failErr)
	}
	return nil
}

// noteOutcome starts or lengthens the back-off after a failed login, and
// lets the Authenticator be asked again after a success; h.mu must be
// held. The doubling itself restarts only when the server accepts a token
// (see served): a login whose token the server refuses is no success. A
// flight overruled by SetUser or Logout (which end the back-off
// themselves) counts for nothing, nor does a failure that another login
// cannot mend (no Authenticator, a logout), nor one where the service
// could not be reached: the back-off is for a service that answers and
// refuses, and must not hold back the first login once it answers again.
func (h *Handler) noteOutcome(f *flight, err error) {
	switch {
	case h.gen != f.gen:
	case err == nil:
		h.failErr = nil
	case errors.Is(err, ErrLoginBackoff), errors.Is(err, ErrNoAuthenticator), errors.Is(err, ErrLoggedOut), unreachable(err):
	default:
		h.backOff(err)
	}
}

// backOff starts or lengthens the back-off with err as its reason; h.mu
// must be held.
func (h *Handler) backOff(err error) {
	if h.backoff <= 0 {
		return
	}
	h.failWait = min(max(2*h.failWait, h.backoff), h.backoffMax)
	h.failErr, h.failUntil = err, time.Now().Add(h.failWait)
}

// served notes that the server answered a request carrying st's token
// with something other than 401. For a token this handler's login or
// refresh returned, that ends the doubling of the back-off.
func (h *Handler) served(st *state) {
	if st.served.Swap(true) || !st.issued {
		return
	}
	h.mu.Lock()
	if h.failErr == nil {
		h.failWait = 0
	}
	h.mu.Unlock()
}

// unreachable reports whether err says the service could not be reached
// (a dial, a reset connection, a timeout), as opposed to an answer.
func unreachable(err error) bool {
	var le *LoginError
	if errors.As(err, &le) {
		return false
	}
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}
