//go:build ignore

// modproxy writes a Go module proxy on disk (the layout GOPROXY=file://…
// reads: <module>/@v/list, <version>.info, .mod and .zip) holding modules
// of this repository's working tree at chosen versions, so that
// .ci/goget-proof can resolve them the way an outside user resolves a
// release, with no replace directive and no workspace.
//
//	go run .ci/modproxy.go -out DIR dir@version [dir@version …]
//
// Each dir is a module root (it holds go.mod). Its zip holds the files git
// would publish — tracked or untracked but not ignored — minus those of
// nested modules, as a tagged release would.
package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"time"
)

func main() {
	out := flag.String("out", "", "directory to write the proxy into")
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: go run .ci/modproxy.go -out DIR dir@version…")
		os.Exit(2)
	}
	for _, arg := range flag.Args() {
		dir, version, ok := strings.Cut(arg, "@")
		if !ok || !strings.HasPrefix(version, "v") {
			fatalf("%q: want dir@version", arg)
		}
		if err := publish(*out, filepath.Clean(dir), version); err != nil {
			fatalf("%s: %v", arg, err)
		}
	}
}

func fatalf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "modproxy: "+format+"\n", args...)
	os.Exit(1)
}

// publish writes dir's module at version into the proxy at out.
func publish(out, dir, version string) error {
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return err
	}
	modPath := modulePath(gomod)
	if modPath == "" {
		return errors.New("no module line in go.mod")
	}
	files, err := moduleFiles(dir)
	if err != nil {
		return err
	}
	vdir := filepath.Join(out, escapePath(modPath), "@v")
	if err := os.MkdirAll(vdir, 0o755); err != nil {
		return err
	}
	zipFile := filepath.Join(vdir, version+".zip")
	if err := writeZip(zipFile, modPath+"@"+version, dir, files); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(vdir, version+".mod"), gomod, 0o644); err != nil {
		return err
	}
	info, _ := json.Marshal(struct{ Version, Time string }{version, time.Now().UTC().Format(time.RFC3339)})
	if err := os.WriteFile(filepath.Join(vdir, version+".info"), info, 0o644); err != nil {
		return err
	}
	list, err := os.OpenFile(filepath.Join(vdir, "list"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(list, version); err != nil {
		list.Close()
		return err
	}
	fmt.Printf("modproxy: %s@%s (%d files)\n", modPath, version, len(files))
	return list.Close()
}

// modulePath returns the path on go.mod's module line.
func modulePath(gomod []byte) string {
	for _, line := range strings.Split(string(gomod), "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`)
		}
	}
	return ""
}

// moduleFiles lists dir's files (slash-separated, relative to dir) that git
// would publish, leaving out every nested module's directory.
func moduleFiles(dir string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ".")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("git ls-files: %v: %s", err, stderr.String())
	}
	var all []string
	nested := map[string]bool{} // directories holding another go.mod
	for _, f := range strings.Split(string(outb), "\x00") {
		if f == "" {
			continue
		}
		st, err := os.Lstat(filepath.Join(dir, filepath.FromSlash(f)))
		if err != nil {
			if errors.Is(err, os.ErrNotExist) {
				continue // deleted in the working tree
			}
			return nil, err
		}
		if !st.Mode().IsRegular() {
			continue // symlinks and the like are not part of a module zip
		}
		if path.Base(f) == "go.mod" && f != "go.mod" {
			nested[path.Dir(f)] = true
		}
		all = append(all, f)
	}
	var files []string
	for _, f := range all {
		if !inNested(f, nested) {
			files = append(files, f)
		}
	}
	return files, nil
}

func inNested(f string, nested map[string]bool) bool {
	for d := path.Dir(f); d != "."; d = path.Dir(d) {
		if nested[d] {
			return true
		}
	}
	return false
}

// writeZip writes the module zip: every file under the prefix module@version/.
func writeZip(name, prefix, dir string, files []string) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(f)
	for _, rel := range files {
		w, err := zw.Create(prefix + "/" + rel)
		if err != nil {
			f.Close()
			return err
		}
		src, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			f.Close()
			return err
		}
		_, err = io.Copy(w, src)
		src.Close()
		if err != nil {
			f.Close()
			return err
		}
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// escapePath is the module proxy's case encoding: each upper-case letter
// becomes "!" and its lower-case form.
func escapePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if 'A' <= r && r <= 'Z' {
			b.WriteByte('!')
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}
