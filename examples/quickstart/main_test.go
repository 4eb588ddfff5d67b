package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo/zumotest"
)

// TestQuickstart runs every step of the quickstart against the in-process
// fake; each step checks the fake's counters itself and fails the run when
// they are off.
func TestQuickstart(t *testing.T) {
	require.NoError(t, run(context.Background(), config{}))
}

// TestQuickstartRemote runs the steps against a backend given by URL, as
// -app-url does, twice: the counters are the example's own, the token is
// spoiled on the client's side, and the second run counts on top of the
// first run's rows. The fake's counters must agree with the example's.
func TestQuickstartRemote(t *testing.T) {
	srv := remoteFake(t)
	cfg := config{appURL: srv.URL, username: "bob", password: "pw"}
	for range 2 {
		require.NoError(t, run(context.Background(), cfg))
	}
	rows, err := srv.Rows("todoitem")
	require.NoError(t, err)
	assert.Len(t, rows, 10, "five rows a run, kept")
	st := srv.Stats()
	assert.Equal(t, 4, st.Logins, "two a run: the first, and the one after the 401")
	assert.Equal(t, 2, st.Unauthorized, "one a run: the spoiled token")
}

// remoteFake is a backend for the remote mode: the quickstart's table and
// a user bob (password pw).
func remoteFake(t *testing.T) *zumotest.Server {
	srv := zumotest.New(
		zumotest.WithTable("todoitem", zumotest.Authenticated()),
		zumotest.WithUser("custom", "bob", "pw", "sid:bob"),
	)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestQuickstartRemoteWrongPassword(t *testing.T) {
	srv := remoteFake(t)
	err := run(context.Background(), config{appURL: srv.URL, username: "bob", password: "not-it"})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "not-it", "the password is never printed")
}

func TestParseConfig(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    config
		wantErr bool
	}{
		{name: "none: in-process", want: config{}},
		{name: "flags and password variable", args: []string{"-app-url", "http://a", "-username", "ann"},
			env: map[string]string{"ZUMO_PASSWORD": "pw"}, want: config{appURL: "http://a", username: "ann", password: "pw"}},
		{name: "variables", env: map[string]string{"ZUMO_APP_URL": "http://e", "ZUMO_USERNAME": "eve", "ZUMO_PASSWORD": "pw"},
			want: config{appURL: "http://e", username: "eve", password: "pw"}},
		{name: "flag over variable", args: []string{"-app-url", "http://a"},
			env:  map[string]string{"ZUMO_APP_URL": "http://e", "ZUMO_USERNAME": "eve", "ZUMO_PASSWORD": "pw"},
			want: config{appURL: "http://a", username: "eve", password: "pw"}},
		{name: "URL without password", args: []string{"-app-url", "http://a", "-username", "ann"}, wantErr: true},
		{name: "URL without username", args: []string{"-app-url", "http://a"}, env: map[string]string{"ZUMO_PASSWORD": "pw"}, wantErr: true},
		{name: "no password flag", args: []string{"-password", "pw"}, wantErr: true},
		{name: "stray argument", args: []string{"http://a"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseConfig(tt.args, env(tt.env))
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}
