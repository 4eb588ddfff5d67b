package zumo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrInvalidInstallationID is wrapped by the error of InstallationIDFile
// for a file that does not hold a GUID.
var ErrInvalidInstallationID = errors.New("zumo: installation id file does not hold a GUID")

// InstallationIDFile returns the installation id kept in the file at path,
// making one (a random GUID, written with mode 0600, its directory made
// with mode 0700 when missing) the first time: the protocol's installation
// id is made once per installation and persisted. Pass it to
// WithInstallationID. It is safe when several processes call it at once:
// they all get the id the first of them wrote.
//
// It fails with an error wrapping ErrInvalidInstallationID when the file
// holds something other than a GUID (it is left as it is: remove it to
// start again), or with the *fs.PathError of a file or directory that
// cannot be read or written.
func InstallationIDFile(path string) (string, error) {
	if id, err := readInstallationID(path); err == nil || !errors.Is(err, os.ErrNotExist) {
		return id, err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", fmt.Errorf("zumo: installation id: %w", err)
	}
	tmp, err := os.CreateTemp(dir, ".zumo-install-*.tmp")
	if err != nil {
		return "", fmt.Errorf("zumo: installation id: %w", err)
	}
	defer os.Remove(tmp.Name())
	id := newGUID()
	_, werr := tmp.WriteString(id + "\n")
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return "", fmt.Errorf("zumo: installation id: %w", werr)
	}
	// A hard link, unlike a rename, never replaces a file another process
	// made meanwhile: whoever links first wins, and the others read it.
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return readInstallationID(path)
		}
		return "", fmt.Errorf("zumo: installation id: %w", err)
	}
	return id, nil
}

func readInstallationID(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("zumo: installation id: %w", err)
	}
	id := strings.TrimSpace(string(b))
	if !validGUID(id) {
		return "", fmt.Errorf("%w: %s", ErrInvalidInstallationID, path)
	}
	return id, nil
}
