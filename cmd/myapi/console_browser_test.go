package main

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"myapi/internal/browsertest"
	"myapi/internal/testdb"
)

// consoleShotsEnv names a directory to write screenshots of every console
// page into, at 1280×800 and 390 pixels wide (docs/console is the
// committed set).
const consoleShotsEnv = "TEST_CONSOLE_SCREENSHOTS"

// TestConsoleBrowser drives the console in Chromium through what an
// operator does, checking each step through the API too.
func TestConsoleBrowser(t *testing.T) {
	execPath := browsertest.Chromium(t, "the browser test of the admin console")
	forEachEngine(t, func(t *testing.T, engine testdb.Engine) {
		// Welcome emails go to a closed port: each fails, which gives the
		// queue failed jobs to retry.
		in := start(t, consoleSettings(engine.URL(t)).with(
			"EMAIL_ENABLED", "true", "SMTP_HOST", "127.0.0.1", "SMTP_PORT", "1", "SMTP_TLS", "none", "APP_VERSION", "1.4.2"))
		alice := register(t, in.URL, "alice@example.com", "alice", "alice-password")
		register(t, in.URL, "bob@example.com", "bob", "bob-password")
		aliceToken := login(t, in.URL, "alice", "alice-password")
		var itemIDs []int64
		for _, title := range []string{"Desk lamp", "Brass lamp", "Oak table"} {
			body := fmt.Sprintf(`{"title":%q,"price":49.5,"description":"Listed by alice"}`, title)
			status, resp := call(t, http.MethodPost, in.URL+"/items", "application/json", aliceToken, strings.NewReader(body))
			if status != http.StatusCreated {
				t.Fatalf("create item: %d %s", status, resp)
			}
			itemIDs = append(itemIDs, decode[struct {
				ID int64 `json:"id"`
			}](t, resp).ID)
		}

		shots := ""
		if engine.Name == "sqlite" {
			shots = os.Getenv(consoleShotsEnv)
		}
		ctx := browsertest.New(t, execPath, 90*time.Second, 1280, 800)
		b := &consoleBrowser{t: t, ctx: ctx, base: in.URL, shots: shots}

		// Sign in as the first superuser.
		b.open("/admin")
		b.wait(`//h1[normalize-space()="Sign in"]`)
		b.shoot("login")
		b.do(chromedp.SendKeys(chromedp.ID("username"), "root"), chromedp.SendKeys(chromedp.ID("password"), "root-password"),
			chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))
		b.wait(`//h1[normalize-space()="Dashboard"]`)
		b.shoot("dashboard")

		// Search a user.
		b.open("/admin/users")
		b.do(chromedp.SendKeys(chromedp.ID("q"), "ALI"), chromedp.Click(chromedp.CSS(`form[role="search"] button`)))
		b.wait(`//td/a[normalize-space()="alice"]`)
		if rows := b.eval(`document.querySelectorAll("main tbody tr").length`); rows != "1" {
			t.Errorf("search ALI: %s rows, want alice alone", rows)
		}
		b.shoot("users")

		// Deactivate them: their token now gets 403 from the API.
		b.do(chromedp.Click(chromedp.Search(`//td/a[normalize-space()="alice"]`)))
		b.wait(`//h1[normalize-space()="User alice"]`)
		b.shoot("user")
		b.do(chromedp.Click(chromedp.Search(`//button[normalize-space()="Deactivate"]`)))
		b.wait(`//p[@class="flash" and contains(., "deactivated")]`)
		if status, body := call(t, http.MethodGet, in.URL+"/users/me", "", aliceToken, nil); status != http.StatusForbidden {
			t.Errorf("deactivated alice's token: GET /users/me = %d %s, want 403", status, body)
		}
		b.do(chromedp.Click(chromedp.Search(`//button[normalize-space()="Activate"]`)))
		b.wait(`//p[@class="flash" and contains(., "active again")]`)
		if status, _ := call(t, http.MethodGet, in.URL+"/users/me", "", aliceToken, nil); status != http.StatusOK {
			t.Errorf("reactivated alice's token: GET /users/me = %d, want 200", status)
		}

		// Edit and delete an item; the API sees both at once.
		b.open(fmt.Sprintf("/admin/items?owner=%d", alice.ID))
		b.wait(`//td/a[normalize-space()="Desk lamp"]`)
		b.shoot("items")
		b.do(chromedp.Click(chromedp.Search(`//td/a[normalize-space()="Desk lamp"]`)))
		b.wait(`//label[@for="title"]`)
		b.shoot("item")
		b.do(chromedp.Clear(chromedp.ID("title")), chromedp.SendKeys(chromedp.ID("title"), "Desk lamp (restored)"),
			chromedp.Click(chromedp.Search(`//button[normalize-space()="Save"]`)))
		b.wait(`//p[@class="flash" and contains(., "saved")]`)
		if status, body := call(t, http.MethodGet, fmt.Sprintf("%s/items/%d", in.URL, itemIDs[0]), "", aliceToken, nil); status != http.StatusOK ||
			!strings.Contains(string(body), `"Desk lamp (restored)"`) {
			t.Errorf("edited item through the API: %d %s", status, body)
		}
		b.do(chromedp.Click(chromedp.Search(`//a[normalize-space()="Delete this item…"]`)))
		b.wait(`//h1[starts-with(normalize-space(), "Delete item")]`)
		b.shoot("item-delete")
		b.do(chromedp.Click(chromedp.Search(`//button[normalize-space()="Delete for good"]`)))
		b.wait(`//p[@class="flash" and contains(., "item is deleted")]`)
		if status, _ := call(t, http.MethodGet, fmt.Sprintf("%s/items/%d", in.URL, itemIDs[0]), "", aliceToken, nil); status != http.StatusNotFound {
			t.Errorf("deleted item through the API: %d, want 404", status)
		}

		// Retry a failed job: a welcome email that could not be sent.
		b.waitFailedJob()
		b.shoot("queue")
		b.do(chromedp.Click(chromedp.CSS(`main tbody td a[href^="/admin/queue/"]`)))
		b.wait(`//h2[normalize-space()="Errors"]/following-sibling::div//td[contains(., "127.0.0.1:1")]`)
		b.shoot("job")
		b.do(chromedp.Click(chromedp.Search(`//button[normalize-space()="Retry now"]`)))
		b.wait(`//p[@class="flash" and contains(., "run again")]`)

		// Read the audit log: every change above, newest first.
		b.open("/admin/audit")
		b.wait(`//h1[normalize-space()="Audit log"]`)
		got := b.eval(`[...document.querySelectorAll("main tbody tr td:nth-child(3)")].map(td => td.textContent).join(",")`)
		if want := "job.retry,item.delete,item.update,user.activate,user.deactivate"; got != want {
			t.Errorf("audit log actions = %s, want %s", got, want)
		}
		b.shoot("audit")

		// Every page: labels on every input, keyboard focus visible in order,
		// nothing wider than a 390-pixel phone.
		pages := []string{"/admin", "/admin/users", fmt.Sprintf("/admin/users/%d", alice.ID), "/admin/items",
			fmt.Sprintf("/admin/items/%d", itemIDs[1]), "/admin/queue", "/admin/audit"}
		for _, p := range pages {
			b.open(p)
			b.checkUsable(p)
		}
		b.do(chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		for i, p := range pages {
			b.open(p)
			b.shoot([]string{"dashboard", "users", "user", "items", "item", "queue", "audit"}[i] + "-phone")
			b.checkUsable(p)
			if wide := b.eval(`String(document.documentElement.scrollWidth > window.innerWidth)`); wide != "false" {
				t.Errorf("%s is wider than a 390-pixel screen", p)
			}
		}

		// Sign out: the console is closed again.
		b.do(chromedp.Click(chromedp.Search(`//button[normalize-space()="Sign out"]`)))
		b.wait(`//p[@class="flash" and contains(., "signed out")]`)
		b.shoot("login-phone")
		b.open("/admin/users")
		b.wait(`//h1[normalize-space()="Sign in"]`)
	})
}

