package main

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/zumo-go/zumo"
	"github.com/zumo-go/zumo/auth"
	"github.com/zumo-go/zumo/offline"
)

// Exit codes.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// usageError is a mistake in the command line: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// runError marks an error returned by a command's own code (as opposed to
// one cobra made while parsing the command line).
type runError struct{ err error }

func (e *runError) Error() string { return e.err.Error() }
func (e *runError) Unwrap() error { return e.err }

// exitCode classifies err: usage errors (ours or cobra's) are 2, the
// rest 1.
func exitCode(err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	var re *runError
	if errors.As(err, &re) {
		return exitFailure
	}
	return exitUsage // cobra's own: unknown command, flag or argument count
}

// message is the one line printed for err: the status and the server's
// message for a failed response, and never a token (the SDK's errors
// redact them).
func message(err error) string {
	var ze *zumo.Error
	var le *auth.LoginError
	var ue *url.Error
	var pe *offline.PushError
	switch {
	case errors.As(err, &pe) && pe.Err != nil:
		return "push stopped, the queue is kept: " + message(pe.Err)
	case errors.As(err, &pe):
		return fmt.Sprintf("push incomplete: %d operation(s) refused, kept in the queue", len(pe.Failed))
	case errors.As(err, &ze):
		msg := strings.TrimSpace(ze.Message)
		if msg == "" {
			msg = "(no message)"
		}
		s := fmt.Sprintf("%d %s", ze.StatusCode, oneLine(msg))
		if ze.Err != nil {
			s += " (" + oneLine(ze.Err.Error()) + ")"
		}
		return s
	case errors.As(err, &le):
		return fmt.Sprintf("%s failed: %d %s", le.Op, le.StatusCode, oneLine(strings.TrimSpace(le.Message)))
	case errors.Is(err, context.Canceled):
		return "interrupted"
	case errors.As(err, &ue):
		return "cannot reach the service: " + oneLine(ue.Err.Error())
	}
	return oneLine(strings.TrimPrefix(err.Error(), "zumo: "))
}

// oneLine keeps an error on one line.
func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", " ")
	return strings.ReplaceAll(s, "\n", " ")
}
