package loadgen

import (
	"github.com/arkiv-project/arkiv/internal/synth"

	"github.com/go-json-experiment/json/jsontext"

	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/arkiv-project/arkiv/schema"
)

// The shares of doc.go, in one place.
const (
	sharePhone  = 0.55
	shareChat   = 0.25
	shareEmail  = 0.12
	shareETask  = 0.05
	shareSocial = 0.03

	shareForced        = 0.60 // phone calls with forced recording
	shareDenied        = 0.10 // forced calls whose caller denies recording
	shareAgentRecorded = 0.25 // calls without forced recording, recorded by the agent
	shareAbandoned     = 0.04 // calls abandoned in the queue
	shareTwoRecordings = 0.06 // recorded calls with a second recording
	shareWithheld      = 0.03 // callers who withhold their number
	shareWithSHA       = 0.90 // recordings with sha256 on the last chunk

	shareMainMenu   = 0.80
	sharePNR        = 0.35 // enter_pnr, masked=true
	shareCard       = 0.08 // enter_card, masked=false, masked by tenant config
	shareDenyNoKey  = 0.30 // denials without any recording_consent input
	shareChatRefuse = 0.15 // chats with chat_store_consent false
	shareMailBody   = 0.50 // e-mails and e-tasks with a body
	shareMailAttach = 0.50 // of those with a body, those with attachments
	shareSurvey     = 0.30 // phone and chat inquiries with a survey
	shareComment    = 0.40 // surveys with a comment

	shareChatterName   = 0.90
	shareChatterEmail  = 0.70
	shareChatterNumber = 0.30
	shareMixedCase     = 0.20 // e-mail addresses sent in mixed or upper case

	shareContentFirst = 0.25 // content before the inquiry record
	shareSurveyFirst  = 0.05 // survey before the inquiry record
	shareUnknownField = 0.10 // JSON records with a field arkiv must ignore
	shareCETOffset    = 0.15 // timestamps written with +01:00
	shareMillis       = 0.20 // started_at with milliseconds
)

// Module names of the IVR.
const (
	ModuleMainMenu  = "main_menu"
	ModulePNR       = "enter_pnr"
	ModuleCard      = "enter_card"
	ModuleRecording = "recording_consent"
)

// ConfigMaskedModules lists the IVR modules the generator relies on tenant
// configuration to mask (their inputs say masked=false): a configuration
// used with this traffic must list them in masked_ivr_modules of
// tenants.defaults.
func ConfigMaskedModules() []string { return []string{ModuleCard} }

// mediaProfile is how inquiries of one media type look.
type mediaProfile struct {
	media      string
	share      float64
	waitMedian float64 // seconds in queue
	talkMedian float64 // seconds of conversation or handling
	queues     []string
}

// profiles are read-only: the media types in order of their share.
var profiles = []mediaProfile{
	{schema.MediaPhone, sharePhone, 45, 240, []string{"support_se", "sales_se", "billing_se", "tech_support"}},
	{schema.MediaChat, shareChat, 30, 540, []string{"chat_support", "chat_sales"}},
	{schema.MediaEmail, shareEmail, 3 * 3600, 300, []string{"email_inbox", "email_billing"}},
	{schema.MediaETask, shareETask, 5 * 3600, 420, []string{"webform", "callback_requests"}},
	{schema.MediaSocial, shareSocial, 3600, 120, []string{"social_facebook", "social_x"}},
}

func (g *Generator) pickProfile() *mediaProfile {
	u := g.rng.Float64()
	for i := range profiles {
		if u < profiles[i].share {
			return &profiles[i]
		}
		u -= profiles[i].share
	}
	return &profiles[0]
}

// plan makes one valid inquiry and its content and survey, records them in
// the Truth, and returns them in the order they are to be produced.
func (g *Generator) plan() *flow {
	t := g.pickTenant()
	started := g.startedAt()
	g.last = started
	prof := g.pickProfile()
	t.inquiries++
	id := "c-" + started.Format("20060102") + "-" + pad(t.inquiries, 6)
	in := g.baseInquiry(t, prof, id, started)
	var content []item
	var survey *Message
	switch prof.media {
	case schema.MediaPhone:
		content, survey = g.phone(t, &in)
	case schema.MediaChat:
		content, survey = g.chat(t, &in)
	case schema.MediaEmail, schema.MediaETask:
		g.mail(t, &in)
	case schema.MediaSocial:
		g.social(t, &in)
	}
	t.truth.addInquiry(id, prof.media, started)
	return g.order(g.jsonMessage(g.o.Topics.Inquiries, t.id, id, &in), content, survey)
}

