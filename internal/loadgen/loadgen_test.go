package loadgen

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"math"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/arkiv-project/arkiv/schema"
)

func drain(tb testing.TB, g *Generator) []Message {
	tb.Helper()
	var out []Message
	for {
		m, ok := g.Next()
		if !ok {
			return out
		}
		out = append(out, m)
	}
}

// smallRecordings keeps tests fast while giving most recordings several
// chunks.
func smallRecordings(o Options) Options {
	o.Recordings = true
	o.RecordingBytes = 6 << 10
	o.ChunkBytes = 2 << 10
	return o
}

// assembly is one recording as arkiv would put it together.
type assembly struct {
	tenant, inquiry, recording string
	deny                       bool
	next                       int
	size                       int64
	sum                        hash.Hash
	sentSHA                    string
	done                       bool
	firstBytes                 []byte
}

// view is what a test makes of a stream: every message decoded as arkiv
// would, with positions, so shares, order and the Truth can be checked.
type view struct {
	inquiries map[string]*schema.Inquiry // "tenant/inquiry"
	rawInq    map[string][]byte          // "tenant/inquiry"
	chatlogs  map[string]*schema.ChatLog // "tenant/inquiry"
	surveys   map[string]*schema.Survey  // "tenant/survey"
	recs      map[string]*assembly       // "tenant/inquiry/recording"
	recOrder  []string                   // keys of recs, first seen first
	pos       map[string]int             // "tenant/inquiry": index of the inquiry record
	contentAt map[string][]int           // "tenant/inquiry": indexes of content and surveys
	reasons   map[schema.Reason]int      // rejected records
	failures  []string                   // rejected records, described
	zones     map[string]int             // inquiries with a +01:00 timestamp, or only Z
}

func analyse(t *testing.T, o Options, msgs []Message) *view {
	t.Helper()
	o = o.withDefaults()
	v := &view{
		inquiries: map[string]*schema.Inquiry{}, rawInq: map[string][]byte{},
		chatlogs: map[string]*schema.ChatLog{}, surveys: map[string]*schema.Survey{},
		recs: map[string]*assembly{}, pos: map[string]int{}, contentAt: map[string][]int{},
		reasons: map[schema.Reason]int{}, zones: map[string]int{},
	}
	reject := func(i int, m Message, err error) {
		var inv *schema.InvalidError
		if !errors.As(err, &inv) {
			t.Fatalf("message %d (%s %s): error is not an *schema.InvalidError: %v", i, m.Topic, m.Key, err)
		}
		v.reasons[inv.Reason]++
		v.failures = append(v.failures, fmt.Sprintf("%d %s %s: %v", i, m.Topic, m.Key, err))
	}
	for i, m := range msgs {
		k := string(m.Key)
		switch m.Topic {
		case o.Topics.Inquiries:
			in, err := schema.DecodeInquiry(m.Value)
			if err != nil {
				reject(i, m, err)
				continue
			}
			checkKey(t, m, in.TenantID, in.InquiryID)
			if _, dup := v.inquiries[k]; dup {
				t.Fatalf("inquiry %s sent twice", k)
			}
			v.inquiries[k], v.rawInq[k], v.pos[k] = in, m.Value, i
			if bytes.Contains(m.Value, []byte(`+01:00"`)) {
				v.zones["+01:00"]++
			} else {
				v.zones["Z"]++
			}
		case o.Topics.Chatlogs:
			c, err := schema.DecodeChatLog(m.Value)
			if err != nil {
				reject(i, m, err)
				continue
			}
			checkKey(t, m, c.TenantID, c.InquiryID)
			v.chatlogs[k] = c
			v.contentAt[k] = append(v.contentAt[k], i)
		case o.Topics.Surveys:
			s, err := schema.DecodeSurvey(m.Value)
			if err != nil {
				reject(i, m, err)
				continue
			}
			checkKey(t, m, s.TenantID, s.InquiryID)
			v.surveys[s.TenantID+"/"+s.SurveyID] = s
			v.contentAt[k] = append(v.contentAt[k], i)
		case o.Topics.Recordings:
			c, err := schema.DecodeRecordingChunk(m.Headers, m.Value)
			if err != nil {
				reject(i, m, err)
				continue
			}
			checkKey(t, m, c.TenantID, c.InquiryID)
			v.contentAt[k] = append(v.contentAt[k], i)
			if err := v.assemble(c); err != nil {
				reject(i, m, err)
			}
		default:
			t.Fatalf("message %d on unknown topic %q", i, m.Topic)
		}
	}
	for _, rk := range v.recOrder {
		// Denied chunks are discarded unseen, their last-chunk unread:
		// checkRecordings counts them against the Truth instead.
		if r := v.recs[rk]; !r.done && !r.deny {
			t.Errorf("recording %s never completed", rk)
		}
	}
	return v
}

