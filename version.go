package zumo

import (
	"runtime"
	"strings"
)

// Version is the version of this SDK, sent in the User-Agent and
// X-ZUMO-VERSION headers.
const Version = "0.1.0"

// sdkHeader builds the User-Agent / X-ZUMO-VERSION value of docs/protocol.md §3:
// ZUMO/{major.minor} (lang=Go; os=…; os_version=…; arch=…; version=…).
func sdkHeader() string {
	majorMinor := Version
	if i := strings.LastIndexByte(Version, '.'); i > 0 {
		majorMinor = Version[:i]
	}
	return "ZUMO/" + majorMinor + " (lang=Go; os=" + runtime.GOOS + "; os_version=--; arch=" +
		runtime.GOARCH + "; version=" + Version + ")"
}
