package auth

import (
	"context"
	"fmt"
	"os/exec"
	"runtime"
)

// openURL opens u with the platform's opener: open on macOS, rundll32's
// URL handler on Windows, xdg-open elsewhere. It returns once the opener
// has started the browser (or failed to); the browser itself is not waited
// for.
func openURL(ctx context.Context, u string) error {
	var cmd *exec.Cmd
	switch runtime.GOOS {
	case "darwin":
		cmd = exec.CommandContext(ctx, "open", u)
	case "windows":
		cmd = exec.CommandContext(ctx, "rundll32", "url.dll,FileProtocolHandler", u)
	default:
		cmd = exec.CommandContext(ctx, "xdg-open", u)
	}
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w", cmd.Path, err)
	}
	return nil
}