func checkKey(t *testing.T, m Message, tenant, inquiry string) {
	t.Helper()
	if want := tenant + "/" + inquiry; string(m.Key) != want {
		t.Fatalf("%s: key %q, want %q", m.Topic, m.Key, want)
	}
}

// assemble adds a chunk to its recording, as arkiv does, and returns a
// checksum_mismatch error when the finished recording does not match.
func (v *view) assemble(c *schema.RecordingChunk) error {
	rk := c.TenantID + "/" + c.InquiryID + "/" + c.RecordingID
	r := v.recs[rk]
	if r == nil {
		r = &assembly{tenant: c.TenantID, inquiry: c.InquiryID, recording: c.RecordingID, deny: c.DenyRecording, sum: sha256.New()}
		v.recs[rk] = r
		v.recOrder = append(v.recOrder, rk)
	}
	if r.done {
		return fmt.Errorf("recording %s: chunk after the last", rk)
	}
	if c.DenyRecording != r.deny {
		return fmt.Errorf("recording %s: deny-recording changed between chunks", rk)
	}
	if !c.DenyRecording && c.Chunk != r.next {
		return fmt.Errorf("recording %s: chunk %d, want %d", rk, c.Chunk, r.next)
	}
	if r.next == 0 {
		r.firstBytes = append([]byte(nil), c.Data[:min(len(c.Data), 16)]...)
	}
	r.next++
	r.size += int64(len(c.Data))
	r.sum.Write(c.Data)
	if c.DenyRecording || !c.LastChunk {
		return nil
	}
	r.done = true
	r.sentSHA = c.SHA256
	if got := hex.EncodeToString(r.sum.Sum(nil)); c.SHA256 != "" && got != c.SHA256 {
		return &schema.InvalidError{Reason: schema.ReasonChecksumMismatch, Field: schema.HeaderSHA256, Detail: "does not match"}
	}
	return nil
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	o := smallRecordings(Options{Tenants: 4, Count: 1500, Seed: 42, BadShare: 0.05})
	a, b := drain(t, New(o)), drain(t, New(o))
	if len(a) != len(b) {
		t.Fatalf("same seed: %d and %d messages", len(a), len(b))
	}
	for i := range a {
		if !sameMessage(a[i], b[i]) {
			t.Fatalf("same seed: message %d differs:\n%s %s\n%s %s", i, a[i].Topic, a[i].Key, b[i].Topic, b[i].Key)
		}
	}
	o.Seed = 43
	c := drain(t, New(o))
	same := 0
	for i := range min(len(a), len(c)) {
		if sameMessage(a[i], c[i]) {
			same++
		}
	}
	if same > len(a)/100 {
		t.Errorf("another seed: %d of %d messages identical", same, len(a))
	}
}

func sameMessage(a, b Message) bool {
	if a.Topic != b.Topic || !bytes.Equal(a.Key, b.Key) || !bytes.Equal(a.Value, b.Value) || len(a.Headers) != len(b.Headers) {
		return false
	}
	for i := range a.Headers {
		if a.Headers[i].Key != b.Headers[i].Key || !bytes.Equal(a.Headers[i].Value, b.Headers[i].Value) {
			return false
		}
	}
	return true
}

func TestRecordingsDoNotChangeInquiries(t *testing.T) {
	o := Options{Tenants: 2, Count: 500, Seed: 7}
	without := drain(t, New(o))
	with := drain(t, New(smallRecordings(o)))
	strip := func(msgs []Message) (out []Message) {
		for _, m := range msgs {
			if m.Topic != DefaultTopics().Recordings {
				out = append(out, m)
			}
		}
		return out
	}
	a, b := strip(without), strip(with)
	slices.SortFunc(a, func(x, y Message) int { return bytes.Compare(x.Value, y.Value) })
	slices.SortFunc(b, func(x, y Message) int { return bytes.Compare(x.Value, y.Value) })
	if len(a) != len(b) {
		t.Fatalf("%d JSON messages without recordings, %d with", len(a), len(b))
	}
	for i := range a {
		if !sameMessage(a[i], b[i]) {
			t.Fatalf("JSON message %d differs with recordings on", i)
		}
	}
}

