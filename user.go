package zumo

import (
	"context"

	"github.com/zumo-go/zumo/auth"
)

// User is a logged-in user: its id and authentication token, with the
// token's expiry read once from its exp claim. It is auth.User; see there
// for ExpiresAt, ExpiredWithin and Provider. Printing a User never shows
// its token.
type User = auth.User

// NewUser returns a user with the given id and token (see auth.NewUser).
func NewUser(userID, token string) *User { return auth.NewUser(userID, token) }

// Login logs in with a provider (client-directed login): body is the
// provider's token, such as map[string]string{"access_token": t}, or a
// backend's custom credentials. The new user becomes current, is saved to
// the user store and is announced to the WithOnUser callback. It returns a
// *auth.LoginError when the server refuses, or an error wrapping
// auth.ErrInvalidLoginResponse for a malformed answer.
func (c *Client) Login(ctx context.Context, provider string, body any) (*User, error) {
	u, err := c.svc.Login(ctx, provider, body)
	if err != nil {
		return nil, err
	}
	// The store's error does not undo the login; the handler logs it.
	_ = c.auth.SetUser(ctx, u)
	return u, nil
}

// LoginWithAuthenticator logs in now with the client's Authenticator
// (WithAuthenticator), sharing the login with any under way. It returns
// auth.ErrNoAuthenticator when the client has none.
func (c *Client) LoginWithAuthenticator(ctx context.Context) (*User, error) {
	return c.auth.Login(ctx)
}

// RefreshUser exchanges the current user's token for a fresh one through
// /.auth/refresh (Mobile Apps only) and makes the result current. (It is
// not Table.Refresh, which reloads a row.) It returns
// auth.ErrRefreshNotSupported on Mobile Services, an error when there is
// no user, or the server's refusal as a *auth.LoginError.
func (c *Client) RefreshUser(ctx context.Context) (*User, error) {
	cur, err := c.auth.LoadUser(ctx)
	if err != nil {
		return nil, err
	}
	if cur == nil {
		return nil, errNoUser
	}
	u, err := c.svc.Refresh(ctx, cur)
	if err != nil {
		return nil, err
	}
	_ = c.auth.SetUser(ctx, u)
	return u, nil
}

var errNoUser = auth.ErrNoUser

// SetUser makes u the current user and saves it to the user store; it
// returns the store's error, if any (u is current either way).
func (c *Client) SetUser(ctx context.Context, u *User) error { return c.auth.SetUser(ctx, u) }

// LoadUser returns the current user, loading it from the user store first
// if that has not happened yet; nil when there is none. It never logs in.
func (c *Client) LoadUser(ctx context.Context) (*User, error) { return c.auth.LoadUser(ctx) }

// Logout forgets the current user and clears it from the user store. It
// does not contact the server. It returns the store's error, if any.
func (c *Client) Logout(ctx context.Context) error { return c.auth.Logout(ctx) }
