package loadgen

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/arkiv-project/arkiv/schema"
)

// Message is one Kafka record to produce. The generator never touches a
// Message again once returned: the caller owns its slices.
type Message struct {
	Topic   string
	Key     []byte
	Value   []byte
	Headers []schema.Header
}

// Topics names the four input topics. Empty names get DefaultTopics.
type Topics struct {
	Inquiries, Chatlogs, Recordings, Surveys string
}

// DefaultTopics returns the topic names arkiv's configuration uses by
// default.
func DefaultTopics() Topics {
	return Topics{Inquiries: "arkiv.inquiries", Chatlogs: "arkiv.chatlogs",
		Recordings: "arkiv.recordings", Surveys: "arkiv.surveys"}
}

// Defaults of Options.
const (
	DefaultRecordingBytes = 64 << 10
	DefaultChunkBytes     = 16 << 10
	// DefaultSpan is the length of [Start, End) when Start or End is unset:
	// a backfill of the general-information retention.
	DefaultSpan = 180 * 24 * time.Hour
	// MaxBadShare bounds BadShare, so that valid traffic always advances.
	MaxBadShare = 0.5
)

// DefaultEnd is End when neither Start nor End is set. It is fixed, not the
// clock, so that zero Options are deterministic too.
func DefaultEnd() time.Time { return time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC) }

// Options describe the traffic. The zero value is valid: one tenant, no
// inquiries.
type Options struct {
	// Tenants is the number of tenants, named t0001, t0002 ... (at least 1).
	Tenants int
	// Count is the number of (valid) inquiries to generate. Invalid records
	// (BadShare) come in addition.
	Count int
	Seed  int64
	// Start and End bound started_at of the inquiries: [Start, End). Unset,
	// End is DefaultEnd (or Start+DefaultSpan) and Start is End-DefaultSpan.
	// An End not after Start becomes Start plus one hour.
	Start, End time.Time
	// Recordings says whether recording chunks are generated at all. The
	// inquiries are the same either way.
	Recordings bool
	// RecordingBytes is the median recording size (DefaultRecordingBytes);
	// ChunkBytes the chunk size (DefaultChunkBytes).
	RecordingBytes int
	ChunkBytes     int
	Topics         Topics
	// BadShare is the expected share of deliberately invalid records among
	// all messages, from 0 (default) to MaxBadShare.
	BadShare float64
}

func (o Options) withDefaults() Options {
	o.Tenants = max(o.Tenants, 1)
	o.Count = max(o.Count, 0)
	switch {
	case o.Start.IsZero() && o.End.IsZero():
		o.End = DefaultEnd()
	case o.End.IsZero():
		o.End = o.Start.Add(DefaultSpan)
	}
	if o.Start.IsZero() {
		o.Start = o.End.Add(-DefaultSpan)
	}
	if !o.End.After(o.Start) {
		o.End = o.Start.Add(time.Hour)
	}
	if o.RecordingBytes <= 0 {
		o.RecordingBytes = DefaultRecordingBytes
	}
	if o.ChunkBytes <= 0 {
		o.ChunkBytes = DefaultChunkBytes
	}
	o.Topics = o.Topics.withDefaults()
	if math.IsNaN(o.BadShare) || o.BadShare < 0 {
		o.BadShare = 0
	}
	o.BadShare = min(o.BadShare, MaxBadShare)
	return o
}

func (t Topics) withDefaults() Topics {
	d := DefaultTopics()
	for _, f := range []struct{ p, def *string }{{&t.Inquiries, &d.Inquiries},
		{&t.Chatlogs, &d.Chatlogs}, {&t.Recordings, &d.Recordings}, {&t.Surveys, &d.Surveys}} {
		if *f.p == "" {
			*f.p = *f.def
		}
	}
	return t
}

// window is how many inquiries have messages in flight at once: an
// inquiry's messages are interleaved with those of its neighbours.
const window = 8

// Generator yields the messages of Options in a realistic order: an
// inquiry's content (recording chunks, chat log) and survey come near its
// inquiry record, sometimes before it. It is not safe for concurrent use.
//
// Three random streams keep the traffic stable under options that should
// not change it: planRand plans the valid inquiries, shuffleRand interleaves
// their messages, and badRand decides where invalid records go and makes
// them. So the valid messages are the same whatever BadShare is, in the same
// order, and the JSON messages are the same whatever Recordings is.
type Generator struct {
	o           Options
	rng         *rand.Rand // the stream in use: planRand, or badRand inside invalid
	planRand    *rand.Rand
	shuffleRand *rand.Rand
	badRand     *rand.Rand
	seed        uint64
	cet         *time.Location // +01:00, the other zone timestamps are written in
	tenants     []*tenant
	weights     []float64 // cumulative share of traffic per tenant; the last is 1
	clock       *timeline

	next  int       // index of the next inquiry to plan
	open  []*flow   // inquiries with messages left, oldest first
	last  time.Time // started_at of the latest planned inquiry
	truth *Truth

	inBad   bool      // inside invalid: use the invalid records' counters
	secretN [2]int    // make every secret unique, valid and invalid apart
	audioN  [2]uint64 // seed the bytes of every recording, valid and invalid apart
	badN    int       // numbers the ids of invalid records
}

// tenant is the generator's state of one tenant.
type tenant struct {
	index     int
	id        string
	inquiries int // last inquiry counter used in an id
	surveys   int // last survey counter used in an id
	people    int // size of the pool of callers and chatters
	truth     *TenantTruth
}

