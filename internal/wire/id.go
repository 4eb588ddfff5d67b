package wire

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// SystemProperties are the columns a Mobile Apps service owns and writes
// itself; legacy Mobile Services prefixes each with "__".
var SystemProperties = []string{"createdAt", "updatedAt", "version", "deleted"}

// MaxIDLength is the longest string id the service accepts, counted as its
// nvarchar(255) column counts: in UTF-16 code units (a character outside
// the Basic Multilingual Plane, such as an emoji, counts twice).
const MaxIDLength = 255

// IDProblem says why s cannot be a string id — empty, a path step ("." or
// ".."), longer than MaxIDLength UTF-16 units, invalid UTF-8, or holding a
// control character — and returns "" when it can. The online client and
// the offline tables check ids by this one rule.
func IDProblem(s string) string {
	switch {
	case s == "":
		return "empty"
	case s == "." || s == "..":
		return "a path step, not an id"
	case UTF16Len(s) > MaxIDLength:
		return fmt.Sprintf("longer than %d characters", MaxIDLength)
	case !utf8.ValidString(s):
		return "not valid UTF-8"
	case strings.ContainsFunc(s, unicode.IsControl):
		return "contains a control character"
	}
	return ""
}

// UTF16Len is the length of s in UTF-16 code units.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r >= 0x10000 {
			n++
		}
	}
	return n
}
