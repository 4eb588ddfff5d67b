package zumo

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzInstallation: an installation is either refused with
// ErrInvalidInstallation before anything is sent, or its body is JSON
// that holds exactly the channel (lower-case for APNs), a known platform
// and the templates with their bodies as given, and no top-level tags.
func FuzzInstallation(f *testing.F) {
	f.Add("https://db5.notify.windows.com/?token=x", "wns", "t", `{"x":"$(m)"}`, "tag")
	f.Add("ABCDEF0123", "apns", "alert", `{"aps":{"alert":"$(m)"}}`, "")
	f.Add("fcm-token:abc", "gcm", "", "", "")
	f.Add("abc", "fcm", "n", "b", "a b")
	f.Add("x y", "gcm", "n", " ", "\x00")
	f.Fuzz(func(t *testing.T, channel, platform, name, body, tag string) {
		in := Installation{PushChannel: channel, Platform: Platform(platform)}
		if name != "" || body != "" {
			tpl := PushTemplate{Body: body}
			if tag != "" {
				tpl.Tags = []string{tag}
			}
			in.Templates = map[string]PushTemplate{name: tpl}
		}
		b, err := in.wire()
		if err != nil {
			if !errors.Is(err, ErrInvalidInstallation) {
				t.Fatalf("error %v does not wrap ErrInvalidInstallation", err)
			}
			return
		}
		var got map[string]json.RawMessage
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("body %s is not a JSON object: %v", b, err)
		}
		if _, ok := got["tags"]; ok {
			t.Fatalf("body %s has top-level tags", b)
		}
		var sent struct {
			PushChannel string                  `json:"pushChannel"`
			Platform    string                  `json:"platform"`
			Templates   map[string]PushTemplate `json:"templates"`
		}
		if err := json.Unmarshal(b, &sent); err != nil {
			t.Fatal(err)
		}
		want := channel
		if platform == "apns" {
			want = strings.ToLower(channel)
		}
		switch {
		case platform != "wns" && platform != "apns" && platform != "gcm":
			t.Fatalf("platform %q accepted", platform)
		case sent.Platform != platform || sent.PushChannel != want:
			t.Fatalf("sent %s for channel %q on %q", b, channel, platform)
		case !utf8.ValidString(channel) || strings.TrimSpace(channel) == "":
			t.Fatalf("channel %q accepted", channel)
		}
		for n, tpl := range in.Templates {
			if sent.Templates[n].Body != tpl.Body {
				t.Fatalf("template %q body %q sent as %q", n, tpl.Body, sent.Templates[n].Body)
			}
		}
	})
}
