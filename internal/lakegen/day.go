package lakegen

import (
	"github.com/arkiv-project/arkiv/internal/synth"

	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// flushRows are the rows of one tenant-day that one flush wrote.
type flushRows struct {
	inquiries  []schema.InquiryRow
	chatlogs   []schema.ChatlogRow
	recordings []schema.RecordingRow
	surveys    []schema.SurveyRow
}

// dayRows is everything of one tenant on one day.
type dayRows struct {
	flushes []flushRows
	media   []mediaObject
	planted []PlantedInquiry
}

// dayGen generates one tenant-day from its own random stream.
type dayGen struct {
	o        *Options
	seed     uint64
	rng      *rand.Rand
	t        *tenantPlan
	dayIdx   int
	day      time.Time
	dayStr   string // 2026-11-28
	ymd      string // 20261128
	flushIDs []string
	withRec  bool
	withChat bool
	out      *dayRows
	offset   int64 // next Kafka offset of this tenant-day's records
	surveys  int
	flush    int // flush of the inquiry being made
}

func newDayGen(o *Options, p *lakePlan, t *tenantPlan, dayIdx int, flushIDs []string) *dayGen {
	day := p.days[dayIdx]
	seed := synth.Mix(o.Seed ^ uint64(t.index)<<32 ^ uint64(dayIdx)<<8)
	return &dayGen{
		o: o, seed: o.Seed, rng: rand.New(rand.NewPCG(seed, synth.Mix(seed))), t: t, dayIdx: dayIdx, day: day,
		dayStr: schema.Day(day), ymd: day.Format("20060102"), flushIDs: flushIDs,
		withRec: dayIdx >= t.recFrom, withChat: dayIdx >= t.chatFrom,
		out:    &dayRows{flushes: make([]flushRows, len(flushIDs))},
		offset: int64(dayIdx*10_000+t.index) << 24,
	}
}

// slot is one inquiry of the day: when it starts, and which planted
// inquiry it is (-1: an ordinary one).
type slot struct {
	at      time.Time
	planted int
}

// generate makes the tenant-day's rows; ids follow start times.
func (g *dayGen) generate() *dayRows {
	var slots []slot
	for range g.t.perDay[g.dayIdx] {
		slots = append(slots, slot{at: g.startTime(), planted: -1})
	}
	for k, d := range g.t.planted {
		if d == g.dayIdx {
			slots = append(slots, slot{at: g.startTime(), planted: k})
		}
	}
	slices.SortStableFunc(slots, func(a, b slot) int { return a.at.Compare(b.at) })
	for i, s := range slots {
		id := "c-" + g.ymd + "-" + pad(i+1, 6)
		g.flush = min(int(s.at.Sub(g.day)*time.Duration(len(g.flushIDs))/(24*time.Hour)), len(g.flushIDs)-1)
		mark := g.mark()
		if s.planted >= 0 {
			g.plantedInquiry(s.planted, id, s.at)
		} else {
			g.inquiry(id, s.at)
		}
		if s.planted < 0 && g.o.Duplicates > 0 && g.chance(g.o.Duplicates) {
			g.duplicate(mark)
		}
	}
	return g.out
}

// startTime is a time of the day along the day curve: most traffic in
// business hours (07-16 UTC), some around the clock; 20% with milliseconds.
func (g *dayGen) startTime() time.Time {
	var secs float64
	if g.chance(0.85) {
		secs = 6*3600 + 11*3600*(g.rng.Float64()+g.rng.Float64())/2
	} else {
		secs = 86400 * g.rng.Float64()
	}
	t := g.day.Add(time.Duration(secs * float64(time.Second)))
	if g.chance(0.20) {
		return t.Truncate(time.Millisecond)
	}
	return t.Truncate(time.Second)
}

// mediaProfile is how inquiries of one media type look.
type mediaProfile struct {
	media      string
	share      float64
	waitMedian float64
	talkMedian float64
	queues     []string
}

var profiles = []mediaProfile{
	{schema.MediaPhone, 0.55, 45, 240, []string{"support_se", "sales_se", "billing_se", "tech_support"}},
	{schema.MediaChat, 0.25, 30, 540, []string{"chat_support", "chat_sales"}},
	{schema.MediaEmail, 0.12, 3 * 3600, 300, []string{"email_inbox", "email_billing"}},
	{schema.MediaETask, 0.05, 5 * 3600, 420, []string{"webform", "callback_requests"}},
	{schema.MediaSocial, 0.03, 3600, 120, []string{"social_facebook", "social_x"}},
}

func profileOf(media string) *mediaProfile {
	for i := range profiles {
		if profiles[i].media == media {
			return &profiles[i]
		}
	}
	return &profiles[0]
}

func (g *dayGen) pickProfile() *mediaProfile {
	u := g.rng.Float64()
	for i := range profiles {
		if u < profiles[i].share {
			return &profiles[i]
		}
		u -= profiles[i].share
	}
	return &profiles[0]
}

func (g *dayGen) inquiry(id string, at time.Time) {
	prof := g.pickProfile()
	row := g.base(id, at, prof)
	c := g.customer()
	switch prof.media {
	case schema.MediaPhone:
		g.phone(&row, c)
	case schema.MediaChat:
		g.chat(&row, c)
	case schema.MediaEmail, schema.MediaETask:
		row.FromAddress = ptr(g.mixCase(c.email))
		g.mail(&row)
	case schema.MediaSocial:
		row.FromAddress = ptr("@" + c.handle)
		row.ItemURL = ptr(fmt.Sprintf("https://www.facebook.com/%s/posts/%d", g.t.id, 1e9+g.rng.IntN(1e9)))
	}
	g.addInquiry(row)
}

// base fills what every media type has.
func (g *dayGen) base(id string, at time.Time, prof *mediaProfile) schema.InquiryRow {
	a := g.agent()
	wait, talk := g.duration(prof.waitMedian), g.duration(prof.talkMedian)
	row := schema.InquiryRow{
		InquiryID: id, SessionID: fmt.Sprintf("%016x", g.rng.Uint64()), MediaType: prof.media,
		StartedAt: at, Queue: pick(g, prof.queues), AgentID: a.id, AgentName: a.name,
		WaitSeconds: &wait, TalkSeconds: &talk,
	}
	setEnded(&row)
	return row
}

func setEnded(row *schema.InquiryRow) {
	d := time.Duration((*row.WaitSeconds + *row.TalkSeconds) * float64(time.Second))
	ended := row.StartedAt.Add(d).Truncate(time.Millisecond)
	row.EndedAt = &ended
}

// duration is a log-normal number of seconds around median, to 0.1 s.
func (g *dayGen) duration(median float64) float64 {
	v := median * math.Exp(0.8*g.rng.NormFloat64())
	return math.Round(min(v, 30*86400)*10) / 10
}

func (g *dayGen) phone(row *schema.InquiryRow, c customer) {
	if !g.chance(0.03) {
		row.CallerNumber = ptr(c.number)
	}
	forced := g.chance(0.60)
	deny := forced && g.chance(0.10)
	abandoned := g.chance(0.04)
	agentRecorded := !forced && g.chance(0.25)
	row.RecordingForced, row.DenyRecording = &forced, &deny
	row.IVRInputs = g.ivr(forced, deny)
	if abandoned {
		row.AgentID, row.AgentName = "", ""
		row.TalkSeconds = ptr(0.0)
		setEnded(row)
		return
	}
	if (forced && !deny) || agentRecorded {
		n := 1
		if g.chance(0.06) {
			n = 2
		}
		for k := 1; k <= n; k++ {
			g.recording(row, "rec-"+strconv.Itoa(k))
		}
	}
	if g.chance(0.30 / 0.96) {
		g.survey(row, schema.SurveySMS, row.CallerNumber, nil)
	}
}

// ivr makes the IVR inputs of a call as stored: masked digits are null.
func (g *dayGen) ivr(forced, deny bool) []schema.IVRInputRow {
	var out []schema.IVRInputRow
	if g.chance(0.80) {
		out = append(out, schema.IVRInputRow{Module: "main_menu", Digits: ptr(strconv.Itoa(1 + g.rng.IntN(4)))})
	}
	if g.chance(0.35) {
		out = append(out, schema.IVRInputRow{Module: "enter_pnr", Masked: true})
	}
	if g.chance(0.08) {
		out = append(out, schema.IVRInputRow{Module: "enter_card", Masked: true}) // masked by tenant list
	}
	if forced {
		switch {
		case !deny:
			out = append(out, schema.IVRInputRow{Module: "recording_consent", Digits: ptr("1")})
		case !g.chance(0.30):
			out = append(out, schema.IVRInputRow{Module: "recording_consent", Digits: ptr("2")})
		}
	}
	return out
}

func (g *dayGen) chat(row *schema.InquiryRow, c customer) {
	display := "Besökare"
	if g.chance(0.90) {
		name := c.first
		if g.chance(0.5) {
			name += " " + c.last
		}
		row.ChatterName, display = &name, c.first
	}
	if g.chance(0.70) {
		row.ChatterEmail = ptr(g.mixCase(c.email))
	}
	if g.chance(0.30) {
		row.ChatterNumber = ptr(c.number)
	}
	consent := !g.chance(0.15)
	row.ChatStoreConsent = &consent
	if consent {
		g.chatlog(row, display)
	}
	if g.chance(0.30) {
		g.survey(row, schema.SurveyChat, nil, row.ChatterEmail)
	}
}

func (g *dayGen) mail(row *schema.InquiryRow) {
	row.Subject = ptr(pick(g, synth.Subjects))
	host := "inbox"
	if row.MediaType == schema.MediaETask {
		host = "tasks"
	}
	row.ItemURL = ptr("https://" + host + ".example.se/" + g.t.id + "/items/" + row.InquiryID)
}

// chatlog stores the conversation of a consented chat (within the chat
// logs' retention).
func (g *dayGen) chatlog(row *schema.InquiryRow, chatter string) {
	if !g.withChat {
		return
	}
	at := row.StartedAt.Add(time.Duration(*row.WaitSeconds * float64(time.Second)))
	step := time.Duration(*row.TalkSeconds*float64(time.Second)) / 16
	var msgs []schema.ChatMessageRow
	say := func(from, name, text string) {
		m := schema.ChatMessageRow{At: at.Truncate(time.Second), From: from, Text: text}
		if name != "" {
			m.Name = ptr(name)
		}
		msgs = append(msgs, m)
		at = at.Add(time.Duration(g.rng.Int64N(int64(step) + 1)))
	}
	if g.chance(0.5) {
		say(schema.FromSystem, "", "Chatten har startat.")
	}
	say(schema.FromChatter, chatter, pick(g, chatterOpenings))
	say(schema.FromAgent, row.AgentName, fmt.Sprintf(pick(g, synth.AgentGreetings), chatter))
	for range 1 + g.rng.IntN(6) {
		say(schema.FromChatter, chatter, pick(g, synth.ChatterLines))
		say(schema.FromAgent, row.AgentName, pick(g, synth.AgentLines))
	}
	say(schema.FromAgent, row.AgentName, "Tack för att du hörde av dig, ha en fin dag!")
	f := &g.out.flushes[g.flush]
	f.chatlogs = append(f.chatlogs, schema.ChatlogRow{InquiryID: row.InquiryID, InquiryStartedAt: row.StartedAt,
		Messages: msgs, Meta: g.meta(row.InquiryID, *row.EndedAt)})
}

// recording stores a recording's metadata row and plans its media object
// (within the recordings' retention).
func (g *dayGen) recording(row *schema.InquiryRow, recID string) {
	if !g.withRec {
		return
	}
	obj := sinks.MediaObject(g.t.id, g.dayStr, row.InquiryID, recID)
	m := mediaObject{name: obj, size: int(float64(g.o.MediaBytes) * (0.5 + g.rng.Float64())), seed: g.rng.Uint64()}
	sum, size := m.sum()
	f := &g.out.flushes[g.flush]
	f.recordings = append(f.recordings, schema.RecordingRow{InquiryID: row.InquiryID, RecordingID: recID,
		InquiryStartedAt: row.StartedAt, ContentType: "audio/mpeg", SizeBytes: size, SHA256: sum, Chunks: 1,
		Object: obj, Meta: g.meta(row.InquiryID, *row.EndedAt)})
	g.out.media = append(g.out.media, m)
}

// scoreWeights skew survey scores high, as satisfaction surveys are.
var scoreWeights = [11]int{3, 1, 1, 2, 2, 5, 5, 10, 18, 22, 31}

func (g *dayGen) survey(row *schema.InquiryRow, kind string, number, email *string) {
	g.surveys++
	answered := row.EndedAt.Add(2*time.Minute + time.Duration(g.rng.Int64N(int64(6*time.Hour)))).Truncate(time.Second)
	n, score := g.rng.IntN(100), 10
	for s, w := range scoreWeights {
		if n < w {
			score = s
			break
		}
		n -= w
	}
	s := schema.SurveyRow{SurveyID: "s-" + g.ymd + "-" + pad(g.surveys, 6), SurveyType: kind,
		SessionID: row.SessionID, InquiryID: row.InquiryID, InquiryStartedAt: row.StartedAt,
		AnsweredAt: &answered, Score: int32(score), RespondentNumber: number, RespondentEmail: email,
		Meta: g.meta(row.InquiryID, answered)}
	if g.chance(0.40) {
		s.Comment = ptr(pick(g, synth.Comments))
	}
	f := &g.out.flushes[g.flush]
	f.surveys = append(f.surveys, s)
}

func (g *dayGen) addInquiry(row schema.InquiryRow) {
	row.Meta = g.meta(row.InquiryID, *row.EndedAt)
	f := &g.out.flushes[g.flush]
	f.inquiries = append(f.inquiries, row)
}

// meta is the arrival of a record sent when the inquiry (or survey) ended:
// ingested seconds to minutes later, from the Kafka partition of its key.
func (g *dayGen) meta(inquiryID string, sent time.Time) schema.Meta {
	g.offset++
	return schema.Meta{
		IngestedAt:     sent.Add(time.Duration(5+g.rng.IntN(300)) * time.Second).Truncate(time.Microsecond),
		KafkaPartition: int32(synth.Mix(uint64(g.t.index)<<32^hashString(inquiryID)) % 12),
		KafkaOffset:    g.offset,
	}
}

// position marks how many rows each dataset of the current flush had
// before an inquiry was made.
type position struct{ flush, inquiries, chatlogs, recordings, surveys int }

func (g *dayGen) mark() position {
	f := &g.out.flushes[g.flush]
	return position{g.flush, len(f.inquiries), len(f.chatlogs), len(f.recordings), len(f.surveys)}
}

// duplicate sends the rows made since mark again, ingested later, in the
// next flush (if any): upstream resent them.
func (g *dayGen) duplicate(m position) {
	src := g.out.flushes[m.flush]
	to := min(m.flush+1, len(g.flushIDs)-1)
	later := time.Duration(5+g.rng.IntN(55)) * time.Minute
	again := func(meta *schema.Meta) {
		g.offset++
		meta.IngestedAt = meta.IngestedAt.Add(later)
		meta.KafkaOffset = g.offset
	}
	inq := slices.Clone(src.inquiries[m.inquiries:])
	chats := slices.Clone(src.chatlogs[m.chatlogs:])
	recs := slices.Clone(src.recordings[m.recordings:])
	survs := slices.Clone(src.surveys[m.surveys:])
	for i := range inq {
		again(&inq[i].Meta)
	}
	for i := range chats {
		again(&chats[i].Meta)
	}
	for i := range recs {
		again(&recs[i].Meta)
	}
	for i := range survs {
		again(&survs[i].Meta)
	}
	f := &g.out.flushes[to]
	f.inquiries = append(f.inquiries, inq...)
	f.chatlogs = append(f.chatlogs, chats...)
	f.recordings = append(f.recordings, recs...)
	f.surveys = append(f.surveys, survs...)
}

func (g *dayGen) chance(p float64) bool { return g.rng.Float64() < p }

func pick[T any](g *dayGen, list []T) T { return list[g.rng.IntN(len(list))] }

func ptr[T any](v T) *T { return &v }

func pad(n, width int) string {
	s := strconv.Itoa(n)
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// hashString is FNV-1a.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
