package loadgen

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/arkiv-project/arkiv/schema"
)

// badKind is one way upstream breaks the contract, and the reason arkiv
// must dead-letter the record with (R-P4).
type badKind struct {
	name   string
	reason schema.Reason
	make   func(g *Generator, b *badRecord) Message
}

// badKinds are drawn evenly. Read-only. Some carry secrets: the dead-letter
// topic must mask them too (CONTRACT.md, arkiv.deadletter).
var badKinds = []badKind{
	{"inquiry truncated JSON", schema.ReasonMalformed, (*Generator).badTruncated},
	{"survey not JSON", schema.ReasonMalformed, (*Generator).badNotJSON},
	{"phone without deny_recording", schema.ReasonMissingConsent, (*Generator).badNoDeny},
	{"chat inquiry without chat_store_consent", schema.ReasonMissingConsent, (*Generator).badChatInquiry},
	{"inquiry with bad tenant", schema.ReasonInvalidTenant, (*Generator).badTenantInquiry},
	{"inquiry schema_version 2", schema.ReasonUnsupportedVersion, (*Generator).badVersion},
	{"inquiry with bad id", schema.ReasonInvalidID, (*Generator).badInquiryID},
	{"inquiry with unknown media type", schema.ReasonInvalidValue, (*Generator).badMedia},
	{"inquiry with negative wait", schema.ReasonOutOfRange, (*Generator).badWait},
	{"chat log without consent", schema.ReasonMissingConsent, (*Generator).badChatLogConsent},
	{"chat log schema_version 2", schema.ReasonUnsupportedVersion, (*Generator).badChatLogVersion},
	{"survey score out of range", schema.ReasonOutOfRange, (*Generator).badScore},
	{"survey without score", schema.ReasonMissingField, (*Generator).badNoScore},
	{"chunk without deny-recording", schema.ReasonMissingConsent, (*Generator).badChunkConsent},
	{"chunk schema-version 2", schema.ReasonUnsupportedVersion, (*Generator).badChunkVersion},
	{"chunk not audio/mpeg", schema.ReasonInvalidValue, (*Generator).badChunkType},
	{"chunk with bad tenant", schema.ReasonInvalidTenant, (*Generator).badChunkTenant},
	{"recording with wrong sha256", schema.ReasonChecksumMismatch, (*Generator).badChecksum},
}

// badTenants are tenant ids the contract forbids. Read-only.
var badTenants = []string{"ACME", "acme corp", "../t0001", "_intern", "kundtjänst"}

// badRecord is what every invalid record starts from: a valid tenant, an
// x- id that no inquiry has, and the time of the latest inquiry.
type badRecord struct {
	tenant  string
	id      string
	started time.Time
}

// invalid makes one invalid record and counts it in the Truth. It draws
// from its own random stream and counters, so that the valid traffic does
// not depend on BadShare.
func (g *Generator) invalid() Message {
	g.rng, g.inBad = g.badRand, true
	defer func() { g.rng, g.inBad = g.planRand, false }()
	g.badN++
	b := &badRecord{
		tenant:  g.tenants[g.rng.IntN(len(g.tenants))].id,
		id:      "x-" + g.last.Format("20060102") + "-" + pad(g.badN, 6),
		started: g.last.In(g.zone()),
	}
	k := badKinds[g.rng.IntN(len(badKinds))]
	m := k.make(g, b)
	g.truth.Invalid[k.reason]++
	return m
}

// phone is a valid phone inquiry without secrets, to be broken.
func (g *Generator) badPhone(b *badRecord) *schema.Inquiry {
	deny := false
	wait, talk := g.duration(45), g.duration(240)
	in := &schema.Inquiry{
		SchemaVersion: schema.Version, TenantID: b.tenant, InquiryID: b.id,
		SessionID: fmt.Sprintf("%016x", g.rng.Uint64()), MediaType: schema.MediaPhone,
		StartedAt: b.started, Queue: "support_se", AgentID: "a-001", AgentName: "Anna Berg",
		WaitSeconds: &wait, TalkSeconds: &talk, CallerNumber: ptr(fmt.Sprintf("+4670%07d", g.rng.IntN(10_000_000))),
		Recording: &schema.RecordingConsent{DenyRecording: &deny},
	}
	g.setEnded(in)
	return in
}

// withMaskedPNR gives a broken inquiry a masked personal number: arkiv must
// drop it even on the way to the dead-letter topic.
func (g *Generator) withMaskedPNR(in *schema.Inquiry) {
	pnr := g.personalNumber()
	in.IVRInputs = append(in.IVRInputs, schema.IVRInput{Module: ModulePNR, Digits: &pnr, Masked: true})
	g.truth.addSecret(SecretMaskedIVR, in.TenantID, in.InquiryID, pnr)
}

func (g *Generator) badJSON(topic string, b *badRecord, v any) Message {
	return Message{Topic: topic, Key: key(b.tenant, b.id), Value: mustJSON(v)}
}

func (g *Generator) badTruncated(b *badRecord) Message {
	m := g.badJSON(g.o.Topics.Inquiries, b, g.badPhone(b))
	m.Value = m.Value[:len(m.Value)/2]
	return m
}

func (g *Generator) badNotJSON(b *badRecord) Message {
	v := "survey_id=s-1;inquiry_id=" + b.id + ";score=9"
	return Message{Topic: g.o.Topics.Surveys, Key: key(b.tenant, b.id), Value: []byte(v)}
}

func (g *Generator) badNoDeny(b *badRecord) Message {
	in := g.badPhone(b)
	in.Recording = &schema.RecordingConsent{Forced: true}
	g.withMaskedPNR(in)
	return g.badJSON(g.o.Topics.Inquiries, b, in)
}

