// Package browsertest starts Debian's Chromium for tests that drive pages
// in a real browser (chromedp). A missing browser skips the test on a
// developer's machine and fails it under CI=true.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// ChromiumEnv overrides the path of the browser.
const ChromiumEnv = "CHROMIUM_PATH"

// Chromium returns the browser to drive, or skips the test (what names it,
// for the message) on a machine without one. CI must run it, so there a
// missing browser fails.
func Chromium(t *testing.T, what string) string {
	t.Helper()
	if p := os.Getenv(ChromiumEnv); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "/usr/bin/chromium"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "chromium is not installed (apt-get install -y chromium, or set " + ChromiumEnv + "): skipping " + what
	if os.Getenv("CI") == "true" {
		t.Fatal("CI=true but " + msg)
	}
	t.Skip(msg)
	return ""
}

// New starts a headless chromium with a fresh profile and returns a tab's
// context, bounded by timeout, with a window of width×height. The flags
// keep the browser from reaching anything but the test server on its own
// (updates, sync, QUIC).
func New(t *testing.T, execPath string, timeout time.Duration, width, height int) context.Context {
	t.Helper()
	ctx, cancelTimeout := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancelTimeout)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(execPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true), // tests run as root in CI
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	// Cleanups run last-in first-out: the browser exits before its profile
	// directory is removed.
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	// Start the browser and open the tab now: the first use of a context
	// must not race with another, and the console watcher runs in its own
	// goroutine.
	if err := chromedp.Do(tabCtx); err != nil {
		t.Fatalf("start %s: %v", execPath, err)
	}
	return tabCtx
}
