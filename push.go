package zumo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Platform names the push notification service an installation receives
// notifications through.
type Platform string

// The platforms Mobile Apps registers devices for.
const (
	// PlatformWNS is the Windows Notification Service; the push channel is
	// the channel URI (https).
	PlatformWNS Platform = "wns"
	// PlatformAPNS is the Apple Push Notification service; the push
	// channel is the device token in hexadecimal (sent in lower case).
	PlatformAPNS Platform = "apns"
	// PlatformGCM is Firebase Cloud Messaging (the protocol still names it
	// gcm, as the Android client sends it for FCM tokens); the push channel
	// is the registration token.
	PlatformGCM Platform = "gcm"
)

// Installation registers a device for push notifications. The service
// adds the signed-in user's tag itself; there are no top-level tags.
type Installation struct {
	// PushChannel is the platform's address of this device (see Platform).
	PushChannel string
	// Platform is PlatformWNS, PlatformAPNS or PlatformGCM.
	Platform Platform
	// Templates are named notification templates; nil for none.
	Templates map[string]PushTemplate
}

// PushTemplate is a notification template: the payload the platform gets,
// with $(property) placeholders the service fills in.
type PushTemplate struct {
	// Body is the payload as text: JSON for APNs and FCM, XML for WNS.
	Body string `json:"body"`
	// Tags select which notifications use the template.
	Tags []string `json:"tags,omitempty"`
}

// ErrInvalidInstallation is wrapped by the error Register returns for an
// installation it does not send: an unknown platform, an empty or
// malformed push channel, a template without a body.
var ErrInvalidInstallation = errors.New("zumo: invalid push installation")

// Push registers this client's installation for push notifications, under
// the installation id the client sends (WithInstallationID; use
// InstallationIDFile so that the id, and so the registration, survives
// restarts). Get it with Client.Push. It is safe for concurrent use.
type Push struct{ c *Client }

// Push returns the client's push registration API.
func (c *Client) Push() *Push { return &Push{c: c} }

// Register registers (or replaces) the installation:
// PUT /push/installations/{installation id} with
// {"pushChannel", "platform", "templates"}. The request goes through the
// client's handler chain, so a signed-in user's token goes with it and the
// service tags the installation with the user. It fails with an error
// wrapping ErrInvalidInstallation before sending anything when in is not
// valid, with *Error for an answer outside 2xx, or with the transport's
// error. Legacy Mobile Services is not supported.
func (p *Push) Register(ctx context.Context, in Installation) error {
	body, err := in.wire()
	if err != nil {
		return err
	}
	return p.send(ctx, http.MethodPut, body)
}

// Unregister removes the installation's registration:
// DELETE /push/installations/{installation id}. Removing an installation
// that is not registered is not an error on Mobile Apps. It fails like
// Register.
func (p *Push) Unregister(ctx context.Context) error {
	return p.send(ctx, http.MethodDelete, nil)
}

func (p *Push) send(ctx context.Context, method string, body []byte) error {
	c := p.c
	if c.legacy {
		return errors.New("zumo: push installations need a Mobile Apps backend; legacy Mobile Services is not supported")
	}
	base := c.base.JoinPath("push", "installations")
	u := &url.URL{}
	*u = *base
	u.Path = base.Path + "/" + c.installID
	u.RawPath = base.EscapedPath() + "/" + url.PathEscape(c.installID)
	req, err := c.newRequest(ctx, &call{method: method, url: u, body: body})
	if err != nil {
		return err
	}
	resp, err := c.send(req)
	if err != nil {
		return err
	}
	closeBody(resp)
	return nil
}

// installationJSON is the wire form of a registration.
type installationJSON struct {
	PushChannel string                  `json:"pushChannel"`
	Platform    Platform                `json:"platform"`
	Templates   map[string]PushTemplate `json:"templates,omitempty"`
}

// wire checks in and returns its JSON body.
func (in Installation) wire() ([]byte, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidInstallation, fmt.Sprintf(format, a...))
	}
	ch := in.PushChannel
	if strings.TrimSpace(ch) == "" || !utf8.ValidString(ch) || strings.ContainsFunc(ch, isSpaceOrControl) {
		return nil, bad("the push channel is empty or holds spaces or control characters")
	}
	switch in.Platform {
	case PlatformWNS:
		if u, err := url.Parse(ch); err != nil || u.Scheme != "https" || u.Host == "" {
			return nil, bad("a WNS push channel is an https channel URI")
		}
	case PlatformAPNS:
		if len(ch)%2 != 0 || strings.IndexFunc(ch, notHex) >= 0 {
			return nil, bad("an APNs push channel is the device token in hexadecimal")
		}
		ch = strings.ToLower(ch)
	case PlatformGCM:
	default:
		return nil, bad("platform %q is not wns, apns or gcm", in.Platform)
	}
	for name, t := range in.Templates {
		switch {
		case name == "" || !utf8.ValidString(name) || strings.ContainsFunc(name, isSpaceOrControl):
			return nil, bad("template name %q is empty or holds spaces or control characters", name)
		case strings.TrimSpace(t.Body) == "" || !utf8.ValidString(t.Body):
			return nil, bad("template %q needs a body (UTF-8 text)", name)
		}
		for _, tag := range t.Tags {
			if tag == "" || !utf8.ValidString(tag) || strings.ContainsFunc(tag, isSpaceOrControl) {
				return nil, bad("template %q has an empty tag or one with spaces or control characters", name)
			}
		}
	}
	return json.Marshal(installationJSON{PushChannel: ch, Platform: in.Platform, Templates: in.Templates})
}

func isSpaceOrControl(r rune) bool { return r <= ' ' || r == 0x7f }

func notHex(r rune) bool {
	return !('0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F')
}