// startedAt spreads inquiry i over [Start, End) along the day curve. It
// never decreases with i, as live traffic does not go back in time.
func (g *Generator) startedAt() time.Time {
	u := (float64(g.next) + g.rng.Float64()) / float64(g.o.Count)
	t := g.clock.at(u)
	unit := time.Second
	if g.chance(shareMillis) {
		unit = time.Millisecond
	}
	if r := t.Truncate(unit); !r.Before(g.o.Start) {
		t = r
	}
	return t.UTC()
}

// baseInquiry fills what every media type has.
func (g *Generator) baseInquiry(t *tenant, prof *mediaProfile, id string, started time.Time) schema.Inquiry {
	agent := g.agent(t)
	wait := g.duration(prof.waitMedian)
	talk := g.duration(prof.talkMedian)
	in := schema.Inquiry{
		SchemaVersion: schema.Version,
		TenantID:      t.id,
		InquiryID:     id,
		SessionID:     fmt.Sprintf("%016x", g.rng.Uint64()),
		MediaType:     prof.media,
		StartedAt:     started.In(g.zone()),
		Queue:         pick(g, prof.queues),
		AgentID:       agent.id,
		AgentName:     agent.name,
		WaitSeconds:   &wait,
		TalkSeconds:   &talk,
	}
	g.setEnded(&in)
	return in
}

func (g *Generator) setEnded(in *schema.Inquiry) {
	d := time.Duration((*in.WaitSeconds + *in.TalkSeconds) * float64(time.Second))
	ended := in.StartedAt.Add(d).Truncate(time.Millisecond).In(g.zone())
	in.EndedAt = &ended
}

// duration is a log-normal number of seconds around median, to 0.1 s.
func (g *Generator) duration(median float64) float64 {
	v := median * math.Exp(0.8*g.rng.NormFloat64())
	return math.Round(min(v, 30*86400)*10) / 10
}

func (g *Generator) phone(t *tenant, in *schema.Inquiry) ([]item, *Message) {
	p := g.person(t)
	if !g.chance(shareWithheld) {
		in.CallerNumber = ptr(p.number)
	}
	forced := g.chance(shareForced)
	deny := forced && g.chance(shareDenied)
	abandoned := g.chance(shareAbandoned)
	agentRecorded := !forced && g.chance(shareAgentRecorded)
	in.Recording = &schema.RecordingConsent{Forced: forced, DenyRecording: &deny}
	in.IVRInputs = g.ivr(t, in.InquiryID, forced, deny)
	if abandoned {
		in.AgentID, in.AgentName = "", ""
		in.TalkSeconds = ptr(0.0)
		g.setEnded(in)
	}
	var content []item
	if !abandoned && (forced || agentRecorded) {
		n := 1
		if g.chance(shareTwoRecordings) {
			n = 2
		}
		for k := 1; k <= n; k++ {
			// Drawn even when recordings are off, so that the inquiries are
			// the same either way.
			r := g.newRecording(t, in.InquiryID, "rec-"+strconv.Itoa(k), in.StartedAt, deny)
			if g.o.Recordings {
				content = append(content, item{rec: r})
			}
		}
	}
	var survey *Message
	if !abandoned && g.chance(shareSurvey/(1-shareAbandoned)) {
		survey = g.survey(t, in, schema.SurveySMS)
	}
	return content, survey
}

// ivr makes the IVR inputs of a call; masked digits become secrets.
func (g *Generator) ivr(t *tenant, id string, forced, deny bool) []schema.IVRInput {
	var out []schema.IVRInput
	add := func(module, digits string, masked bool) {
		out = append(out, schema.IVRInput{Module: module, Digits: &digits, Masked: masked})
	}
	if g.chance(shareMainMenu) {
		add(ModuleMainMenu, strconv.Itoa(1+g.rng.IntN(4)), false)
	}
	if g.chance(sharePNR) {
		pnr := g.personalNumber()
		add(ModulePNR, pnr, true)
		g.truth.addSecret(SecretMaskedIVR, t.id, id, pnr)
	}
	if g.chance(shareCard) {
		card := g.cardNumber()
		add(ModuleCard, card, false)
		g.truth.addSecret(SecretConfigMaskedIVR, t.id, id, card)
	}
	if forced {
		switch {
		case !deny:
			add(ModuleRecording, "1", false)
		case !g.chance(shareDenyNoKey):
			add(ModuleRecording, "2", false)
		}
	}
	return out
}

// personalNumber is a Swedish personal identity number (YYYYMMDDNNNN) that
// no other record of this generator carries.
func (g *Generator) personalNumber() string {
	n := g.uniq()
	born := time.Date(1940, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n%24000)
	return born.Format("20060102") + pad(n/24000%10000, 4)
}