// TestDecodeAndTruth decodes every message as arkiv does and holds the
// Truth to what was sent.
func TestDecodeAndTruth(t *testing.T) {
	t.Parallel()
	o := smallRecordings(Options{Tenants: 3, Count: 3000, Seed: 1})
	g := New(o)
	msgs := drain(t, g)
	truth := g.Truth()
	v := analyse(t, o, msgs)
	if len(v.failures) > 0 {
		t.Fatalf("%d valid messages rejected, first: %s", len(v.failures), v.failures[0])
	}
	if got := truth.InquiryCount(); got != o.Count || len(v.inquiries) != o.Count {
		t.Fatalf("Truth has %d inquiries, stream %d, want %d", got, len(v.inquiries), o.Count)
	}
	if got := truth.MessageCount(); got != len(msgs) {
		t.Errorf("Truth counts %d messages, stream has %d", got, len(msgs))
	}
	if ids := truth.TenantIDs(); !slices.Equal(ids, []string{"t0001", "t0002", "t0003"}) {
		t.Errorf("tenants %v", ids)
	}
	for _, tenant := range truth.TenantIDs() {
		checkTenantTruth(t, tenant, truth.Tenants[tenant], v)
	}
	checkRecordings(t, truth, v)
	checkSecrets(t, truth, msgs, v)
}

func checkTenantTruth(t *testing.T, tenant string, tt *TenantTruth, v *view) {
	t.Helper()
	media, days := map[string]int{}, map[string]int{}
	for _, id := range tt.Inquiries {
		in := v.inquiries[tenant+"/"+id]
		if in == nil {
			t.Fatalf("%s/%s in the Truth, not in the stream", tenant, id)
		}
		media[in.MediaType]++
		day, ok := Day(id)
		if !ok || day != schema.Day(in.StartedAt) {
			t.Errorf("%s: Day = %q, %v; started_at day %s", id, day, ok, schema.Day(in.StartedAt))
		}
		days[day]++
	}
	if !mapsEqual(media, tt.Media) || !mapsEqual(days, tt.Days) {
		t.Errorf("%s: Media/Days of the Truth do not match its inquiries", tenant)
	}
	for _, id := range tt.ChatlogsStored {
		if c := v.chatlogs[tenant+"/"+id]; c == nil || !*c.ChatStoreConsent {
			t.Errorf("%s/%s: stored chat log missing or without consent", tenant, id)
		}
	}
	for _, id := range tt.ChatlogsRefused {
		if c := v.chatlogs[tenant+"/"+id]; c == nil || *c.ChatStoreConsent {
			t.Errorf("%s/%s: refused chat log missing or with consent", tenant, id)
		}
		if in := v.inquiries[tenant+"/"+id]; *in.ChatStoreConsent {
			t.Errorf("%s/%s: inquiry says consent, chat log refuses", tenant, id)
		}
	}
	for _, id := range tt.Surveys {
		s := v.surveys[tenant+"/"+id]
		if s == nil {
			t.Fatalf("%s survey %s in the Truth, not in the stream", tenant, id)
		}
		in := v.inquiries[tenant+"/"+s.InquiryID]
		if in == nil || in.SessionID != s.SessionID || !in.StartedAt.Equal(s.InquiryStartedAt) {
			t.Errorf("survey %s does not match its inquiry", id)
		}
		if want := map[string]string{schema.MediaPhone: schema.SurveySMS, schema.MediaChat: schema.SurveyChat}[in.MediaType]; s.SurveyType != want {
			t.Errorf("survey %s of a %s inquiry has type %s", id, in.MediaType, s.SurveyType)
		}
	}
	n := 0
	for k := range v.surveys {
		if strings.HasPrefix(k, tenant+"/") {
			n++
		}
	}
	if n != len(tt.Surveys) {
		t.Errorf("%s: %d surveys sent, %d in the Truth", tenant, n, len(tt.Surveys))
	}
	for k, c := range v.chatlogs {
		if in := v.inquiries[k]; in == nil || in.MediaType != schema.MediaChat || !in.StartedAt.Equal(c.InquiryStartedAt) {
			t.Errorf("chat log %s does not match a chat inquiry", k)
		}
	}
}

