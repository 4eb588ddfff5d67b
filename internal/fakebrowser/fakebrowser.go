// Package fakebrowser follows a server-directed login the way a browser
// with script does, without a browser, for tests: it follows the service's
// redirects to the loopback callback, loads the callback page, and posts
// the URL's fragment back to the callback URL as the page's script does.
// The real page is exercised by the headless-Chromium test; this package
// lets every other test run without one.
package fakebrowser

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// Browser follows logins. The zero value uses a plain http.Client.
type Browser struct {
	// Client sends the requests; its redirect policy is not used.
	Client *http.Client
	// Login, when set, may change the login URL before it is opened (to
	// tamper with the challenge, say).
	Login func(u *url.URL)
	// Callback, when set, may change the callback URL (query and fragment
	// included) before it is loaded (to tamper with the state, say).
	Callback func(u *url.URL)
}

// Result is what the browser saw.
type Result struct {
	// Callback is the callback URL the service redirected to, fragment
	// included, after Browser.Callback.
	Callback *url.URL
	// PageStatus and Page are the answer to loading the callback page.
	PageStatus int
	Page       string
	PageHeader http.Header
	// PostStatus is the answer to posting the fragment (0: not posted,
	// because the page was not served).
	PostStatus int
	// Title and Message are what the page shows after the post.
	Title, Message string
}

// Open follows loginURL: redirects (at most 10) until one carries a
// fragment, then the callback page and the post. It fails when a request
// fails or the redirects end without a fragment.
func (b *Browser) Open(ctx context.Context, loginURL string) (*Result, error) {
	hc := http.Client{}
	if b.Client != nil {
		hc = *b.Client
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	u, err := url.Parse(loginURL)
	if err != nil {
		return nil, err
	}
	if b.Login != nil {
		b.Login(u)
	}
	for hop := 0; ; hop++ {
		if hop == 10 {
			return nil, fmt.Errorf("fakebrowser: too many redirects")
		}
		resp, err := get(ctx, &hc, u)
		if err != nil {
			return nil, err
		}
		loc := resp.Header.Get("Location")
		resp.Body.Close()
		if resp.StatusCode < 300 || resp.StatusCode > 399 || loc == "" {
			return nil, fmt.Errorf("fakebrowser: %s answered %d without a redirect", u.Redacted(), resp.StatusCode)
		}
		next, err := u.Parse(loc)
		if err != nil {
			return nil, err
		}
		u = next
		if strings.Contains(loc, "#") {
			break
		}
	}
	if b.Callback != nil {
		b.Callback(u)
	}
	res := &Result{Callback: u}
	page := *u
	page.Fragment, page.RawFragment = "", ""
	resp, err := get(ctx, &hc, &page)
	if err != nil {
		return nil, err
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return nil, err
	}
	res.PageStatus, res.Page, res.PageHeader = resp.StatusCode, string(body), resp.Header
	if resp.StatusCode != http.StatusOK {
		return res, nil
	}
	// What the page's script does: POST the fragment to the callback URL.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, page.String(), strings.NewReader(u.EscapedFragment()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Origin", u.Scheme+"://"+u.Host)
	resp, err = hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	res.PostStatus = resp.StatusCode
	var a struct{ Title, Message string }
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return nil, fmt.Errorf("fakebrowser: the post's answer is not JSON: %w", err)
	}
	res.Title, res.Message = a.Title, a.Message
	return res, nil
}

func get(ctx context.Context, hc *http.Client, u *url.URL) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	return hc.Do(req)
}
