package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/zumo-go/zumo"
)

// errorBody is what the service answers on failure. Current holds the
// backend's copy of the item on a 409, so the caller can merge and retry
// with its version.
type errorBody struct {
	Error   string `json:"error"`
	Current *Todo  `json:"current,omitempty"`
}

// statusFor maps an error from zumo to the status this service answers its
// own callers with. The backend's problems (it is down, it answers 5xx or
// something that is not the protocol, it refuses this service's own login)
// are not the caller's fault: 502 or 504. The SDK's errors never contain a
// token or a password, so their text is safe to log.
func statusFor(err error) int {
	var ze *zumo.Error
	switch {
	case errors.Is(err, zumo.ErrInvalidID), errors.Is(err, zumo.ErrInvalidQuery):
		return http.StatusBadRequest // refused before anything was sent
	case errors.Is(err, zumo.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, zumo.ErrPreconditionFailed), errors.Is(err, zumo.ErrConflict):
		return http.StatusConflict // a stale version (412 upstream) or a duplicate id
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusGatewayTimeout
	case errors.Is(err, context.Canceled):
		return 499 // the caller went away; nobody reads this answer
	case errors.As(err, &ze) && ze.StatusCode == http.StatusBadRequest:
		return http.StatusBadRequest // the backend refused the item as sent
	}
	return http.StatusBadGateway
}

// fail answers r with err's status and message, and logs it.
func (a *api) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := statusFor(err)
	body := errorBody{Error: err.Error()}
	var stale *zumo.PreconditionFailedError[Todo]
	if errors.As(err, &stale) && stale.HasItem {
		body.Current = &stale.Item
	}
	level := slog.LevelWarn
	if status >= 500 {
		level = slog.LevelError
	}
	a.log.Log(r.Context(), level, "backend call failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	writeJSON(w, status, body)
}