func mapsEqual(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

func checkRecordings(t *testing.T, truth *Truth, v *view) {
	t.Helper()
	seen := map[string]bool{}
	several, withSHA, total := 0, 0, 0
	for tenant, tt := range truth.Tenants {
		for _, list := range [][]Recording{tt.RecordingsStored, tt.RecordingsRefused} {
			for _, r := range list {
				rk := tenant + "/" + r.InquiryID + "/" + r.RecordingID
				seen[rk] = true
				a := v.recs[rk]
				if a == nil {
					t.Fatalf("recording %s in the Truth, not in the stream", rk)
				}
				if got := hex.EncodeToString(a.sum.Sum(nil)); got != r.SHA256 || a.size != r.Size || a.next != r.Chunks {
					t.Errorf("recording %s: sha256 %s size %d chunks %d; Truth %+v", rk, got, a.size, a.next, r)
				}
				if !bytes.HasPrefix(a.firstBytes, []byte("ID3\x04")) {
					t.Errorf("recording %s does not start with an ID3 header: % x", rk, a.firstBytes)
				}
				in := v.inquiries[tenant+"/"+r.InquiryID]
				if in == nil || in.MediaType != schema.MediaPhone || *in.Recording.DenyRecording != a.deny {
					t.Errorf("recording %s does not match its call's consent", rk)
				}
				if a.deny != slices.Contains(tt.RecordingsRefused, r) {
					t.Errorf("recording %s: deny-recording %v, listed the other way", rk, a.deny)
				}
				if !a.deny && (a.sentSHA != "") != r.SentSHA256 {
					t.Errorf("recording %s: sha256 header %q, Truth says sent=%v", rk, a.sentSHA, r.SentSHA256)
				}
				total++
				if r.Chunks > 1 {
					several++
				}
				if r.SentSHA256 {
					withSHA++
				}
			}
		}
	}
	sent := 0
	for _, a := range v.recs {
		if !strings.HasPrefix(a.inquiry, "x-") { // x-: invalid records
			sent++
		}
	}
	if len(seen) != sent {
		t.Errorf("%d recordings sent, %d in the Truth", sent, len(seen))
	}
	if total == 0 || several < total/2 || withSHA < total*8/10 || withSHA == total {
		t.Errorf("recordings: %d, %d with several chunks, %d with sha256", total, several, withSHA)
	}
}

// checkSecrets checks that every secret was really sent, and never where
// arkiv may legitimately store it, so a lake test that finds one has found
// a bug of arkiv, not of the generator.
func checkSecrets(t *testing.T, truth *Truth, msgs []Message, v *view) {
	t.Helper()
	var sent bytes.Buffer
	for _, m := range msgs {
		if m.Topic != DefaultTopics().Recordings {
			sent.Write(m.Value)
			sent.WriteByte('\n')
		}
	}
	var storable bytes.Buffer
	for _, in := range v.inquiries {
		c := *in
		c.Body, c.Attachments, c.IVRInputs = nil, nil, nil
		for _, x := range in.IVRInputs {
			if x.Masked || slices.Contains(ConfigMaskedModules(), x.Module) {
				x.Digits = nil
			}
			c.IVRInputs = append(c.IVRInputs, x)
		}
		storable.Write(mustJSON(&c))
	}
	for _, c := range v.chatlogs {
		if *c.ChatStoreConsent {
			storable.Write(mustJSON(c))
		}
	}
	for _, s := range v.surveys {
		storable.Write(mustJSON(s))
	}
	index := newSecretIndex(truth.Secrets)
	wasSent, stored := index.find(sent.Bytes()), index.find(storable.Bytes())
	kinds := map[SecretKind]int{}
	unique := map[string]bool{}
	for _, s := range truth.Secrets {
		kinds[s.Kind]++
		if unique[s.Value] {
			t.Errorf("secret %q twice", s.Value)
		}
		unique[s.Value] = true
		if len(s.Value) < 12 {
			t.Errorf("secret %q too short to search for", s.Value)
		}
		if !wasSent[s.Value] {
			t.Errorf("secret %s %q never sent", s.Kind, s.Value)
		}
		if stored[s.Value] {
			t.Errorf("secret %s %q is in what arkiv may store", s.Kind, s.Value)
		}
	}
	for _, k := range []SecretKind{SecretMaskedIVR, SecretConfigMaskedIVR, SecretBody, SecretAttachment, SecretSocialBody, SecretRefusedChat} {
		if kinds[k] == 0 {
			t.Errorf("no secrets of kind %s", k)
		}
	}
}

// secretIndex finds many secrets in a text in one pass: every secret is at
// least 12 bytes long, so it is looked up by its first 12.
type secretIndex map[string][]string

func newSecretIndex(secrets []Secret) secretIndex {
	x := secretIndex{}
	for _, s := range secrets {
		if len(s.Value) >= 12 {
			x[s.Value[:12]] = append(x[s.Value[:12]], s.Value)
		}
	}
	return x
}

func (x secretIndex) find(text []byte) map[string]bool {
	found := map[string]bool{}
	for i := 0; i+12 <= len(text); i++ {
		for _, s := range x[string(text[i:i+12])] {
			if bytes.HasPrefix(text[i:], []byte(s)) {
				found[s] = true
			}
		}
	}
	return found
}

// checkShare fails unless n of of is within tol of the share want.
func checkShare(t *testing.T, name string, n, of int, want, tol float64) {
	t.Helper()
	if of == 0 {
		t.Errorf("%s: nothing to measure", name)
		return
	}
	got := float64(n) / float64(of)
	if math.Abs(got-want) > tol {
		t.Errorf("%s: %.3f (%d of %d), want %.2f ± %.3f", name, got, n, of, want, tol)
	} else {
		t.Logf("%s: %.3f (%d of %d)", name, got, n, of)
	}
}

var (
	pnrPattern    = regexp.MustCompile(`^(19|20)\d{10}$`)
	callerPattern = regexp.MustCompile(`^\+4670\d{7}$`)
)

func TestShares(t *testing.T) {
	t.Parallel()
	o := smallRecordings(Options{Tenants: 5, Count: 20000, Seed: 2026})
	o.RecordingBytes, o.ChunkBytes = 1024, 512
	msgs := drain(t, New(o))
	v := analyse(t, o, msgs)
	if len(v.failures) > 0 {
		t.Fatalf("valid messages rejected: %s", v.failures[0])
	}
	media := map[string]int{}
	var phone, forced, denied, pnr, card, chat, refused, mail, body, attach, social, socialBody, withheld int
	callers := map[string]int{}
	swedish, mixedCase := 0, 0
	for k, in := range v.inquiries {
		media[in.MediaType]++
		var raw struct{ Body, Attachments json.RawMessage }
		if err := json.Unmarshal(v.rawInq[k], &raw); err != nil {
			t.Fatal(err)
		}
		hasBody := len(raw.Body) > 0 && string(raw.Body) != "null"
		switch in.MediaType {
		case schema.MediaPhone:
			phone++
			if in.Recording.Forced {
				forced++
				if *in.Recording.DenyRecording {
					denied++
				}
			}
			for _, x := range in.IVRInputs {
				switch x.Module {
				case ModulePNR:
					pnr++
					if !x.Masked || !pnrPattern.MatchString(*x.Digits) {
						t.Errorf("%s: enter_pnr %v %q", k, x.Masked, *x.Digits)
					}
				case ModuleCard:
					card++
					if x.Masked {
						t.Errorf("%s: enter_card sent masked; the tenant config is meant to mask it", k)
					}
				}
			}
			if in.CallerNumber == nil {
				withheld++
			} else {
				callers[*in.CallerNumber]++
				if !callerPattern.MatchString(*in.CallerNumber) {
					t.Errorf("%s: caller number %q", k, *in.CallerNumber)
				}
			}
		case schema.MediaChat:
			chat++
			if !*in.ChatStoreConsent {
				refused++
			}
			if in.ChatterName != nil && strings.ContainsAny(*in.ChatterName, "åäöÅÄÖé") {
				swedish++
			}
			if in.ChatterEmail != nil && *in.ChatterEmail != strings.ToLower(*in.ChatterEmail) {
				mixedCase++
			}
		case schema.MediaEmail, schema.MediaETask:
			mail++
			if hasBody {
				body++
				if len(raw.Attachments) > 0 && string(raw.Attachments) != "null" {
					attach++
				}
			}
			if in.FromAddress == nil || in.Subject == nil || in.ItemURL == nil {
				t.Errorf("%s: e-mail without from, subject or URL", k)
			}
		case schema.MediaSocial:
			social++
			if hasBody {
				socialBody++
			}
		}
	}
	n := len(v.inquiries)
	checkShare(t, "phone", media[schema.MediaPhone], n, 0.55, 0.02)
	checkShare(t, "chat", media[schema.MediaChat], n, 0.25, 0.02)
	checkShare(t, "email", media[schema.MediaEmail], n, 0.12, 0.015)
	checkShare(t, "etask", media[schema.MediaETask], n, 0.05, 0.01)
	checkShare(t, "social", media[schema.MediaSocial], n, 0.03, 0.008)
	checkShare(t, "forced recording of phone", forced, phone, 0.60, 0.025)
	checkShare(t, "denied of forced", denied, forced, 0.10, 0.02)
	checkShare(t, "masked enter_pnr of phone", pnr, phone, 0.35, 0.025)
	checkShare(t, "enter_card of phone", card, phone, 0.08, 0.015)
	checkShare(t, "withheld numbers of phone", withheld, phone, 0.03, 0.01)
	checkShare(t, "refused chat logs", refused, chat, 0.15, 0.025)
	checkShare(t, "e-mail/e-task with body", body, mail, 0.50, 0.04)
	checkShare(t, "attachments of those with body", attach, body, 0.50, 0.06)
	checkShare(t, "social with body", socialBody, social, 1, 0)
	checkShare(t, "chatter e-mails in mixed case", mixedCase, chat, shareChatterEmail*shareMixedCase, 0.03)
	checkShare(t, "timestamps with +01:00", v.zones["+01:00"], n, 1-math.Pow(1-shareCETOffset, 2), 0.03)

	sms, chats := 0, 0
	for _, s := range v.surveys {
		if s.SurveyType == schema.SurveySMS {
			sms++
		} else {
			chats++
		}
		if *s.Score < 0 || *s.Score > 10 {
			t.Errorf("survey %s score %v", s.SurveyID, *s.Score)
		}
	}
	checkShare(t, "sms surveys of phone", sms, phone, 0.30, 0.025)
	checkShare(t, "chat surveys of chat", chats, chat, 0.30, 0.03)

	stored, refusedChat := 0, 0
	for _, c := range v.chatlogs {
		if *c.ChatStoreConsent {
			stored++
		} else {
			refusedChat++
		}
	}
	if stored+refusedChat != chat || refusedChat != refused {
		t.Errorf("chat logs: %d stored + %d refused for %d chats (%d refused)", stored, refusedChat, chat, refused)
	}
	// Every answered call that denied recording still has its recording
	// sent, with deny-recording true; abandoned calls have none.
	for k, in := range v.inquiries {
		if in.MediaType != schema.MediaPhone {
			continue
		}
		r := v.recs[k+"/rec-1"]
		answered := in.AgentID != ""
		recorded := in.Recording.Forced && answered
		switch {
		case recorded && (r == nil || r.deny != *in.Recording.DenyRecording):
			t.Errorf("%s: forced, answered call without its recording (or with the wrong consent)", k)
		case !answered && r != nil:
			t.Errorf("%s: abandoned call with a recording", k)
		}
	}
	if swedish == 0 {
		t.Error("no chatter name has Swedish letters")
	}
	again := 0
	for _, c := range callers {
		if c > 1 {
			again++
		}
	}
	if again < len(callers)/5 {
		t.Errorf("only %d of %d callers call more than once", again, len(callers))
	}
}

// TestInvalidRecords decodes a stream with invalid records: every one is
// rejected with the reason the Truth expects, and the valid ones are intact.
func TestInvalidRecords(t *testing.T) {
	t.Parallel()
	o := smallRecordings(Options{Tenants: 3, Count: 3000, Seed: 9, BadShare: 0.2})
	g := New(o)
	msgs := drain(t, g)
	truth := g.Truth()
	v := analyse(t, o, msgs)
	if !mapsEqual(reasonMap(v.reasons), reasonMap(truth.Invalid)) {
		t.Errorf("rejected by reason %v, Truth %v", v.reasons, truth.Invalid)
	}
	for _, k := range badKinds {
		if truth.Invalid[k.reason] == 0 {
			t.Errorf("no invalid records of reason %s", k.reason)
		}
	}
	checkShare(t, "invalid of all messages", truth.InvalidCount(), len(msgs), 0.2, 0.02)
	if len(v.inquiries) != o.Count || truth.InquiryCount() != o.Count {
		t.Errorf("%d valid inquiries decoded, Truth %d, want %d", len(v.inquiries), truth.InquiryCount(), o.Count)
	}
	for _, tenant := range truth.TenantIDs() {
		checkTenantTruth(t, tenant, truth.Tenants[tenant], v)
	}
	checkRecordings(t, truth, v)
	checkSecrets(t, truth, msgs, v)
}

// TestBadShareKeepsValidTraffic: the invalid records come in addition;
// without them the stream is exactly the one without BadShare.
func TestBadShareKeepsValidTraffic(t *testing.T) {
	o := smallRecordings(Options{Tenants: 3, Count: 800, Seed: 21})
	clean := drain(t, New(o))
	o.BadShare = 0.3
	g := New(o)
	var valid []Message
	for _, m := range drain(t, g) {
		if !bytes.Contains(m.Key, []byte("/x")) {
			valid = append(valid, m)
		}
	}
	if len(valid) != len(clean) {
		t.Fatalf("%d valid messages with BadShare, %d without", len(valid), len(clean))
	}
	for i := range valid {
		if !sameMessage(valid[i], clean[i]) {
			t.Fatalf("valid message %d differs with BadShare", i)
		}
	}
	if g.Truth().InvalidCount() == 0 {
		t.Error("no invalid records")
	}
}

func reasonMap(m map[schema.Reason]int) map[string]int {
	out := map[string]int{}
	for k, v := range m {
		out[string(k)] = v
	}
	return out
}

// TestOrder checks that content and surveys come near their inquiry, and
// sometimes before it.
func TestOrder(t *testing.T) {
	t.Parallel()
	o := smallRecordings(Options{Tenants: 2, Count: 2000, Seed: 5})
	msgs := drain(t, New(o))
	v := analyse(t, o, msgs)
	before, after, far := 0, 0, 0
	for k, idx := range v.contentAt {
		p, ok := v.pos[k]
		if !ok {
			t.Fatalf("content for %s without inquiry", k)
		}
		for _, i := range idx {
			if i < p {
				before++
			} else {
				after++
			}
			if d := i - p; d > 150 || d < -150 {
				far++
			}
		}
	}
	if before == 0 || before > after {
		t.Errorf("content before its inquiry %d times, after %d times", before, after)
	}
	if far > (before+after)/100 {
		t.Errorf("%d of %d content messages are more than 150 messages from their inquiry", far, before+after)
	}
	// Different inquiries interleave.
	switches, last := 0, ""
	for _, m := range msgs {
		if k := string(m.Key); k != last {
			switches++
			last = k
		}
	}
	if switches < len(msgs)/2 {
		t.Errorf("inquiries barely interleave: %d key changes in %d messages", switches, len(msgs))
	}
}

func TestTimes(t *testing.T) {
	t.Parallel()
	end := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		start, end time.Time
	}{
		{"backfill 180 days", end.Add(-180 * 24 * time.Hour), end},
		{"live 5 minutes", end.Add(-5 * time.Minute), end},
		{"odd bounds", end.Add(-50*time.Hour - 1234567*time.Microsecond), end.Add(-time.Nanosecond)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{Tenants: 2, Count: 3000, Seed: 3, Start: tc.start, End: tc.end}
			msgs := drain(t, New(o))
			hours := [24]int{}
			for _, m := range msgs {
				if m.Topic != DefaultTopics().Inquiries {
					continue
				}
				in, err := schema.DecodeInquiry(m.Value)
				if err != nil {
					t.Fatal(err)
				}
				if in.StartedAt.Before(tc.start) || !in.StartedAt.Before(tc.end) {
					t.Fatalf("%s started %s, outside [%s, %s)", in.InquiryID, in.StartedAt, tc.start, tc.end)
				}
				if in.EndedAt.Before(in.StartedAt) {
					t.Fatalf("%s ended before it started", in.InquiryID)
				}
				hours[in.StartedAt.Hour()]++
			}
			if tc.end.Sub(tc.start) > 7*24*time.Hour && hours[9] < 5*hours[2] {
				t.Errorf("no day curve: %d inquiries at 09 UTC, %d at 02 UTC", hours[9], hours[2])
			}
		})
	}
}

