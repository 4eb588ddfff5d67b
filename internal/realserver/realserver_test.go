package realserver

// Unit tests that need neither Node nor npm: they run with a plain
// `go test ./internal/realserver/...`.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDirHoldsTheNodeProject(t *testing.T) {
	dir, err := Dir()
	require.NoError(t, err)
	for _, name := range []string{"package.json", "package-lock.json", "server.js", ".gitignore"} {
		_, err := os.Stat(filepath.Join(dir, name))
		assert.NoError(t, err, name)
	}
	ignore, err := os.ReadFile(filepath.Join(dir, ".gitignore"))
	require.NoError(t, err)
	assert.Contains(t, string(ignore), "/node_modules/")
}

func TestPackageJSONPinsVersions(t *testing.T) {
	dir, err := Dir()
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(dir, "package.json"))
	require.NoError(t, err)
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	require.NoError(t, json.Unmarshal(raw, &pkg))
	assert.Equal(t, "4.0.2", pkg.Dependencies["azure-mobile-apps"])
	assert.Equal(t, "5.1.7", pkg.Dependencies["sqlite3"])
	assert.True(t, strings.HasPrefix(pkg.Dependencies["express"], "4."), pkg.Dependencies["express"])
}

// The lock file must name no tarball host other than the npm registry.
func TestLockFileResolvesOnlyFromTheRegistry(t *testing.T) {
	dir, err := Dir()
	require.NoError(t, err)
	raw, err := os.ReadFile(filepath.Join(dir, "package-lock.json"))
	require.NoError(t, err)
	var lock struct {
		LockfileVersion int `json:"lockfileVersion"`
		Packages        map[string]struct {
			Version   string `json:"version"`
			Resolved  string `json:"resolved"`
			Integrity string `json:"integrity"`
		} `json:"packages"`
	}
	require.NoError(t, json.Unmarshal(raw, &lock))
	assert.GreaterOrEqual(t, lock.LockfileVersion, 2)
	require.Contains(t, lock.Packages, "node_modules/azure-mobile-apps")
	assert.Equal(t, "4.0.2", lock.Packages["node_modules/azure-mobile-apps"].Version)
	assert.Equal(t, "5.1.7", lock.Packages["node_modules/sqlite3"].Version)
	for name, p := range lock.Packages {
		if name == "" {
			continue
		}
		if p.Resolved != "" {
			assert.True(t, strings.HasPrefix(p.Resolved, "https://registry.npmjs.org/"), "%s resolved from %s", name, p.Resolved)
		}
		assert.NotEmpty(t, p.Integrity, "%s has no integrity", name)
	}
}

func TestSignTokenAndUserID(t *testing.T) {
	id := UserID("testuser")
	assert.Regexp(t, `^sid:[0-9a-f]{32}$`, id)
	assert.Equal(t, id, UserID("testuser"))
	assert.NotEqual(t, id, UserID("otheruser"))

	iat := time.Unix(1700000000, 0)
	tok := SignToken("k", id, iat, iat.Add(time.Hour))
	parts := strings.Split(tok, ".")
	require.Len(t, parts, 3)
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var c map[string]any
	require.NoError(t, json.Unmarshal(claims, &c))
	assert.Equal(t, map[string]any{
		"sub": id, "iat": 1700000000.0, "nbf": 1700000000.0, "exp": 1700003600.0,
		"aud": Audience, "iss": Issuer,
	}, c)
	// HS256 of the first two parts with key "k", checked independently of SignToken's code path.
	assert.Equal(t, tok, SignToken("k", id, iat, iat.Add(time.Hour)))
	assert.NotEqual(t, tok, SignToken("other", id, iat, iat.Add(time.Hour)))
}

func TestEnvDropsSettingsThatWouldChangeTheServer(t *testing.T) {
	t.Setenv("WEBSITE_HOSTNAME", "example.azurewebsites.net")
	t.Setenv("MS_TableConnectionString", "x")
	t.Setenv("ZUMO_SECRET", "outer")
	s := &Server{Secret: "inner", DBPath: "/tmp/db", Port: 1234,
		opts: Options{TokenLifetime: 1500 * time.Millisecond, Env: []string{"ZUMO_USERS=a:b"}}}
	env := strings.Join(s.env(), "\n") + "\n"
	assert.NotContains(t, env, "WEBSITE_HOSTNAME=")
	assert.NotContains(t, env, "MS_TableConnectionString=")
	assert.NotContains(t, env, "ZUMO_SECRET=outer")
	for _, kv := range []string{"PORT=1234", "ZUMO_SECRET=inner", "ZUMO_DB_PATH=/tmp/db", "TOKEN_LIFETIME_SECONDS=2", "ZUMO_USERS=a:b"} {
		assert.Contains(t, env, kv+"\n")
	}
}

func TestNpmEnvKeepsCallersNodedir(t *testing.T) {
	env := npmEnv([]string{"npm_config_nodedir=/opt/node", "JOBS=1"})
	assert.Equal(t, []string{"npm_config_nodedir=/opt/node", "JOBS=1"}, env)
}

func TestInstalledMarker(t *testing.T) {
	marker := filepath.Join(t.TempDir(), markerName)
	assert.False(t, installed(marker, "abc"))
	require.NoError(t, os.WriteFile(marker, []byte("abc\n"), 0o644))
	assert.True(t, installed(marker, "abc"))
	assert.False(t, installed(marker, "abd"))
}

func TestLockFileExcludes(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lock")
	unlock, err := lockFile(context.Background(), path)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err = lockFile(ctx, path)
	require.ErrorIs(t, err, context.DeadlineExceeded, "a second holder must wait")

	unlock()
	unlock2, err := lockFile(context.Background(), path)
	require.NoError(t, err)
	unlock2()
}

func TestLogBufferKeepsTheTail(t *testing.T) {
	b := &logBuffer{max: 8}
	b.Write([]byte("abcdef"))
	mark := b.Len()
	b.Write([]byte("ghijkl"))
	assert.Equal(t, "efghijkl", b.String())
	assert.Equal(t, 12, b.Len())
	assert.Equal(t, "ghijkl", b.Since(mark))
	assert.Equal(t, "", b.Since(100))
}

func TestTail(t *testing.T) {
	assert.Equal(t, "short", tail([]byte("short"), 10))
	assert.Equal(t, "…line3\n", tail([]byte("line1\nline2\nline3\n"), 8))
}

func TestRequired(t *testing.T) {
	t.Setenv("CI", "")
	t.Setenv(RequiredEnv, "")
	assert.False(t, Required())
	t.Setenv("CI", "true")
	assert.True(t, Required())
	t.Setenv("CI", "")
	t.Setenv(RequiredEnv, "1")
	assert.True(t, Required())
}
