package auth

import (
	"context"
	"log/slog"
	"math"
	"sync/atomic"
	"time"
)

// How long a user stays usable: the expiry rule with the skew, on both
// clocks, allowing the server's whole-second iat.

// state is the current user with its header value made once, so the hot
// path neither parses nor allocates.
type state struct {
	user          *User
	hdr           []string
	rejected      atomic.Bool // the server answered 401 to this token
	refreshFailed atomic.Bool // the server refused to refresh this token
	served        atomic.Bool // the server answered a request with it (not 401)
	adopted       bool        // taken from the store, not from a login or refresh
	issued        bool        // from this handler's own login or refresh

	// The token stays usable while now.Sub(born) < fresh on the monotonic
	// clock and now is before wallEnd on the wall clock — one clock read
	// per request, no parsing. Both are checked because each misses a
	// case: the monotonic clock stands still while the machine sleeps (a
	// laptop lid closed past the expiry), and the wall clock can be set
	// back.
	born    time.Time
	fresh   time.Duration // math.MaxInt64: no expiry
	wallEnd time.Time     // zero: no expiry
}

// clockWarn is how far this machine's clock must be from the server's
// before the handler says so in its log.
const clockWarn = 5 * time.Second

// newState wraps u for installing and works out how long it stays usable.
// asked is when the login or refresh that returned u was sent; zero when
// u comes from elsewhere (the store, SetUser, WithUser).
//
// The rule is User.ExpiredWithin's with the handler's skew: expired when
// the claims cannot be read or now ≥ exp − skew. Two exceptions, both for
// a token this handler was just given by the server: one whose claims
// cannot be read is used until the server answers 401 (not a login per
// request), and exp is moved by how far this machine's clock is, at
// least, from the server's (see clockOffset).
func (h *Handler) newState(u *User, asked time.Time) *state {
	now := time.Now()
	st := &state{user: u, hdr: []string{u.Token()}, issued: !asked.IsZero(), born: now, fresh: math.MaxInt64}
	exp, ok := u.ExpiresAt()
	switch {
	case u.unreadable && st.issued:
		return st
	case u.unreadable:
		st.fresh, st.wallEnd = 0, now.Round(0)
		return st
	case !ok:
		return st
	}
	if st.issued {
		if off := clockOffset(u, asked, now); off != 0 {
			exp = exp.Add(off)
			if off >= clockWarn || off <= -clockWarn {
				h.warn(context.Background(), "auth: this machine's clock differs from the server's (is it ahead of the server's, or behind?); judging the token's expiry by the server's clock",
					slog.Duration("at_least", off.Abs()))
			}
		}
	}
	left, skew := exp.Sub(now), h.skewFor(u)
	st.fresh = 0
	if left > skew {
		st.fresh = left - skew
	}
	st.wallEnd = now.Round(0).Add(st.fresh)
	return st
}

// clockOffset returns how far this machine's clock is at least ahead of
// the server's (positive) or behind it (negative), told by the iat of a
// token the server issued between asked and now on this machine's clock;
// 0 when they may agree. The server writes iat in whole seconds, so it
// may be up to a second earlier than the true issue time: a token received
// 0.7 s into its issuing second is not a sign of a clock ahead.
func clockOffset(u *User, asked, now time.Time) time.Duration {
	iat, ok := u.IssuedAt()
	if !ok {
		return 0
	}
	if ahead := asked.Round(0).Sub(iat) - time.Second; ahead > 0 {
		return ahead
	}
	if behind := iat.Sub(now.Round(0)); behind > 0 {
		return -behind
	}
	return 0
}

// skewFor is how long before u's expiry its token is replaced: the
// configured skew, but at most a quarter of the token's lifetime (exp −
// iat), so that a token issued for less than the skew is used for most of
// its life instead of costing a login per request.
func (h *Handler) skewFor(u *User) time.Duration {
	if lt, ok := u.Lifetime(); ok && lt/4 < h.skew {
		return lt / 4
	}
	return h.skew
}

// expiredSoon reports whether u's token is expired or within its skew.
func (h *Handler) expiredSoon(u *User) bool { return u.ExpiredWithin(time.Now(), h.skewFor(u)) }

// inGrace reports whether u's token may still be refreshed: readable, and
// not expired for longer than the refresh grace.
func (h *Handler) inGrace(u *User) bool {
	return !u.unreadable && !u.ExpiredWithin(time.Now().Add(-h.grace), 0)
}

// usable reports whether st can be sent as it is.
func (h *Handler) usable(st *state) bool {
	if st == nil || st.rejected.Load() {
		return false
	}
	if st.fresh == math.MaxInt64 {
		return true
	}
	now := time.Now()
	return now.Sub(st.born) < st.fresh && now.Before(st.wallEnd)
}