// TestStartedAtNeverDecreases checks the planning order directly: the
// stream interleaves neighbours, but inquiry n+1 never starts before n.
func TestStartedAtNeverDecreases(t *testing.T) {
	t.Parallel()
	g := New(Options{Tenants: 1, Count: 5000, Seed: 11})
	var last time.Time
	for g.next < g.o.Count {
		f := g.plan()
		g.next++
		for _, it := range f.items {
			if it.msg.Topic != g.o.Topics.Inquiries {
				continue
			}
			in, err := schema.DecodeInquiry(it.msg.Value)
			if err != nil {
				t.Fatal(err)
			}
			if in.StartedAt.Before(last) {
				t.Fatalf("%s starts %s, before the previous inquiry (%s)", in.InquiryID, in.StartedAt, last)
			}
			last = in.StartedAt
		}
	}
}

func TestAudioIsTheSameWhateverTheChunks(t *testing.T) {
	stream := func(chunk int) []byte {
		g := New(Options{Seed: 77})
		a := g.newAudio()
		var out []byte
		for len(out) < 5000 {
			out = append(out, a.read(chunk)...)
		}
		return out[:5000]
	}
	want := stream(5000)
	if !bytes.HasPrefix(want, []byte("ID3\x04\x00")) || !bytes.Equal(want[10:14], mp3Header[:]) ||
		!bytes.Equal(want[10+mp3FrameLen:14+mp3FrameLen], mp3Header[:]) {
		t.Fatalf("not mp3-looking: % x", want[:20])
	}
	for _, chunk := range []int{1, 3, 7, 416, 417, 418, 1000} {
		if got := stream(chunk); !bytes.Equal(got, want) {
			t.Errorf("chunks of %d give other bytes", chunk)
		}
	}
}

