//go:build integration

package realserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/internal/realserver"
)

// TestPushInstallations registers and unregisters an installation with the
// official server, anonymously and signed in. Not hosted on Azure, the
// server has no notification hub: it answers both with 204 and keeps
// nothing, so this checks the wire form it accepts (path, method, body,
// headers), not a registration.
func TestPushInstallations(t *testing.T) {
	s := realserver.StartForTest(t, realserver.Options{})
	ctx := context.Background()
	tests := []struct {
		name string
		opts []zumo.Option
	}{
		{"anonymous", nil},
		{"signed in", []zumo.Option{zumo.WithAuthenticator(auth.Credentials("custom",
			map[string]string{"username": "testuser", "password": "testpassword"}))}},
	}
	in := zumo.Installation{
		PushChannel: "0A1B2C3D4E5F",
		Platform:    zumo.PlatformAPNS,
		Templates: map[string]zumo.PushTemplate{
			"alert": {Body: `{"aps":{"alert":"$(message)"}}`, Tags: []string{"news"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, err := zumo.InstallationIDFile(t.TempDir() + "/installation-id")
			require.NoError(t, err)
			c := newSDK(t, s, append([]zumo.Option{zumo.WithInstallationID(id)}, tt.opts...)...)
			if tt.opts != nil {
				_, err := c.LoginWithAuthenticator(ctx)
				require.NoError(t, err)
			}
			before := counters(t, s)
			require.NoError(t, c.Push().Register(ctx, in))
			require.NoError(t, c.Push().Unregister(ctx))
			require.NoError(t, c.Push().Unregister(ctx), "unregistering twice is not an error")

			err = c.Push().Register(ctx, zumo.Installation{PushChannel: "x", Platform: "fcm"})
			require.ErrorIs(t, err, zumo.ErrInvalidInstallation)
			after := counters(t, s)
			assert.Equal(t, 3, after.Requests-before.Requests, "the invalid installation was never sent")
			assert.Equal(t, 0, after.Unauthorized-before.Unauthorized)
		})
	}
}