// cardNumber is a 16-digit card number no other record carries: n times a
// number prime to 10^12 is a bijection modulo 10^12.
func (g *Generator) cardNumber() string {
	n := uint64(g.uniq())
	return "4571" + fmt.Sprintf("%012d", (n*999983+4711)%1_000_000_000_000)
}

// token is a secret marker no other record carries.
func (g *Generator) token(kind string) string {
	n := g.uniq()
	return fmt.Sprintf("hemlig-%s-%06d-%08x", kind, n, g.rng.Uint32())
}

func (g *Generator) chat(t *tenant, in *schema.Inquiry) ([]item, *Message) {
	p := g.person(t)
	display := "Besökare"
	if g.chance(shareChatterName) {
		name := p.first
		if g.chance(0.5) {
			name += " " + p.last
		}
		in.ChatterName = &name
		display = p.first
	}
	if g.chance(shareChatterEmail) {
		in.ChatterEmail = ptr(g.mixCase(p.email))
	}
	if g.chance(shareChatterNumber) {
		in.ChatterNumber = ptr(p.number)
	}
	consent := !g.chance(shareChatRefuse)
	in.ChatStoreConsent = &consent
	log := g.chatLog(t, in, display, consent)
	if consent {
		t.truth.ChatlogsStored = append(t.truth.ChatlogsStored, in.InquiryID)
	} else {
		t.truth.ChatlogsRefused = append(t.truth.ChatlogsRefused, in.InquiryID)
	}
	content := []item{{msg: g.jsonMessage(g.o.Topics.Chatlogs, t.id, in.InquiryID, log)}}
	var survey *Message
	if g.chance(shareSurvey) {
		survey = g.survey(t, in, schema.SurveyChat)
	}
	return content, survey
}

// chatLog makes the conversation of a chat. A refused log carries a secret:
// nothing of it may be stored.
func (g *Generator) chatLog(t *tenant, in *schema.Inquiry, chatter string, consent bool) *schema.ChatLog {
	log := &schema.ChatLog{
		SchemaVersion:    schema.Version,
		TenantID:         t.id,
		InquiryID:        in.InquiryID,
		InquiryStartedAt: in.StartedAt.In(g.zone()),
		ChatStoreConsent: &consent,
	}
	zone := g.zone()
	at := in.StartedAt.Add(time.Duration(*in.WaitSeconds * float64(time.Second)))
	step := time.Duration(*in.TalkSeconds*float64(time.Second)) / 16
	say := func(from, name, text string) {
		log.Messages = append(log.Messages, schema.ChatMessage{At: at.Truncate(time.Second).In(zone), From: from, Name: name, Text: text})
		at = at.Add(time.Duration(g.rng.Int64N(int64(step) + 1)))
	}
	if g.chance(0.5) {
		say(schema.FromSystem, "", "Chatten har startat.")
	}
	say(schema.FromChatter, chatter, pick(g, chatterOpenings))
	say(schema.FromAgent, in.AgentName, fmt.Sprintf(pick(g, synth.AgentGreetings), chatter))
	rounds := 1 + g.rng.IntN(6)
	secretAt := -1
	if !consent {
		secretAt = g.rng.IntN(rounds)
	}
	for i := range rounds {
		text := pick(g, synth.ChatterLines)
		if i == secretAt {
			tok := g.token("chat")
			text = "Mitt ordernummer är " + tok + ", kan du kolla?"
			g.truth.addSecret(SecretRefusedChat, t.id, in.InquiryID, tok)
		}
		say(schema.FromChatter, chatter, text)
		say(schema.FromAgent, in.AgentName, pick(g, synth.AgentLines))
	}
	say(schema.FromAgent, in.AgentName, "Tack för att du hörde av dig, ha en fin dag!")
	return log
}

// mail fills an e-mail or e-task: the sender, subject and link are
// archived; the body and attachments are secrets.
func (g *Generator) mail(t *tenant, in *schema.Inquiry) {
	p := g.person(t)
	in.FromAddress = ptr(g.mixCase(p.email))
	in.Subject = ptr(pick(g, synth.Subjects))
	host := "inbox"
	if in.MediaType == schema.MediaETask {
		host = "tasks"
	}
	in.ItemURL = ptr("https://" + host + ".example.se/" + t.id + "/items/" + in.InquiryID)
	if !g.chance(shareMailBody) {
		return
	}
	tok := g.token("body")
	in.Body = jsonString(pick(g, bodies) + "\n\nReferens: " + tok + "\n\nMvh\n" + p.first)
	g.truth.addSecret(SecretBody, t.id, in.InquiryID, tok)
	if g.chance(shareMailAttach) {
		in.Attachments = g.attachments(t, in.InquiryID)
	}
}

