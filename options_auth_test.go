package zumo

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/auth"
)

// WithUser, WithAuthenticator and WithUserStore are the one way to say who
// logs in: given together with the same auth options through WithAuth,
// the client's own win, whatever the order.
func TestWithAuthClientOptionsWin(t *testing.T) {
	mine, theirs := NewUser("sid:mine", "t1"), NewUser("sid:theirs", "t2")
	tests := []struct {
		name string
		opts []Option
	}{
		{"WithAuth first", []Option{WithAuth(auth.WithUser(theirs)), WithUser(mine)}},
		{"WithAuth last", []Option{WithUser(mine), WithAuth(auth.WithUser(theirs))}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient("https://app.example/", tt.opts...)
			require.NoError(t, err)
			assert.Same(t, mine, c.CurrentUser())
		})
	}
	c, err := NewClient("https://app.example/", WithAuth(auth.WithUser(theirs)))
	require.NoError(t, err)
	assert.Same(t, theirs, c.CurrentUser(), "WithAuth alone still configures the handler")
}