func TestDefaults(t *testing.T) {
	g := New(Options{})
	o := g.Options()
	if o.Tenants != 1 || o.Topics != DefaultTopics() || o.RecordingBytes != DefaultRecordingBytes ||
		o.ChunkBytes != DefaultChunkBytes || !o.End.Equal(DefaultEnd()) || o.End.Sub(o.Start) != DefaultSpan {
		t.Errorf("defaults: %+v", o)
	}
	if _, ok := g.Next(); ok {
		t.Error("Count 0 yields a message")
	}
	if o := New(Options{BadShare: 3}).Options(); o.BadShare != MaxBadShare {
		t.Errorf("BadShare 3 becomes %v", o.BadShare)
	}
	topics := Topics{Inquiries: "in", Chatlogs: "ch", Recordings: "rec", Surveys: "sv"}
	o2 := smallRecordings(Options{Count: 300, Seed: 1, Topics: topics})
	for _, m := range drain(t, New(o2)) {
		if !slices.Contains([]string{"in", "ch", "rec", "sv"}, m.Topic) {
			t.Fatalf("message on topic %q", m.Topic)
		}
	}
	for i := 1; i <= 12000; i += 1111 {
		if id := TenantID(i); !schema.ValidTenantID(id) {
			t.Errorf("tenant id %q is not valid", id)
		}
	}
	if day, ok := Day("c-20261128-000123"); !ok || day != "2026-11-28" {
		t.Errorf("Day = %q, %v", day, ok)
	}
	if _, ok := Day("rec-1"); ok {
		t.Error("Day of a non-inquiry id")
	}
}