// attachment is how upstreams send an e-mail attachment.
type attachment struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int    `json:"size"`
	Content     []byte `json:"content_base64"`
}

func (g *Generator) attachments(t *tenant, id string) jsontext.Value {
	var list []attachment
	for range 1 + g.rng.IntN(3) {
		name := g.token("bilaga")
		content := []byte("Kvitto " + name + ": 1 st abonnemang, 249 kr/mån, betalt med kort.")
		list = append(list, attachment{Filename: name + ".pdf", ContentType: "application/pdf", Size: len(content), Content: content})
		g.truth.addSecret(SecretAttachment, t.id, id, name)
		b64, _ := json.Marshal(content) // the base64 text as sent, quoted
		g.truth.addSecret(SecretAttachment, t.id, id, string(b64[1:len(b64)-1]))
	}
	b, err := json.Marshal(list)
	if err != nil {
		panic("loadgen: marshal attachments: " + err.Error())
	}
	return b
}

// social fills a social media inquiry: its content is a secret.
func (g *Generator) social(t *tenant, in *schema.Inquiry) {
	p := g.person(t)
	in.FromAddress = ptr("@" + p.handle)
	in.ItemURL = ptr(fmt.Sprintf("https://www.facebook.com/%s/posts/%d", t.id, 1e9+g.rng.IntN(1e9)))
	tok := g.token("social")
	in.Body = jsonString(pick(g, socialPosts) + " " + tok)
	g.truth.addSecret(SecretSocialBody, t.id, in.InquiryID, tok)
}

func (g *Generator) survey(t *tenant, in *schema.Inquiry, kind string) *Message {
	t.surveys++
	id := "s-" + pad(t.surveys, 6)
	score := float64(g.score())
	answered := in.EndedAt.Add(2*time.Minute + time.Duration(g.rng.Int64N(int64(6*time.Hour)))).Truncate(time.Second).In(g.zone())
	s := &schema.Survey{
		SchemaVersion:    schema.Version,
		TenantID:         t.id,
		SurveyID:         id,
		SurveyType:       kind,
		SessionID:        in.SessionID,
		InquiryID:        in.InquiryID,
		InquiryStartedAt: in.StartedAt.In(g.zone()),
		AnsweredAt:       &answered,
		Score:            &score,
	}
	if g.chance(shareComment) {
		s.Comment = ptr(pick(g, synth.Comments))
	}
	if kind == schema.SurveySMS {
		s.RespondentNumber = in.CallerNumber
	} else {
		s.RespondentEmail = in.ChatterEmail
	}
	t.truth.Surveys = append(t.truth.Surveys, id)
	m := g.jsonMessage(g.o.Topics.Surveys, t.id, in.InquiryID, s)
	return &m
}

// scoreWeights skew survey scores high, as satisfaction surveys are.
var scoreWeights = [11]int{3, 1, 1, 2, 2, 5, 5, 10, 18, 22, 31}

func (g *Generator) score() int {
	n := g.rng.IntN(100)
	for s, w := range scoreWeights {
		if n < w {
			return s
		}
		n -= w
	}
	return 10
}

// order puts an inquiry's messages in the order they are produced.
func (g *Generator) order(inquiry Message, content []item, survey *Message) *flow {
	contentFirst := g.chance(shareContentFirst)
	surveyFirst := g.chance(shareSurveyFirst)
	items := make([]item, 0, len(content)+2)
	if survey != nil && surveyFirst {
		items = append(items, item{msg: *survey})
	}
	if contentFirst {
		items = append(items, content...)
	}
	items = append(items, item{msg: inquiry})
	if !contentFirst {
		items = append(items, content...)
	}
	if survey != nil && !surveyFirst {
		items = append(items, item{msg: *survey})
	}
	return &flow{items: items}
}

// unknownField is appended to some records: arkiv must ignore it.
const unknownField = `,"x_upstream":{"platform":"kontakt","build":"7.4.2"}}`

func (g *Generator) jsonMessage(topic, tenant, id string, v any) Message {
	b := mustJSON(v)
	if g.chance(shareUnknownField) {
		b = append(b[:len(b)-1], unknownField...)
	}
	return Message{Topic: topic, Key: key(tenant, id), Value: b}
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("loadgen: marshal: " + err.Error()) // only this package's types: cannot happen
	}
	return b
}

func jsonString(s string) jsontext.Value { return mustJSON(s) }