func (g *Generator) badChatInquiry(b *badRecord) Message {
	in := g.badPhone(b)
	in.MediaType, in.Recording, in.CallerNumber = schema.MediaChat, nil, nil
	in.ChatterName = ptr("Märta")
	return g.badJSON(g.o.Topics.Inquiries, b, in)
}

func (g *Generator) badTenantInquiry(b *badRecord) Message {
	b.tenant = pick(g, badTenants)
	in := g.badPhone(b)
	g.withMaskedPNR(in)
	return g.badJSON(g.o.Topics.Inquiries, b, in)
}

func (g *Generator) badVersion(b *badRecord) Message {
	in := g.badPhone(b)
	in.SchemaVersion = schema.Version + 1
	return g.badJSON(g.o.Topics.Inquiries, b, in)
}

func (g *Generator) badInquiryID(b *badRecord) Message {
	b.id = strings.Replace(b.id, "-", " ", 1) + "/ä"
	return g.badJSON(g.o.Topics.Inquiries, b, g.badPhone(b))
}

func (g *Generator) badMedia(b *badRecord) Message {
	in := g.badPhone(b)
	in.MediaType = "fax"
	return g.badJSON(g.o.Topics.Inquiries, b, in)
}

func (g *Generator) badWait(b *badRecord) Message {
	in := g.badPhone(b)
	in.WaitSeconds = ptr(-3.0)
	g.withMaskedPNR(in)
	return g.badJSON(g.o.Topics.Inquiries, b, in)
}

func (g *Generator) badChatLog(b *badRecord) *schema.ChatLog {
	consent := true
	return &schema.ChatLog{
		SchemaVersion: schema.Version, TenantID: b.tenant, InquiryID: b.id,
		InquiryStartedAt: b.started, ChatStoreConsent: &consent,
		Messages: []schema.ChatMessage{{At: b.started, From: schema.FromChatter, Name: "Björn", Text: "Hej!"}},
	}
}

func (g *Generator) badChatLogConsent(b *badRecord) Message {
	c := g.badChatLog(b)
	c.ChatStoreConsent = nil
	return g.badJSON(g.o.Topics.Chatlogs, b, c)
}

func (g *Generator) badChatLogVersion(b *badRecord) Message {
	c := g.badChatLog(b)
	c.SchemaVersion = schema.Version + 1
	return g.badJSON(g.o.Topics.Chatlogs, b, c)
}

func (g *Generator) badSurvey(b *badRecord) *schema.Survey {
	return &schema.Survey{
		SchemaVersion: schema.Version, TenantID: b.tenant, SurveyID: "s-" + b.id,
		SurveyType: schema.SurveySMS, SessionID: "0", InquiryID: b.id,
		InquiryStartedAt: b.started, Comment: ptr("Bra!"),
	}
}

func (g *Generator) badScore(b *badRecord) Message {
	s := g.badSurvey(b)
	s.Score = ptr(pick(g, []float64{11, -1, 7.5, 100}))
	return g.badJSON(g.o.Topics.Surveys, b, s)
}

func (g *Generator) badNoScore(b *badRecord) Message {
	return g.badJSON(g.o.Topics.Surveys, b, g.badSurvey(b))
}

// badChunk is a one-chunk recording, complete and valid, to be broken.
func (g *Generator) badChunk(b *badRecord) Message {
	data := g.newAudio().read(512 + g.rng.IntN(3584))
	sum := sha256.Sum256(data)
	return Message{Topic: g.o.Topics.Recordings, Key: key(b.tenant, b.id), Value: data, Headers: []schema.Header{
		header(schema.HeaderSchemaVersion, strconv.Itoa(schema.Version)),
		header(schema.HeaderTenantID, b.tenant),
		header(schema.HeaderInquiryID, b.id),
		header(schema.HeaderRecordingID, "rec-1"),
		header(schema.HeaderInquiryStartedAt, b.started.Format(time.RFC3339Nano)),
		header(schema.HeaderDenyRecording, "false"),
		header(schema.HeaderContentType, schema.ContentTypeMP3),
		header(schema.HeaderChunk, "0"),
		header(schema.HeaderLastChunk, "true"),
		header(schema.HeaderSHA256, hex.EncodeToString(sum[:])),
	}}
}

// setHeader replaces the value of header k; an empty v removes it.
func setHeader(m *Message, k, v string) {
	for i, h := range m.Headers {
		if h.Key == k {
			if v == "" {
				m.Headers = append(m.Headers[:i], m.Headers[i+1:]...)
			} else {
				m.Headers[i].Value = []byte(v)
			}
			return
		}
	}
}

func (g *Generator) badChunkConsent(b *badRecord) Message {
	m := g.badChunk(b)
	setHeader(&m, schema.HeaderDenyRecording, "")
	return m
}

func (g *Generator) badChunkVersion(b *badRecord) Message {
	m := g.badChunk(b)
	setHeader(&m, schema.HeaderSchemaVersion, strconv.Itoa(schema.Version+1))
	return m
}

func (g *Generator) badChunkType(b *badRecord) Message {
	m := g.badChunk(b)
	setHeader(&m, schema.HeaderContentType, "audio/wav")
	return m
}

func (g *Generator) badChunkTenant(b *badRecord) Message {
	b.tenant = pick(g, badTenants)
	return g.badChunk(b)
}

// badChecksum is a recording every chunk of which is valid, but whose
// sha256 does not match its bytes: only assembly can tell.
func (g *Generator) badChecksum(b *badRecord) Message {
	m := g.badChunk(b)
	h := sha256.New()
	h.Write(m.Value)
	h.Write([]byte{0})
	setHeader(&m, schema.HeaderSHA256, hex.EncodeToString(h.Sum(nil)))
	return m
}
