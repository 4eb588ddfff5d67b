package wire

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// guidRE is a lower-case version 4, RFC 4122 variant GUID.
var guidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestNewGUID(t *testing.T) {
	const n = 1000
	seen := make(map[string]bool, n)
	for range n {
		g := NewGUID()
		require.Regexp(t, guidRE, g)
		assert.False(t, seen[g], "GUID %s repeated", g)
		seen[g] = true
	}
}
