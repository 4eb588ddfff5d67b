package zumo

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/zumo-go/zumo/internal/wire"
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
func InstallationIDFile(path string) (string, error) { return installationIDFile(path, os.Link) }

// installationIDFile is InstallationIDFile with the hard-link call given
// (tests give one that fails as on a file system without hard links).
func installationIDFile(path string, link func(oldname, newname string) error) (string, error) {
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
	id := wire.NewGUID()
	_, werr := tmp.WriteString(id + "\n")
	if werr == nil {
		werr = tmp.Sync() // on disk before it gets its name: a crash leaves no empty file
	}
	if cerr := tmp.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		return "", fmt.Errorf("zumo: installation id: %w", werr)
	}
	// A hard link, unlike a rename, never replaces a file another process
	// made meanwhile: whoever links first wins, and the others read it.
	err = link(tmp.Name(), path)
	switch {
	case err == nil:
		return id, nil
	case errors.Is(err, os.ErrExist):
		return readInstallationID(path)
	}
	// A file system without hard links: create the file exclusively
	// instead (a process reading it at that moment may find it empty and
	// fail; the next call succeeds).
	f, cerr := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(cerr, os.ErrExist) {
		return readInstallationID(path)
	}
	if cerr != nil {
		return "", fmt.Errorf("zumo: installation id: %w", err)
	}
	_, werr = f.WriteString(id + "\n")
	if serr := f.Sync(); werr == nil {
		werr = serr
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = os.Remove(path)
		return "", fmt.Errorf("zumo: installation id: %w", werr)
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
