package webassets_test

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"strings"
	"testing"

	"myapi/internal/webassets"
)

// The embedded files are the ones fetch.sh took from the pinned packages:
// each matches the sha256 it recorded, and every embedded file is listed.
func TestEmbeddedAssetsMatchSHA256SUMS(t *testing.T) {
	sums, err := webassets.FS.Open("SHA256SUMS")
	if err != nil {
		t.Fatal(err)
	}
	defer sums.Close()
	listed := map[string]bool{}
	sc := bufio.NewScanner(sums)
	for sc.Scan() {
		want, name, ok := strings.Cut(sc.Text(), "  ")
		if !ok {
			t.Fatalf("SHA256SUMS: malformed line %q", sc.Text())
		}
		b, err := fs.ReadFile(webassets.FS, name)
		if err != nil {
			t.Errorf("%s is listed but not embedded: %v", name, err)
			continue
		}
		got := sha256.Sum256(b)
		if hex.EncodeToString(got[:]) != want {
			t.Errorf("%s: sha256 %x, SHA256SUMS says %s (run internal/webassets/fetch.sh)", name, got, want)
		}
		listed[name] = true
	}
	if len(listed) == 0 {
		t.Fatal("SHA256SUMS lists nothing")
	}
	err = fs.WalkDir(webassets.FS, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path == "SHA256SUMS" {
			return err
		}
		if !listed[path] {
			t.Errorf("%s is embedded but not in SHA256SUMS", path)
		}
		if !strings.Contains(path, "/") {
			t.Errorf("%s: assets live in a directory per package", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, licence := range []string{"redoc/LICENSE"} {
		if !listed[licence] {
			t.Errorf("%s: every package's licence is embedded with it", licence)
		}
	}
}