type consoleBrowser struct {
	t     *testing.T
	ctx   context.Context
	base  string
	shots string
}

func (b *consoleBrowser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("browser: %v\npage text: %s", err, b.text())
	}
}

func (b *consoleBrowser) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base + path))
}

// wait waits for an element (XPath) to show, for up to 15 seconds.
func (b *consoleBrowser) wait(xpath string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 15*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.Search(xpath))); err != nil {
		b.t.Fatalf("waiting for %s: %v\npage text: %s", xpath, err, b.text())
	}
}

func (b *consoleBrowser) eval(js string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[any](js))
	if err != nil {
		b.t.Fatalf("evaluate %s: %v", js, err)
	}
	return fmt.Sprint(v)
}

func (b *consoleBrowser) text() string {
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	if err != nil {
		return "(unavailable: " + err.Error() + ")"
	}
	return v
}

// waitFailedJob opens the queue's retryable jobs until one is listed.
func (b *consoleBrowser) waitFailedJob() {
	b.t.Helper()
	for deadline := time.Now().Add(20 * time.Second); ; {
		b.open("/admin/queue?state=retryable")
		if b.eval(`document.querySelectorAll("main tbody td a[href^='/admin/queue/']").length`) != "0" {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("no retryable job after 20s\npage text: %s", b.text())
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// checkUsable checks that every input has a label and that Tab reaches
// the first link (the skip link) first, as a keyboard user needs.
func (b *consoleBrowser) checkUsable(path string) {
	b.t.Helper()
	unlabelled := b.eval(`[...document.querySelectorAll("input:not([type=hidden]), select, textarea")].filter(e => !e.labels || e.labels.length === 0).map(e => e.name).join(",")`)
	if unlabelled != "" {
		b.t.Errorf("%s: inputs without a label: %s", path, unlabelled)
	}
	b.do(chromedp.KeyEvent("\t"))
	if focused := b.eval(`document.activeElement ? document.activeElement.className : ""`); focused != "skip" {
		b.t.Errorf("%s: the first Tab focuses %q, want the skip link", path, focused)
	}
}

// shoot saves the viewport as name.png in the screenshot directory, if one
// was asked for.
func (b *consoleBrowser) shoot(name string) {
	b.t.Helper()
	if b.shots == "" {
		return
	}
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(b.shots, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}
