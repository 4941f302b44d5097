package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"
)

// loader makes the requests of both phases.
type loader struct {
	c      *config
	client *http.Client
}

// SearchReport is the search phase's figures.
type SearchReport struct {
	Clients        int            `json:"clients"`
	Seconds        float64        `json:"seconds"`
	Requests       int            `json:"requests"`
	NumberSearches int            `json:"number_searches"`
	DaySearches    int            `json:"day_searches"`
	EmptyNumber    int            `json:"number_searches_without_results"`
	PerSecond      float64        `json:"requests_per_second"`
	Latency        Latency        `json:"latency_ms"`
	NumberLatency  Latency        `json:"number_latency_ms"`
	DayLatency     Latency        `json:"day_latency_ms"`
	Errors         int            `json:"errors"`
	ErrorsByKind   map[string]int `json:"errors_by_kind,omitempty"`
}

// PlayReport is the play phase's figures.
type PlayReport struct {
	Players      int            `json:"players"`
	Recordings   int            `json:"recordings_found"`
	Seconds      float64        `json:"seconds"`
	Plays        int            `json:"plays"`
	Seeks        int            `json:"seeks"`
	Bytes        int64          `json:"bytes"`
	MBPerSecond  float64        `json:"mb_per_second"`
	TTFB         Latency        `json:"time_to_first_byte_ms"`
	Errors       int            `json:"errors"`
	ErrorsByKind map[string]int `json:"errors_by_kind,omitempty"`
}

// Latency is a distribution in milliseconds.
type Latency struct {
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	Max  float64 `json:"max"`
	Mean float64 `json:"mean"`
}

// latencyOf summarises durations (nearest-rank percentiles).
func latencyOf(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	s := slices.Clone(d)
	slices.Sort(s)
	ms := func(x time.Duration) float64 { return float64(x.Microseconds()) / 1000 }
	rank := func(p float64) time.Duration {
		i := int(p*float64(len(s))+0.999999) - 1
		return s[min(max(i, 0), len(s)-1)]
	}
	var sum time.Duration
	for _, x := range s {
		sum += x
	}
	return Latency{P50: ms(rank(0.50)), P90: ms(rank(0.90)), P99: ms(rank(0.99)), Max: ms(s[len(s)-1]),
		Mean: ms(sum / time.Duration(len(s)))}
}

// tally is one worker's results, merged at the end.
type tally struct {
	lat, numLat, dayLat []time.Duration
	errs                map[string]int
	numbers, days       int
	emptyNumber         int
	bytes               int64
	plays, seeks        int
}

func (t *tally) fail(kind string) {
	if t.errs == nil {
		t.errs = map[string]int{}
	}
	t.errs[kind]++
}

func merge(ts []*tally) *tally {
	all := &tally{errs: map[string]int{}}
	for _, t := range ts {
		all.lat = append(all.lat, t.lat...)
		all.numLat = append(all.numLat, t.numLat...)
		all.dayLat = append(all.dayLat, t.dayLat...)
		for k, n := range t.errs {
			all.errs[k] += n
		}
		all.numbers += t.numbers
		all.days += t.days
		all.emptyNumber += t.emptyNumber
		all.bytes += t.bytes
		all.plays += t.plays
		all.seeks += t.seeks
	}
	return all
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// runWorkers runs n workers until the phase ends and returns their tallies.
func runWorkers(ctx context.Context, n int, d time.Duration, work func(ctx context.Context, rng *rand.Rand, t *tally)) ([]*tally, time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	ts := make([]*tally, n)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range n {
		ts[i] = &tally{}
		rng := rand.New(rand.NewPCG(uint64(i), 0x61726b6976))
		wg.Go(func() {
			for ctx.Err() == nil {
				work(ctx, rng, ts[i])
			}
		})
	}
	wg.Wait()
	return ts, time.Since(start)
}

func (l *loader) get(ctx context.Context, path string, header map[string]string) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", l.c.url+path, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+l.c.token)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return l.client.Do(req)
}

// searchBody is the part of a search answer the loader reads.
type searchBody struct {
	Results []struct {
		InquiryID    string `json:"inquiry_id"`
		HasRecording bool   `json:"has_recording"`
	} `json:"results"`
}

// search makes one search and records it; a request cut by the end of the
// phase is not counted.
func (l *loader) search(ctx context.Context, rng *rand.Rand, t *tally) {
	byNumber := rng.IntN(2) == 0
	var q url.Values
	if byNumber {
		q = url.Values{"number": {l.c.targets.Numbers[rng.IntN(len(l.c.targets.Numbers))]}}
	} else {
		q = dayQuery(l.c.targets.Days[rng.IntN(len(l.c.targets.Days))])
	}
	start := time.Now()
	resp, err := l.get(ctx, "/api/v1/search?"+q.Encode(), nil)
	if err != nil {
		if ctx.Err() == nil {
			t.fail("transport")
		}
		return
	}
	var body searchBody
	derr := json.NewDecoder(resp.Body).Decode(&body)
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	if ctx.Err() != nil && derr != nil {
		return
	}
	t.lat = append(t.lat, elapsed)
	if byNumber {
		t.numLat = append(t.numLat, elapsed)
	} else {
		t.dayLat = append(t.dayLat, elapsed)
	}
	switch {
	case resp.StatusCode != http.StatusOK:
		t.fail("status " + strconv.Itoa(resp.StatusCode))
	case derr != nil:
		t.fail("bad json")
	case byNumber:
		t.numbers++
		if len(body.Results) == 0 {
			t.emptyNumber++
		}
	default:
		t.days++
	}
}

