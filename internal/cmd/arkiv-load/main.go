// Command arkiv-load is the load generator of the serving benchmark
// (issue 5): against a running `arkiv serve` it runs two phases.
//
//  1. Search: --clients concurrent clients search for --duration, each
//     request either a phone number (number=) or one day (from=D&to=D+1),
//     drawn from --targets; it reports throughput, p50/p99/max latency and
//     errors (transport errors and statuses other than 200).
//  2. Play: --players concurrent players stream recordings of inquiries
//     found by searching the target days with has_recording=true, as a
//     browser does: half the plays from the start (Range: bytes=0-), half
//     a seek (the last 16-80 KiB, Range: bytes=-N), each read to its end
//     at full speed; it reports MB/s and p50/p99 time to first byte.
//
// The token (--token-file, or ARKIV_TOKEN) needs the viewer and content
// roles; every play is audited under it. Targets is a JSON file
// {"numbers": ["+46701234567", ...], "days": ["2026-11-28", ...]}.
//
// Usage:
//
//	arkiv-load --url http://127.0.0.1:8080 --token-file tok --targets t.json \
//	  [--clients 50] [--duration 60s] [--players 20] [--play-duration 30s] [--json out.json]
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "arkiv-load:", err)
		os.Exit(1)
	}
}

// config is what the flags say.
type config struct {
	url, token        string
	targets           Targets
	clients, players  int
	duration, playFor time.Duration
	jsonOut           string
	maxRecordings     int
	requestTimeout    time.Duration
}

// Targets are the numbers and days the clients search.
type Targets struct {
	Numbers []string `json:"numbers"`
	Days    []string `json:"days"`
}

func parseConfig(args []string) (*config, error) {
	fs := flag.NewFlagSet("arkiv-load", flag.ContinueOnError)
	c := &config{}
	fs.StringVar(&c.url, "url", "http://127.0.0.1:8080", "base URL of arkiv serve")
	tokenFile := fs.String("token-file", "", "file holding a token with the viewer and content roles (default: $ARKIV_TOKEN)")
	targets := fs.String("targets", "", `JSON file {"numbers": [...], "days": ["2026-11-28", ...]} (required)`)
	fs.IntVar(&c.clients, "clients", 50, "concurrent searching clients (0: skip the search phase)")
	fs.DurationVar(&c.duration, "duration", 60*time.Second, "length of the search phase")
	fs.IntVar(&c.players, "players", 20, "concurrent players (0: skip the play phase)")
	fs.DurationVar(&c.playFor, "play-duration", 30*time.Second, "length of the play phase")
	fs.IntVar(&c.maxRecordings, "recordings", 500, "at most this many recordings to play, found on the target days")
	fs.DurationVar(&c.requestTimeout, "timeout", 30*time.Second, "a request taking longer is an error")
	fs.StringVar(&c.jsonOut, "json", "", "also write the figures as JSON to this file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	c.url = strings.TrimSuffix(c.url, "/")
	c.token = os.Getenv("ARKIV_TOKEN")
	if *tokenFile != "" {
		b, err := os.ReadFile(*tokenFile)
		if err != nil {
			return nil, err
		}
		c.token = strings.TrimSpace(string(b))
	}
	if c.token == "" || *targets == "" {
		return nil, errors.New("a token (--token-file or ARKIV_TOKEN) and --targets are required")
	}
	b, err := os.ReadFile(*targets)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &c.targets); err != nil {
		return nil, fmt.Errorf("%s: %w", *targets, err)
	}
	if len(c.targets.Numbers) == 0 || len(c.targets.Days) == 0 {
		return nil, fmt.Errorf("%s: give at least one number and one day", *targets)
	}
	for _, d := range c.targets.Days {
		if _, err := time.Parse(time.DateOnly, d); err != nil {
			return nil, fmt.Errorf("%s: day %q: want 2026-11-28", *targets, d)
		}
	}
	if c.clients < 0 || c.players < 0 || c.duration <= 0 || c.playFor <= 0 {
		return nil, errors.New("--clients and --players must be 0 or more, durations positive")
	}
	return c, nil
}

// Report is the figures of a run.
type Report struct {
	Search *SearchReport `json:"search,omitempty"`
	Play   *PlayReport   `json:"play,omitempty"`
}

func run(ctx context.Context, args []string, out io.Writer) error {
	c, err := parseConfig(args)
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: c.requestTimeout, Transport: &http.Transport{
		MaxIdleConns: 2 * (c.clients + c.players), MaxIdleConnsPerHost: 2 * (c.clients + c.players),
		IdleConnTimeout: time.Minute, DisableCompression: true}}
	l := &loader{c: c, client: client}
	var rep Report
	if c.clients > 0 {
		if rep.Search, err = l.searchPhase(ctx); err != nil {
			return err
		}
		rep.Search.print(out)
	}
	if c.players > 0 && ctx.Err() == nil {
		if rep.Play, err = l.playPhase(ctx); err != nil {
			return err
		}
		rep.Play.print(out)
	}
	if c.jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(c.jsonOut, append(b, '\n'), 0o644)
	}
	return nil
}
