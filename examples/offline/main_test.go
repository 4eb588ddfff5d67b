package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestOfflineExample runs every step; each checks its own claim and fails
// the run when it does not hold.
func TestOfflineExample(t *testing.T) {
	require.NoError(t, run(context.Background()))
}