// New returns a generator of the traffic o describes. It allocates nothing
// in proportion to Count: messages are made as Next asks for them.
func New(o Options) *Generator {
	o = o.withDefaults()
	seed := uint64(o.Seed)
	g := &Generator{
		o:           o,
		seed:        seed,
		planRand:    rand.New(rand.NewPCG(seed, 0x5851f42d4c957f2d)),
		shuffleRand: rand.New(rand.NewPCG(seed, 0x14057b7ef767814f)),
		badRand:     rand.New(rand.NewPCG(seed, 0x2545f4914f6cdd1d)),
		cet:         time.FixedZone("", 3600),
		clock:       newTimeline(o.Start, o.End),
		truth:       newTruth(),
	}
	g.rng = g.planRand
	g.makeTenants()
	return g
}

func (g *Generator) makeTenants() {
	total := 0.0
	for i := range g.o.Tenants {
		total += tenantWeight(i)
	}
	cum := 0.0
	for i := range g.o.Tenants {
		cum += tenantWeight(i) / total
		t := &tenant{index: i, id: TenantID(i + 1), truth: newTenantTruth()}
		expected := float64(g.o.Count) * tenantWeight(i) / total
		t.people = max(16, int(expected/3))
		g.tenants = append(g.tenants, t)
		g.truth.Tenants[t.id] = t.truth
		g.weights = append(g.weights, cum)
	}
	g.weights[len(g.weights)-1] = 1
}

// tenantWeight skews traffic: tenant n (from 1) gets a share proportional
// to 1/sqrt(n), so there are big and small tenants.
func tenantWeight(i int) float64 { return 1 / math.Sqrt(float64(i+1)) }

// TenantID is the id of the n-th tenant (from 1): t0001, t0002 ...
func TenantID(n int) string { return "t" + pad(n, 4) }

// Next returns the next message, and false when there are no more.
func (g *Generator) Next() (Message, bool) {
	g.fill()
	if len(g.open) == 0 {
		return Message{}, false
	}
	var m Message
	if g.o.BadShare > 0 && g.badRand.Float64() < g.o.BadShare {
		m = g.invalid()
	} else {
		m = g.pop()
	}
	g.truth.Messages[m.Topic]++
	return m, true
}

// Truth is the generator's record of what a correct archive must contain.
// It grows as Next runs and is complete once Next has returned false
// (recordings enter it when their last chunk is made). Read it, do not
// change it.
func (g *Generator) Truth() *Truth { return g.truth }

// Options returns the options in effect, defaults applied.
func (g *Generator) Options() Options { return g.o }

func (g *Generator) fill() {
	for len(g.open) < window && g.next < g.o.Count {
		g.open = append(g.open, g.plan())
		g.next++
	}
}

// pop takes the next message of one open inquiry: the oldest half the time,
// otherwise any, so that neighbours interleave but none lingers for long.
func (g *Generator) pop() Message {
	i := 0
	if len(g.open) > 1 && g.shuffleRand.IntN(2) == 1 {
		i = g.shuffleRand.IntN(len(g.open))
	}
	f := g.open[i]
	m := f.next()
	if len(f.items) == 0 {
		g.open = slices.Delete(g.open, i, i+1)
	}
	return m
}

// flow is the messages of one inquiry still to be produced, in order.
type flow struct {
	items []item
}

// item is one message, or a recording that yields one message per chunk.
type item struct {
	msg Message
	rec *recording
}

func (f *flow) next() Message {
	it := &f.items[0]
	if it.rec == nil {
		m := it.msg
		f.items = f.items[1:]
		return m
	}
	m, last := it.rec.chunk()
	if last {
		f.items = f.items[1:]
	}
	return m
}

// side is 1 inside invalid, else 0: the index of the counters in use.
func (g *Generator) side() int {
	if g.inBad {
		return 1
	}
	return 0
}

// uniq returns a number no other call returns: even for valid records, odd
// for invalid ones.
func (g *Generator) uniq() int {
	s := g.side()
	n := 2*g.secretN[s] + s
	g.secretN[s]++
	return n
}

func (g *Generator) chance(p float64) bool { return g.rng.Float64() < p }

func pick[T any](g *Generator, list []T) T { return list[g.rng.IntN(len(list))] }

// zone is the location a timestamp is written in: mostly UTC, sometimes
// +01:00 (Swedish winter time), as upstreams do.
func (g *Generator) zone() *time.Location {
	if g.chance(shareCETOffset) {
		return g.cet
	}
	return time.UTC
}

func (g *Generator) pickTenant() *tenant {
	u := g.rng.Float64()
	i, _ := slices.BinarySearch(g.weights, u)
	return g.tenants[min(i, len(g.tenants)-1)]
}

func ptr[T any](v T) *T { return &v }

// pad formats n with at least width digits.
func pad(n, width int) string {
	s := strconv.Itoa(n)
	if len(s) >= width {
		return s
	}
	return strings.Repeat("0", width-len(s)) + s
}

// key is the Kafka key of every record of an inquiry.
func key(tenant, inquiry string) []byte { return []byte(tenant + "/" + inquiry) }

// Day is the partition day (YYYY-MM-DD) of an inquiry id made by this
// package: the UTC day of its started_at. ok is false for other ids.
func Day(inquiryID string) (day string, ok bool) {
	if len(inquiryID) < 11 || inquiryID[1] != '-' || inquiryID[10] != '-' {
		return "", false
	}
	t, err := time.Parse("20060102", inquiryID[2:10])
	if err != nil {
		return "", false
	}
	return t.Format(time.DateOnly), true
}