// TestLazy checks that a huge Count costs nothing up front: messages are
// made as they are asked for.
func TestLazy(t *testing.T) {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	g := New(Options{Tenants: 100, Count: 100_000_000, Seed: 1, Recordings: true})
	for range 1000 {
		if _, ok := g.Next(); !ok {
			t.Fatal("ended early")
		}
	}
	runtime.ReadMemStats(&after)
	alloc := after.TotalAlloc - before.TotalAlloc
	t.Logf("New and 1000 messages of a 100M-inquiry backfill allocated %d KiB", alloc>>10)
	if alloc > 32<<20 {
		t.Errorf("New and 1000 messages of a 100M-inquiry backfill allocated %d MiB", alloc>>20)
	}
}

func BenchmarkGenerate(b *testing.B) {
	for _, bc := range []struct {
		name string
		o    Options
	}{
		{"inquiries-only", Options{Tenants: 20, Seed: 1}},
		{"recordings-64KiB", Options{Tenants: 20, Seed: 1, Recordings: true}},
		{"invalid-5pct", Options{Tenants: 20, Seed: 1, BadShare: 0.05}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			bc.o.Count = 1 << 30
			g := New(bc.o)
			var n, size int64
			for b.Loop() {
				m, ok := g.Next()
				if !ok {
					b.Fatal("generator ran dry")
				}
				n++
				size += int64(len(m.Value))
			}
			b.ReportMetric(float64(n)/b.Elapsed().Seconds(), "msgs/s")
			b.ReportMetric(float64(size)/float64(n), "B/msg")
		})
	}
}