// dayQuery searches one whole UTC day.
func dayQuery(day string) url.Values {
	d, _ := time.Parse(time.DateOnly, day) // checked by parseConfig
	return url.Values{"from": {day}, "to": {d.AddDate(0, 0, 1).Format(time.DateOnly)}}
}

func (l *loader) searchPhase(ctx context.Context) (*SearchReport, error) {
	ts, took := runWorkers(ctx, l.c.clients, l.c.duration, l.search)
	all := merge(ts)
	return &SearchReport{Clients: l.c.clients, Seconds: took.Seconds(), Requests: len(all.lat),
		NumberSearches: all.numbers, DaySearches: all.days, EmptyNumber: all.emptyNumber,
		PerSecond: float64(len(all.lat)) / took.Seconds(), Latency: latencyOf(all.lat),
		NumberLatency: latencyOf(all.numLat), DayLatency: latencyOf(all.dayLat),
		Errors: sum(all.errs), ErrorsByKind: all.errs}, nil
}

// recordings finds up to max inquiries with a recording on the target days.
func (l *loader) recordings(ctx context.Context) ([]string, error) {
	var ids []string
	for _, day := range l.c.targets.Days {
		q := dayQuery(day)
		q.Set("has_recording", "true")
		q.Set("limit", "1000")
		resp, err := l.get(ctx, "/api/v1/search?"+q.Encode(), nil)
		if err != nil {
			return nil, err
		}
		var body searchBody
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil {
			return nil, fmt.Errorf("finding recordings on %s: status %d %v", day, resp.StatusCode, err)
		}
		for _, r := range body.Results {
			if r.HasRecording && len(ids) < l.c.maxRecordings {
				ids = append(ids, r.InquiryID)
			}
		}
		if len(ids) >= l.c.maxRecordings {
			break
		}
	}
	return ids, nil
}

// play streams one recording to its end, as a player does, and records
// the time to its first byte and the bytes read.
func (l *loader) play(ctx context.Context, rng *rand.Rand, t *tally, ids []string) {
	id := ids[rng.IntN(len(ids))]
	seek := rng.IntN(2) == 1
	rangeHdr := "bytes=0-"
	if seek {
		// A seek: the last 16-80 KiB, wherever the recording ends.
		rangeHdr = "bytes=-" + strconv.Itoa(16<<10+rng.IntN(64<<10))
	}
	start := time.Now()
	resp, err := l.get(ctx, "/api/v1/inquiries/"+url.PathEscape(id)+"/recording", map[string]string{"Range": rangeHdr})
	if err != nil {
		if ctx.Err() == nil {
			t.fail("transport")
		}
		return
	}
	defer resp.Body.Close()
	var first [1]byte
	n, rerr := io.ReadFull(resp.Body, first[:])
	ttfb := time.Since(start)
	rest, cerr := io.Copy(io.Discard, resp.Body)
	if ctx.Err() != nil && (rerr != nil || cerr != nil) {
		return // cut by the end of the phase
	}
	t.lat = append(t.lat, ttfb)
	t.bytes += int64(n) + rest
	switch {
	case resp.StatusCode != http.StatusPartialContent:
		t.fail("status " + strconv.Itoa(resp.StatusCode))
	case rerr != nil || cerr != nil:
		t.fail("read")
	case resp.Header.Get("Content-Type") != "audio/mpeg":
		t.fail("content type")
	default:
		t.plays++
		if seek {
			t.seeks++
		}
	}
}

func (l *loader) playPhase(ctx context.Context) (*PlayReport, error) {
	ids, err := l.recordings(ctx)
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("no recordings on the target days %v", l.c.targets.Days)
	}
	ts, took := runWorkers(ctx, l.c.players, l.c.playFor, func(ctx context.Context, rng *rand.Rand, t *tally) {
		l.play(ctx, rng, t, ids)
	})
	all := merge(ts)
	return &PlayReport{Players: l.c.players, Recordings: len(ids), Seconds: took.Seconds(), Plays: all.plays,
		Seeks: all.seeks, Bytes: all.bytes, MBPerSecond: float64(all.bytes) / 1e6 / took.Seconds(),
		TTFB: latencyOf(all.lat), Errors: sum(all.errs), ErrorsByKind: all.errs}, nil
}

func (r *SearchReport) print(w io.Writer) {
	fmt.Fprintf(w, "search: %d clients, %.1f s: %d requests (%d by number, %d by day; %d number searches found nothing)\n",
		r.Clients, r.Seconds, r.Requests, r.NumberSearches, r.DaySearches, r.EmptyNumber)
	fmt.Fprintf(w, "search: %.1f requests/s; latency p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms; errors %d %v\n",
		r.PerSecond, r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max, r.Errors, r.ErrorsByKind)
	fmt.Fprintf(w, "search: by number p50 %.1f ms, p99 %.1f ms; by day p50 %.1f ms, p99 %.1f ms\n",
		r.NumberLatency.P50, r.NumberLatency.P99, r.DayLatency.P50, r.DayLatency.P99)
}

func (r *PlayReport) print(w io.Writer) {
	fmt.Fprintf(w, "play: %d players, %.1f s over %d recordings: %d plays (%d seeks), %.1f MB, %.1f MB/s\n",
		r.Players, r.Seconds, r.Recordings, r.Plays, r.Seeks, float64(r.Bytes)/1e6, r.MBPerSecond)
	fmt.Fprintf(w, "play: time to first byte p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms; errors %d %v\n",
		r.TTFB.P50, r.TTFB.P90, r.TTFB.P99, r.TTFB.Max, r.Errors, r.ErrorsByKind)
}
