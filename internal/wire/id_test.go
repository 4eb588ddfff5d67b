package wire

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestIDProblem(t *testing.T) {
	tests := []struct {
		id   string
		want string // "" for a valid id; else a word of the reason
	}{
		{"a1", ""},
		{"a/b?c#d%", ""},
		{"héllo", ""},
		{strings.Repeat("x", 255), ""},
		{strings.Repeat("😀", 127) + "x", ""}, // 255 UTF-16 units
		{strings.Repeat("😀", 128), "longer"}, // 256 units, 128 runes
		{strings.Repeat("x", 256), "longer"},
		{"", "empty"},
		{".", "path step"},
		{"..", "path step"},
		{"\xff", "UTF-8"},
		{"a\x00b", "control"},
		{"a\nb", "control"},
	}
	for _, tt := range tests {
		got := IDProblem(tt.id)
		if tt.want == "" {
			assert.Empty(t, got, "%q", tt.id)
		} else {
			assert.Contains(t, got, tt.want, "%q", tt.id)
		}
	}
	assert.Equal(t, 4, UTF16Len("a😀b"))
}
