package server

import (
	"context"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	mp3gen "github.com/arkiv-project/arkiv/internal/mp3"
	"github.com/arkiv-project/arkiv/query"
	"github.com/arkiv-project/arkiv/schema"
)

const chromiumPath = "/usr/bin/chromium"

// silentMP3 is a recording as loadgen and arkiv demo make them (package
// mp3: silent frames with pseudo-random filler) that lasts the given time.
func silentMP3(t *testing.T, d time.Duration) []byte {
	b, err := mp3gen.Silent(d, rand.NewChaCha8([32]byte{'b', 'r', 'o', 'w', 's', 'e', 'r'}))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The person of the browser test: a call with a recording and a chat with
// a chat log, both from this number.
const (
	browserNumber   = "+46705551234"
	browserTyped    = "070-555 12 34" // as an administrator types it
	browserChatText = "Jag vill ändra min adress <b>inte fet</b>"
)

// TestBrowser drives the web page in headless Chromium: sign in, search a
// number typed with spaces and dashes, open the call and play a second of
// its recording, read a chat log, delete it after confirming, anonymise
// the person and find those actions on the audit page. It saves a
// screenshot of each page to $ARKIV_ARTIFACTS (or a temporary folder).
func TestBrowser(t *testing.T) {
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Skip("no " + chromiumPath + "; install chromium to run the browser test")
	}
	if testing.Short() {
		t.Skip("browser test skipped with -short")
	}
	e := newEnv(t, func(l *testLake) {
		b1 := phone("b1", daysAgo(1, 14), browserNumber)
		b2 := chat("b2", daysAgo(2, 15), "Cecilia Kund", "cecilia@example.com")
		b2.ChatterNumber = sp(browserNumber)
		l.inquiries("t01", b1, b2)
		l.recording("t01", b1, "rb1", silentMP3(t, 3*time.Second))
		l.chatlog("t01", b2, browserChatText)
	})
	artifacts := os.Getenv("ARKIV_ARTIFACTS")
	if artifacts == "" {
		artifacts = t.TempDir()
	}
	artifacts = filepath.Join(artifacts, "browser")
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("mute-audio", true),
		chromedp.Flag("lang", "en-GB"),
		chromedp.WindowSize(1280, 900),
		chromedp.UserDataDir(t.TempDir()),
	)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	// Script errors and Content-Security-Policy violations fail the test.
	var mu sync.Mutex
	var problems []string
	if err := chromedp.Listen(bctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			problems = append(problems, "exception: "+ev.ExceptionDetails.Text+" "+exceptionDescription(ev))
		case *log.EventEntryAdded:
			if strings.Contains(ev.Entry.Text, "Content Security Policy") {
				problems = append(problems, "csp: "+ev.Entry.Text)
			}
		}
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(bctx, log.Enable, struct{}{}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(bctx, runtime.Enable, struct{}{}); err != nil {
		t.Fatal(err)
	}

	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, actions...); err != nil {
			shot(t, bctx, artifacts, "failed-"+name)
			t.Fatalf("%s: %v", name, err)
		}
	}
	eval := func(name, js string) string {
		t.Helper()
		v, err := chromedp.Run(bctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
		if err != nil {
			shot(t, bctx, artifacts, "failed-"+name)
			t.Fatalf("%s: %v", name, err)
		}
		return v
	}
	waitJS := func(name, predicate string, timeout time.Duration) {
		t.Helper()
		if _, err := chromedp.Run(bctx, chromedp.Poll[chromedp.Void](predicate,
			chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout))); err != nil {
			shot(t, bctx, artifacts, "failed-"+name)
			t.Fatalf("%s: waiting for %s: %v", name, predicate, err)
		}
	}
	shots := []string{}
	screenshot := func(name string) {
		t.Helper()
		shots = append(shots, shot(t, bctx, artifacts, name))
	}

	// 1. Sign in.
	step("open page",
		chromedp.Navigate(e.srv.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("token")))
	screenshot("1-signin")
	step("sign in",
		chromedp.SendKeys(chromedp.ID("token"), secretOf("t01-all")),
		chromedp.Click(chromedp.ID("signin-btn")),
		chromedp.WaitVisible(chromedp.ID("f-number")))
	if v := eval("token cleared", `document.querySelector('#token').value`); v != "" {
		t.Errorf("the token field still holds the token after sign-in")
	}

	// 2. Search by a number typed with spaces and dashes.
	step("search",
		chromedp.SendKeys(chromedp.ID("f-number"), browserTyped),
		chromedp.Click(chromedp.ID("search-btn")),
		chromedp.WaitVisible(chromedp.CSS(`#results tr[data-id="b1"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#chart svg rect.bar`)))
	if ids := eval("result ids", `[...document.querySelectorAll('#results tbody tr')].map(r => r.dataset.id).join(',')`); ids != "b1,b2" {
		t.Errorf("results %q, want b1,b2", ids)
	}
	step("select all", chromedp.Click(chromedp.ID("select-all")))
	if n := eval("selected", `String(document.querySelectorAll('#results .row-select:checked').length)`); n != "2" {
		t.Errorf("select-all checked %s rows, want 2", n)
	}
	screenshot("2-search")

	// 3. Open the call; its recording loads and plays a second.
	step("open call",
		chromedp.Click(chromedp.CSS(`#results tr[data-id="b1"] a.open`)),
		chromedp.WaitVisible(chromedp.CSS(`#view-detail audio.rec-audio`)))
	waitJS("audio metadata", `document.querySelector('audio.rec-audio').readyState >= 1`, 10*time.Second)
	if d := eval("duration", `String(Math.round(document.querySelector('audio.rec-audio').duration))`); d != "3" {
		t.Errorf("audio duration %s s, want 3", d)
	}
	eval("play", `document.querySelector('audio.rec-audio').play().then(() => 'playing')`)
	waitJS("playback", `document.querySelector('audio.rec-audio').currentTime >= 1`, 10*time.Second)
	if errText := eval("audio error", `String(document.querySelector('audio.rec-audio').error && document.querySelector('audio.rec-audio').error.message || '')`); errText != "" {
		t.Errorf("audio element error: %s", errText)
	}
	if v := eval("caller", `document.querySelector('#detail-fields dd[data-key="caller_number"]').textContent`); v != browserNumber {
		t.Errorf("caller number shown %q", v)
	}
	screenshot("3-inquiry-recording")

	// 4. Back to the results, open the chat: its chat log shows, as text.
	step("open chat",
		chromedp.Click(chromedp.CSS(`#view-detail a[href="#/search"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#results tr[data-id="b2"] a.open`)),
		chromedp.Click(chromedp.CSS(`#results tr[data-id="b2"] a.open`)),
		chromedp.WaitVisible(chromedp.CSS(`#chatlog li.msg`)))
	if text := eval("chat text", `document.querySelector('#chatlog li.msg .text').textContent`); text != browserChatText {
		t.Errorf("chat log text %q, want %q", text, browserChatText)
	}
	if n := eval("no markup", `String(document.querySelectorAll('#chatlog b').length)`); n != "0" {
		t.Errorf("the chat text was rendered as HTML")
	}
	screenshot("4-chatlog")

	// 5. Delete the chat log after confirming.
	eval("stub confirm", `window.__confirms = []; window.confirm = (m) => { window.__confirms.push(m); return true; }; 'ok'`)
	step("delete chat log",
		chromedp.Click(chromedp.ID("delete-chatlog-btn")),
		chromedp.WaitNotVisible(chromedp.ID("detail-chat")))
	waitJS("delete message", `document.querySelector('#msg').textContent.startsWith('Deleted')`, 5*time.Second)
	if m := eval("confirm text", `window.__confirms.join('|')`); !strings.Contains(m, "chat logs of this inquiry") {
		t.Errorf("confirm said %q", m)
	}
	if r := e.do(call{method: "GET", path: "/api/v1/inquiries/b2/chatlog", token: "t01-all"}); r.status != 404 {
		t.Errorf("chat log after delete: %d", r.status)
	}
	screenshot("5-chatlog-deleted")

	// 6. Anonymise the person and see the receipt.
	step("anonymise",
		chromedp.Click(chromedp.ID("nav-anon")),
		chromedp.WaitVisible(chromedp.ID("anon-numbers")),
		chromedp.SendKeys(chromedp.ID("anon-numbers"), browserTyped),
		chromedp.Click(chromedp.ID("anon-btn")),
		chromedp.WaitVisible(chromedp.ID("receipt")))
	if n := eval("receipt", `document.querySelector('#receipt-fields dd[data-key="inquiries"]').textContent`); n != "2" {
		t.Errorf("receipt counts %s inquiries, want 2", n)
	}
	if strings.Contains(eval("receipt json", `document.querySelector('#receipt-json').textContent`), "5551234") {
		t.Errorf("the receipt shows the number")
	}
	screenshot("6-anonymise-receipt")

	// 7. The audit page lists those actions.
	step("audit",
		chromedp.Click(chromedp.ID("nav-audit")),
		chromedp.WaitVisible(chromedp.CSS(`#audit-table tr.audit-row`)))
	rows := eval("audit rows", `[...document.querySelectorAll('#audit-table tr.audit-row')].map(r => r.children[4].textContent + ' ' + r.children[3].textContent + ' ' + r.children[1].textContent).join('\n')`)
	for _, want := range []string{
		"b1 " + string(query.ActionPlayRecording) + " t01-all",
		"b2 " + string(query.ActionViewChatlog) + " t01-all",
		"b2 " + string(query.ActionDeleteChatlog) + " t01-all",
		"b1 " + string(query.ActionAnonymise) + " t01-all",
		"b2 " + string(query.ActionAnonymise) + " t01-all",
	} {
		if !slices.Contains(strings.Split(rows, "\n"), want) {
			t.Errorf("the audit page lacks %q; it lists:\n%s", want, rows)
		}
	}
	screenshot("7-audit")

	// 8. The language toggle switches the labels to Swedish.
	step("svenska", chromedp.Click(chromedp.ID("lang-btn")))
	if v := eval("swedish", `document.querySelector('#nav-search').textContent`); v != "Sök" {
		t.Errorf("after the toggle the search tab reads %q", v)
	}
	screenshot("8-audit-svenska")

	// The recording was served in ranges to the player (the engine
	// audits each request as a play).
	plays := 0
	for _, row := range e.audit("t01") {
		if row.InquiryID == "b1" && row.Action == string(query.ActionPlayRecording) {
			plays++
		}
		if row.ActorKind != schema.ActorAdmin {
			t.Errorf("audit row of kind %q", row.ActorKind)
		}
	}
	if plays == 0 {
		t.Error("no play of b1 audited")
	}
	if !strings.Contains(e.logs.String(), `"route":"GET /api/v1/inquiries/{id}/recording","status":206`) {
		t.Error("the player made no Range request answered 206")
	}
	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("browser: %s", p)
	}
	t.Logf("screenshots: %s", strings.Join(shots, ", "))
}

func exceptionDescription(ev *runtime.EventExceptionThrown) string {
	if ev.ExceptionDetails != nil && ev.ExceptionDetails.Exception != nil {
		return ev.ExceptionDetails.Exception.Description
	}
	return ""
}

// shot saves a full-page PNG screenshot and returns its path ("" when it
// could not be taken).
func shot(t *testing.T, ctx context.Context, dir, name string) string {
	t.Helper()
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return ""
	}
	return p
}
