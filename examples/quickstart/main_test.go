package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestQuickstart runs every step of the quickstart; each step checks the
// fake backend's counters itself and fails the run when they are off.
func TestQuickstart(t *testing.T) {
	require.NoError(t, run(context.Background()))
}
