package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo/zumotest"
)

// TestOfflineExample runs every step against the in-process fake; each
// checks its own claim and fails the run when it does not hold.
func TestOfflineExample(t *testing.T) {
	require.NoError(t, run(context.Background(), ""))
}

// TestOfflineExampleRemote runs the steps against a backend given by URL,
// as -app-url does, twice: the second run must not trip over the first
// run's rows. The network goes away on the client's side here.
func TestOfflineExampleRemote(t *testing.T) {
	srv := zumotest.New(zumotest.WithTable("todoitem", zumotest.SoftDelete()))
	srv.Start()
	t.Cleanup(srv.Close)
	for range 2 {
		require.NoError(t, run(context.Background(), srv.URL))
	}
	rows, err := srv.Rows("todoitem")
	require.NoError(t, err)
	assert.Len(t, rows, 6, "three rows a run, kept")
}

func TestParseFlags(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		want    string
		wantErr bool
	}{
		{name: "none: in-process", want: ""},
		{name: "flag", args: []string{"-app-url", "http://a"}, want: "http://a"},
		{name: "env", env: map[string]string{"ZUMO_APP_URL": "http://e"}, want: "http://e"},
		{name: "flag over env", args: []string{"-app-url", "http://a"}, env: map[string]string{"ZUMO_APP_URL": "http://e"}, want: "http://a"},
		{name: "unknown flag", args: []string{"-nope"}, wantErr: true},
		{name: "stray argument", args: []string{"http://a"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args, env(tt.env))
			if tt.wantErr {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

func TestBadAppURL(t *testing.T) {
	for _, u := range []string{"ftp://x", "not a url", "http://"} {
		assert.Error(t, run(context.Background(), u), u)
	}
}
