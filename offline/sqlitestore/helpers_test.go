package sqlitestore_test

import (
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/zumo-go/zumo"
)

// newClient returns a client for a server that is never asked.
func newClient(t *testing.T) *zumo.Client {
	t.Helper()
	c, err := zumo.NewClient("http://127.0.0.1:1/")
	require.NoError(t, err)
	return c
}

func rawExpr(s string) zumo.Expr { return zumo.Raw(s) }
