package zumotest

import (
	"encoding/json"
	"slices"
	"testing"
)

// FuzzParseInstallation: any body is either refused with a message or gives
// an installation that satisfies what servePush promises.
func FuzzParseInstallation(f *testing.F) {
	for _, s := range []string{
		`{"pushChannel":"x","platform":"gcm"}`,
		`{"pushChannel":"x","platform":"apns","templates":{"t":{"body":"b","tags":["a"]}}}`,
		`{"pushChannel":"x","platform":"wns","tags":["vip"],"templates":{}}`,
		`{"pushChannel":"x","platform":"wns","templates":{"t":null}}`,
		`{"pushChannel":"","platform":"gcm"}`, `{"pushChannel":1}`, `[]`, `null`, ``, `{`, `{"a":1} {}`,
		`{"pushChannel":"x","platform":"gcm","templates":{"t":{"body":{"x":1}}}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		in, msg := parseInstallation(body)
		if msg != "" {
			return
		}
		if in.PushChannel == "" || !slices.Contains([]string{"wns", "apns", "gcm"}, in.Platform) {
			t.Fatalf("accepted %q as %+v", body, in)
		}
		for name, tm := range in.Templates {
			if tm.Body == "" {
				t.Fatalf("template %q without a body accepted from %q", name, body)
			}
		}
		if !json.Valid(in.Body) {
			t.Fatalf("kept an invalid body %q", in.Body)
		}
	})
}
