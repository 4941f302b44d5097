package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/config"
)

func TestTokenCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run(t.Context(), []string{"token", "--tenant", "t01", "--roles", "viewer,content"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	secret := regexp.MustCompile(`arkiv_[A-Za-z0-9_-]{43}`).FindString(out.String())
	if secret == "" {
		t.Fatalf("no token in %q", out.String())
	}
	// The snippet, under tokens:, is a valid configuration with the hash.
	i := strings.Index(out.String(), "  - ")
	cfg, err := config.Decode(strings.NewReader("tokens:\n" + out.String()[i:]))
	if err != nil {
		t.Fatalf("snippet: %v\n%s", err, out.String())
	}
	tok := cfg.TokenByHash(config.HashToken(secret))
	if tok == nil || tok.Tenant != "t01" || !tok.Has(config.RoleContent) || tok.Support {
		t.Fatalf("token %+v", tok)
	}
	if strings.Count(out.String(), secret) != 1 {
		t.Error("the token is printed more than once")
	}
	out.Reset()
	if code := run(t.Context(), []string{"token", "--support", "--roles", "viewer"}, nil, &out, &errb); code != 0 {
		t.Fatalf("support: exit %d: %s", code, errb.String())
	}
	if !strings.Contains(out.String(), `tenant: '*'`) || !strings.Contains(out.String(), "support: true") {
		t.Errorf("support snippet: %s", out.String())
	}
	for _, args := range [][]string{{"token", "--roles", "viewer"}, {"token", "--tenant", "t01"},
		{"token", "--tenant", "t01", "--roles", "root"}, {"token", "--tenant", "T 1", "--roles", "viewer"},
		{"token", "--support", "--tenant", "t01", "--roles", "viewer"}} {
		if code := run(t.Context(), args, nil, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

func TestServeFlags(t *testing.T) {
	var out, errb bytes.Buffer
	for _, args := range [][]string{{"serve"}, {"serve", "--lake", t.TempDir()},
		{"serve", "--lake", t.TempDir(), "--config", "x.yaml", "--expire-at", "25:00"}} {
		if code := run(t.Context(), args, nil, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d", args, code)
		}
	}
}

func TestNextRun(t *testing.T) {
	at := 2*time.Hour + 30*time.Minute
	for now, want := range map[string]string{
		"2026-11-28T01:00:00Z": "2026-11-28T02:30:00Z",
		"2026-11-28T02:30:00Z": "2026-11-29T02:30:00Z",
		"2026-11-28T23:59:00Z": "2026-11-29T02:30:00Z",
	} {
		n, _ := time.Parse(time.RFC3339, now)
		if got := nextRun(n, at).Format(time.RFC3339); got != want {
			t.Errorf("nextRun(%s) = %s, want %s", now, got, want)
		}
	}
}
