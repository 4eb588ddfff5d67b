package zumo_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/zumotest"
)

const installID = "4c0b5c6e-7d1e-4f4a-9a7e-2f8f3c1d0b9a"

func pushClient(t *testing.T, srv *zumotest.Server, opts ...zumo.Option) *zumo.Client {
	t.Helper()
	c, err := zumo.NewClient(srv.URL, append([]zumo.Option{zumo.WithHTTPClient(srv.Client()),
		zumo.WithInstallationID(installID)}, opts...)...)
	require.NoError(t, err)
	return c
}

func TestPushRegister(t *testing.T) {
	srv := zumotest.NewServer(t)
	c := pushClient(t, srv)
	ctx := context.Background()
	in := zumo.Installation{
		PushChannel: "0A1B2C3D",
		Platform:    zumo.PlatformAPNS,
		Templates: map[string]zumo.PushTemplate{
			"alert": {Body: `{"aps":{"alert":"$(message)"}}`, Tags: []string{"news"}},
		},
	}
	require.NoError(t, c.Push().Register(ctx, in))

	got, ok := srv.Installation(installID)
	require.True(t, ok, "registered under the client's installation id")
	assert.Equal(t, "0a1b2c3d", got.PushChannel, "APNs device tokens are sent in lower case")
	assert.Equal(t, "apns", got.Platform)
	assert.Equal(t, map[string]zumotest.InstallationTemplate{
		"alert": {Body: `{"aps":{"alert":"$(message)"}}`, Tags: []string{"news"}},
	}, got.Templates)
	assert.Empty(t, got.UserID)
	var wire map[string]any
	require.NoError(t, json.Unmarshal(got.Body, &wire))
	assert.ElementsMatch(t, []string{"pushChannel", "platform", "templates"}, keys(wire), "no top-level tags")
	tmpl := wire["templates"].(map[string]any)["alert"].(map[string]any)
	assert.IsType(t, "", tmpl["body"], "a template body is a JSON string")

	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	assert.Equal(t, http.MethodPut, last.Method)
	assert.Equal(t, "/push/installations/"+installID, last.Path)
	assert.Equal(t, installID, last.Header.Get("X-ZUMO-INSTALLATION-ID"))
	assert.Equal(t, "2.0.0", last.Header.Get("ZUMO-API-VERSION"))

	// No templates: the field is left out.
	require.NoError(t, c.Push().Register(ctx, zumo.Installation{PushChannel: "tok:en-1", Platform: zumo.PlatformGCM}))
	got, _ = srv.Installation(installID)
	assert.JSONEq(t, `{"pushChannel":"tok:en-1","platform":"gcm"}`, string(got.Body))

	require.NoError(t, c.Push().Unregister(ctx))
	_, ok = srv.Installation(installID)
	assert.False(t, ok)
	require.NoError(t, c.Push().Unregister(ctx), "unregistering twice is not an error")
}

func keys(m map[string]any) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

func TestPushRegisterSignedIn(t *testing.T) {
	srv := zumotest.NewServer(t)
	c := pushClient(t, srv, zumo.WithUser(zumo.NewUser("sid:ann", srv.IssueToken("sid:ann", 0))))
	require.NoError(t, c.Push().Register(context.Background(),
		zumo.Installation{PushChannel: "https://wns.example/ch?token=1", Platform: zumo.PlatformWNS}))
	got, ok := srv.Installation(installID)
	require.True(t, ok)
	assert.Equal(t, "sid:ann", got.UserID, "the user's token went with the registration")
	assert.Equal(t, []string{"_UserId:sid:ann"}, got.Tags)
}

func TestPushRegisterInvalid(t *testing.T) {
	valid := zumo.Installation{PushChannel: "abc", Platform: zumo.PlatformGCM}
	with := func(f func(*zumo.Installation)) zumo.Installation {
		in := valid
		f(&in)
		return in
	}
	tests := []struct {
		name string
		in   zumo.Installation
	}{
		{"no platform", with(func(in *zumo.Installation) { in.Platform = "" })},
		{"unknown platform", with(func(in *zumo.Installation) { in.Platform = "fcm" })},
		{"platform in upper case", with(func(in *zumo.Installation) { in.Platform = "GCM" })},
		{"no channel", with(func(in *zumo.Installation) { in.PushChannel = "" })},
		{"channel with a newline", with(func(in *zumo.Installation) { in.PushChannel = "a\nb" })},
		{"channel not UTF-8", with(func(in *zumo.Installation) { in.PushChannel = "a\xffb" })},
		{"APNs token not hex", zumo.Installation{PushChannel: "xyz0", Platform: zumo.PlatformAPNS}},
		{"APNs token of odd length", zumo.Installation{PushChannel: "abc", Platform: zumo.PlatformAPNS}},
		{"APNs token in angle brackets", zumo.Installation{PushChannel: "<0a1b>", Platform: zumo.PlatformAPNS}},
		{"WNS channel not https", zumo.Installation{PushChannel: "http://wns.example/ch", Platform: zumo.PlatformWNS}},
		{"WNS channel not a URL", zumo.Installation{PushChannel: "channel", Platform: zumo.PlatformWNS}},
		{"template without a body", with(func(in *zumo.Installation) { in.Templates = map[string]zumo.PushTemplate{"t": {}} })},
		{"template with a blank body", with(func(in *zumo.Installation) { in.Templates = map[string]zumo.PushTemplate{"t": {Body: " \n"}} })},
		{"template body not UTF-8", with(func(in *zumo.Installation) { in.Templates = map[string]zumo.PushTemplate{"t": {Body: "\xff"}} })},
		{"template without a name", with(func(in *zumo.Installation) { in.Templates = map[string]zumo.PushTemplate{"": {Body: "b"}} })},
		{"template with an empty tag", with(func(in *zumo.Installation) {
			in.Templates = map[string]zumo.PushTemplate{"t": {Body: "b", Tags: []string{""}}}
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := zumotest.NewServer(t)
			c := pushClient(t, srv)
			err := c.Push().Register(context.Background(), tt.in)
			require.ErrorIs(t, err, zumo.ErrInvalidInstallation)
			assert.Zero(t, srv.Stats().Requests, "nothing is sent")
		})
	}
}

func TestPushErrors(t *testing.T) {
	srv := zumotest.NewServer(t)
	c := pushClient(t, srv)
	srv.AddFault(zumotest.Fault{Method: http.MethodPut, PathPrefix: "/push/installations/" + installID, Status: http.StatusServiceUnavailable})
	err := c.Push().Register(context.Background(), zumo.Installation{PushChannel: "abc", Platform: zumo.PlatformGCM})
	var ze *zumo.Error
	require.ErrorAs(t, err, &ze)
	assert.Equal(t, http.StatusServiceUnavailable, ze.StatusCode)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err = c.Push().Unregister(ctx)
	assert.ErrorIs(t, err, context.Canceled)

	legacy, err := zumo.NewClient(srv.URL, zumo.WithLegacyMobileServices("key"))
	require.NoError(t, err)
	err = legacy.Push().Register(context.Background(), zumo.Installation{PushChannel: "abc", Platform: zumo.PlatformGCM})
	assert.Error(t, err)
	assert.False(t, errors.Is(err, zumo.ErrInvalidInstallation))
}
