package main

import (
	"bytes"
	"context"
	"regexp"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/zumo-go/zumo/internal/fakebrowser"
)

// urlWriter collects what the program prints and hands over the first
// login URL it prints.
type urlWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	urls chan string
	sent bool
}

var loginURL = regexp.MustCompile(`http://127\.0\.0\.1:\d+/\.auth/login/\S+`)

func (w *urlWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if u := loginURL.FindString(w.buf.String()); u != "" && !w.sent {
		w.sent = true
		w.urls <- u
	}
	return len(p), nil
}

func (w *urlWriter) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestRunNoBrowser runs the example as documented with -fake -no-browser:
// it prints the URL and waits; the test opens the URL like a browser would.
func TestRunNoBrowser(t *testing.T) {
	dir := t.TempDir()
	msgs := &urlWriter{urls: make(chan string, 1)}
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() { done <- run(context.Background(), []string{"-fake", "-no-browser", "-cache", dir}, &out, msgs) }()

	u := <-msgs.urls
	res, err := (&fakebrowser.Browser{}).Open(context.Background(), u)
	require.NoError(t, err)
	require.NoError(t, <-done)
	assert.Equal(t, "Logged in", res.Title)
	assert.Contains(t, msgs.String(), "open this URL in a browser")
	assert.Contains(t, out.String(), "Logged in as sid:example-user; cached in "+dir)
	assert.NotContains(t, out.String()+msgs.String(), "eyJ", "no token is printed")

	assert.Contains(t, out.String(), "A new client finds sid:example-user in the cache")
}

func TestRunErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no app", []string{"-cache", "x"}, "-app is required"},
		{"unknown flag", []string{"-nope"}, "flag provided but not defined"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, msgs bytes.Buffer
			err := run(context.Background(), tt.args, &out, &msgs)
			require.Error(t, err)
			assert.Contains(t, err.Error()+msgs.String(), tt.want)
		})
	}
}
