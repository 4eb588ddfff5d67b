package handler

import (
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/zumo-go/zumo/internal/redact"
)

// LogMessage is the message of every record Logging writes.
const LogMessage = "http request"

// The attribute keys of the records Logging writes.
const (
	LogKeyMethod          = "method"           // request method
	LogKeyURL             = "url"              // request URL, secrets redacted
	LogKeyStatus          = "status"           // response status code; absent on error
	LogKeyDuration        = "duration"         // time until the response headers arrived
	LogKeyContentLength   = "content_length"   // response Content-Length, -1 if unknown
	LogKeyError           = "error"            // transport error, secrets redacted
	LogKeyRequestHeaders  = "request_headers"  // with LogHeaders, at Debug
	LogKeyResponseHeaders = "response_headers" // with LogHeaders, at Debug
)

// A LogOption configures the Handler that Logging returns.
type LogOption func(*logConfig)

type logConfig struct {
	success, httpError, transportError slog.Level
	headers                            bool
}

// LogHeaders makes Logging add the request and response headers to each
// record, with secret headers (X-ZUMO-AUTH, X-ZUMO-APPLICATION,
// Authorization, cookies) redacted. Headers are added only when the logger
// is enabled at slog.LevelDebug, so a production logger at Info pays
// nothing for them.
func LogHeaders() LogOption {
	return func(c *logConfig) { c.headers = true }
}

// LogLevels sets the level of a record for a response with a status below
// 400 (default slog.LevelInfo), a response with a status of 400 or more
// (default slog.LevelWarn), and a transport error (default slog.LevelError).
func LogLevels(success, httpError, transportError slog.Level) LogOption {
	return func(c *logConfig) {
		c.success, c.httpError, c.transportError = success, httpError, transportError
	}
}

// Logging returns a Handler that writes one structured record to logger for
// every request, once the response headers (or an error) have come back.
// The record has the message LogMessage and the attributes named by the
// LogKey constants: method, URL (secret query and fragment parameters and
// user info redacted), status, duration, response content length, and the
// error if the rest of the chain failed (with any secret of the request
// that it echoes redacted). It never reads, logs or wraps a body.
//
// A nil logger means slog.Default(), looked up for each request. Records go
// through logger with the request's context. Logging returns the response
// and error of the rest of the chain unchanged. It is safe for concurrent
// use.
func Logging(logger *slog.Logger, opts ...LogOption) Handler {
	c := logConfig{
		success:        slog.LevelInfo,
		httpError:      slog.LevelWarn,
		transportError: slog.LevelError,
	}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return &logging{logger: logger, c: c}
}

type logging struct {
	logger *slog.Logger
	c      logConfig
}

func (l *logging) Handle(req *http.Request, next http.RoundTripper) (*http.Response, error) {
	start := time.Now()
	resp, err := next.RoundTrip(req)
	d := time.Since(start)

	logger := l.logger
	if logger == nil {
		logger = slog.Default()
	}
	level := l.c.success
	switch {
	case err != nil:
		level = l.c.transportError
	case resp != nil && resp.StatusCode >= 400:
		level = l.c.httpError
	}
	ctx := req.Context()
	if !logger.Enabled(ctx, level) {
		return resp, err
	}

	method := req.Method
	if method == "" {
		method = http.MethodGet
	}
	attrs := make([]slog.Attr, 0, 8)
	attrs = append(attrs,
		slog.String(LogKeyMethod, method),
		slog.String(LogKeyURL, redact.URL(req.URL)),
	)
	if err != nil {
		attrs = append(attrs, slog.String(LogKeyError, redactError(req, err)))
	} else if resp != nil {
		attrs = append(attrs,
			slog.Int(LogKeyStatus, resp.StatusCode),
			slog.Int64(LogKeyContentLength, resp.ContentLength),
		)
	}
	attrs = append(attrs, slog.Duration(LogKeyDuration, d))
	if l.c.headers && logger.Enabled(ctx, slog.LevelDebug) {
		attrs = append(attrs, slog.Any(LogKeyRequestHeaders, redact.Header(req.Header)))
		if err == nil && resp != nil {
			attrs = append(attrs, slog.Any(LogKeyResponseHeaders, redact.Header(resp.Header)))
		}
	}
	logger.LogAttrs(ctx, level, LogMessage, attrs...)
	return resp, err
}

// redactError returns err's text with every secret the request carries
// redacted: its raw URL becomes the redacted one, and secret header values,
// user info and secret URL parameters are replaced wherever they appear.
// Transports and wrappers such as *url.Error may echo any of them.
func redactError(req *http.Request, err error) string {
	msg := err.Error()
	if req.URL != nil {
		if raw, red := req.URL.String(), redact.URL(req.URL); raw != red {
			msg = strings.ReplaceAll(msg, raw, red)
		}
	}
	secrets := append(redact.HeaderSecrets(req.Header), redact.URLSecrets(req.URL)...)
	return redact.String(msg, secrets...)
}
