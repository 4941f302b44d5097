package schema

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

// chunkHeaders are the headers of a valid first chunk; with changes them
// (an empty value removes the header).
func chunkHeaders(changes ...string) []Header {
	kv := []string{
		HeaderSchemaVersion, "1",
		HeaderTenantID, "acme",
		HeaderInquiryID, "c-20261128-000123",
		HeaderRecordingID, "r1",
		HeaderInquiryStartedAt, "2026-11-28T09:14:03Z",
		HeaderDenyRecording, "false",
		HeaderContentType, "audio/mpeg",
		HeaderChunk, "0",
	}
	for i := 0; i+1 < len(changes); i += 2 {
		found := false
		for j := 0; j < len(kv); j += 2 {
			if kv[j] == changes[i] {
				kv[j+1], found = changes[i+1], true
			}
		}
		if !found {
			kv = append(kv, changes[i], changes[i+1])
		}
	}
	var hs []Header
	for i := 0; i < len(kv); i += 2 {
		if kv[i+1] != "" {
			hs = append(hs, Header{Key: kv[i], Value: []byte(kv[i+1])})
		}
	}
	return hs
}

func TestDecodeRecordingChunk(t *testing.T) {
	audio := []byte("ID3\x04\x00\xff\xfb\x90\x00")
	sum := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	tests := []struct {
		name    string
		headers []Header
		check   func(t *testing.T, c *RecordingChunk)
		reason  Reason // want an error with this reason, on field
		field   string
	}{
		{name: "valid first chunk", headers: chunkHeaders(), check: func(t *testing.T, c *RecordingChunk) {
			want := RecordingChunk{TenantID: "acme", InquiryID: "c-20261128-000123", RecordingID: "r1",
				InquiryStartedAt: time.Date(2026, 11, 28, 9, 14, 3, 0, time.UTC), ContentType: ContentTypeMP3}
			if c.TenantID != want.TenantID || c.InquiryID != want.InquiryID || c.RecordingID != want.RecordingID ||
				!c.InquiryStartedAt.Equal(want.InquiryStartedAt) || c.ContentType != want.ContentType ||
				c.Chunk != 0 || c.LastChunk || c.DenyRecording || c.SHA256 != "" {
				t.Errorf("got %+v", *c)
			}
			if &c.Data[0] != &audio[0] {
				t.Errorf("Data does not alias the value")
			}
		}},
		{name: "last chunk with upper-case sha256", headers: chunkHeaders(HeaderChunk, "65535", HeaderLastChunk, "true",
			HeaderSHA256, strings.ToUpper(sum)), check: func(t *testing.T, c *RecordingChunk) {
			if c.Chunk != MaxChunks-1 || !c.LastChunk || c.SHA256 != sum {
				t.Errorf("got chunk %d last %v sha256 %q", c.Chunk, c.LastChunk, c.SHA256)
			}
		}},
		{name: "zone offset stored as UTC", headers: chunkHeaders(HeaderInquiryStartedAt, "2026-11-28T00:30:00+01:00"),
			check: func(t *testing.T, c *RecordingChunk) {
				if c.InquiryStartedAt.Location() != time.UTC || Day(c.InquiryStartedAt) != "2026-11-27" {
					t.Errorf("got %v", c.InquiryStartedAt)
				}
			}},
		{name: "header names match case-insensitively", headers: []Header{
			{Key: "Schema-Version", Value: []byte("1")}, {Key: "TENANT-ID", Value: []byte("acme")},
			{Key: "Inquiry-Id", Value: []byte("c-1")}, {Key: "Recording-ID", Value: []byte("r1")},
			{Key: "Deny-Recording", Value: []byte("true")}}, check: func(t *testing.T, c *RecordingChunk) {
			if c.TenantID != "acme" || !c.DenyRecording {
				t.Errorf("got %+v", *c)
			}
		}},
		{name: "a repeated header with the same value is fine", headers: append(chunkHeaders(),
			Header{Key: "deny-recording", Value: []byte("false")}), check: func(t *testing.T, c *RecordingChunk) {}},
		{name: "deny-recording true short-circuits", headers: chunkHeaders(HeaderDenyRecording, "true",
			HeaderInquiryStartedAt, "yesterday", HeaderContentType, "audio/wav", HeaderChunk, "x", HeaderSHA256, "nope"),
			check: func(t *testing.T, c *RecordingChunk) {
				if !c.DenyRecording || c.Chunk != 0 || !c.InquiryStartedAt.IsZero() || c.SHA256 != "" {
					t.Errorf("metadata of a denied chunk was read: %+v", *c)
				}
			}},
		{name: "deny-recording true still needs a valid tenant", headers: chunkHeaders(HeaderDenyRecording, "true",
			HeaderTenantID, "../etc"), reason: ReasonInvalidTenant, field: HeaderTenantID},
		{name: "missing deny-recording", headers: chunkHeaders(HeaderDenyRecording, ""),
			reason: ReasonMissingConsent, field: HeaderDenyRecording},
		{name: "deny-recording neither true nor false", headers: chunkHeaders(HeaderDenyRecording, "no"),
			reason: ReasonInvalidValue, field: HeaderDenyRecording},
		{name: "deny-recording repeated with different values", headers: append(chunkHeaders(),
			Header{Key: "Deny-Recording", Value: []byte("true")}), reason: ReasonInvalidValue, field: HeaderDenyRecording},
		{name: "tenant-id repeated with different values", headers: append(chunkHeaders(HeaderDenyRecording, "true"),
			Header{Key: "tenant-id", Value: []byte("other")}), reason: ReasonInvalidValue, field: HeaderTenantID},
		{name: "negative chunk", headers: chunkHeaders(HeaderChunk, "-1"), reason: ReasonInvalidValue, field: HeaderChunk},
		{name: "chunk not a number", headers: chunkHeaders(HeaderChunk, "first"), reason: ReasonInvalidValue, field: HeaderChunk},
		{name: "chunk too large", headers: chunkHeaders(HeaderChunk, "65536"), reason: ReasonInvalidValue, field: HeaderChunk},
		{name: "chunk with leading zero", headers: chunkHeaders(HeaderChunk, "01"), reason: ReasonInvalidValue, field: HeaderChunk},
		{name: "chunk missing", headers: chunkHeaders(HeaderChunk, ""), reason: ReasonInvalidValue, field: HeaderChunk},
		{name: "sha256 too short", headers: chunkHeaders(HeaderSHA256, sum[:62]), reason: ReasonInvalidValue, field: HeaderSHA256},
		{name: "sha256 not hex", headers: chunkHeaders(HeaderSHA256, strings.Repeat("g", 64)), reason: ReasonInvalidValue, field: HeaderSHA256},
		{name: "last-chunk neither true nor false", headers: chunkHeaders(HeaderLastChunk, "1"), reason: ReasonInvalidValue, field: HeaderLastChunk},
		{name: "wrong content type", headers: chunkHeaders(HeaderContentType, "audio/wav"), reason: ReasonInvalidValue, field: HeaderContentType},
		{name: "content type with parameters", headers: chunkHeaders(HeaderContentType, "audio/mpeg; rate=44100"), reason: ReasonInvalidValue, field: HeaderContentType},
		{name: "unsupported version", headers: chunkHeaders(HeaderSchemaVersion, "2"), reason: ReasonUnsupportedVersion, field: HeaderSchemaVersion},
		{name: "missing version", headers: chunkHeaders(HeaderSchemaVersion, ""), reason: ReasonMissingField, field: HeaderSchemaVersion},
		{name: "missing tenant", headers: chunkHeaders(HeaderTenantID, ""), reason: ReasonMissingField, field: HeaderTenantID},
		{name: "bad recording id", headers: chunkHeaders(HeaderRecordingID, "r/1"), reason: ReasonInvalidID, field: HeaderRecordingID},
		{name: "started-at without zone", headers: chunkHeaders(HeaderInquiryStartedAt, "2026-11-28T09:14:03"),
			reason: ReasonInvalidValue, field: HeaderInquiryStartedAt},
		{name: "started-at before 2000", headers: chunkHeaders(HeaderInquiryStartedAt, "1999-12-31T23:59:59Z"),
			reason: ReasonOutOfRange, field: HeaderInquiryStartedAt},
		{name: "no headers at all", headers: nil, reason: ReasonMissingField, field: HeaderSchemaVersion},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := DecodeRecordingChunk(tt.headers, audio)
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				tt.check(t, c)
				return
			}
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v (%T), want *InvalidError %s", err, err, tt.reason)
			}
			if ie.Reason != tt.reason || ie.Field != tt.field {
				t.Errorf("got %s on %q, want %s on %q (%v)", ie.Reason, ie.Field, tt.reason, tt.field, err)
			}
			if c != nil {
				t.Errorf("a rejected chunk was returned: %+v", *c)
			}
		})
	}
}

// TestDecodeIgnoresCaseVariantKeys: encoding/json would match "TENANT_ID" to
// tenant_id; the contract's field names are exact, so such keys are unknown
// fields and are ignored, whichever comes last.
func TestDecodeIgnoresCaseVariantKeys(t *testing.T) {
	t.Run("inquiry example", func(t *testing.T) {
		data := mustRead(t, "testdata/contract/inquiries/valid/case-variant-keys-ignored.json")
		in, err := DecodeInquiry(data)
		if err != nil {
			t.Fatal(err)
		}
		if in.TenantID != "acme" || in.InquiryID != "c-20261128-000124" || in.ChatStoreConsent == nil || !*in.ChatStoreConsent {
			t.Errorf("case-variant keys were used: tenant %q inquiry %q consent %v", in.TenantID, in.InquiryID, in.ChatStoreConsent)
		}
	})
	t.Run("chat log consent", func(t *testing.T) {
		data := mustRead(t, "testdata/contract/chatlogs/valid/case-variant-keys-ignored.json")
		c, err := DecodeChatLog(data)
		if err != nil {
			t.Fatal(err)
		}
		if c.ChatStoreConsent == nil || *c.ChatStoreConsent || c.TenantID != "acme" {
			t.Errorf("CHAT_STORE_CONSENT or Tenant_Id overrode the real fields: consent %v tenant %q", c.ChatStoreConsent, c.TenantID)
		}
	})
	base := `"schema_version":1,"tenant_id":"acme","inquiry_id":"c-1","started_at":"2026-11-28T09:14:03Z"`
	for _, tt := range []struct {
		name  string
		json  string
		check func(*Inquiry) bool
	}{
		{"nested masked flag", `{` + base + `,"media_type":"email","ivr_inputs":[{"module":"enter_pnr","digits":"1985","masked":true,"MASKED":false}]}`,
			func(in *Inquiry) bool { return in.IVRInputs[0].Masked }},
		{"nested consent", `{` + base + `,"media_type":"phone","recording":{"deny_recording":true,"Deny_Recording":false}}`,
			func(in *Inquiry) bool { return *in.Recording.DenyRecording }},
		{"lone case variant does not stand in", `{` + base + `,"media_type":"email","Caller_Number":"+46701234567"}`,
			func(in *Inquiry) bool { return in.CallerNumber == nil }},
		// Unicode simple folding: U+017F (long s) folds to s, U+212A (Kelvin) to k.
		{"long s", `{` + base + `,"media_type":"email","ſession_id":"x"}`,
			func(in *Inquiry) bool { return in.SessionID == "" }},
		{"Kelvin sign", `{` + base + `,"media_type":"email","tal` + "\u212a" + `_seconds":1e12}`,
			func(in *Inquiry) bool { return in.TalkSeconds == nil }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in, err := DecodeInquiry([]byte(tt.json))
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(in) {
				t.Errorf("a case-variant key was matched: %+v", *in)
			}
		})
	}
}

func TestDecodeJSONEnvelope(t *testing.T) {
	rec := `{"schema_version":1,"tenant_id":"acme","survey_id":"s","survey_type":"sms","inquiry_id":"c","inquiry_started_at":"2026-11-28T09:14:03Z","score":5}`
	for _, tt := range []struct {
		name string
		data string
		ok   bool
	}{
		{"plain", rec, true},
		{"JSON white space around", " \t\r\n" + rec + "\n\n", true},
		{"trailing brace", rec + "}", false},
		{"trailing bracket", rec + "]", false},
		{"second document", rec + rec, false},
		{"trailing garbage", rec + " x", false},
		{"leading vertical tab", "\v" + rec, false},
		{"leading no-break space", "\u00a0" + rec, false},
		{"byte order mark", "\ufeff" + rec, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeSurvey([]byte(tt.data))
			if tt.ok && err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if !tt.ok && reasonOf(err) != ReasonMalformed {
				t.Fatalf("got %v, want malformed", err)
			}
		})
	}
}

// TestDecodeErrorNamesField: the error says which field, in the contract's
// dotted names.
func TestDecodeErrorNamesField(t *testing.T) {
	inq := `"schema_version":1,"tenant_id":"acme","inquiry_id":"c-1","media_type":"email"`
	log := `"schema_version":1,"tenant_id":"acme","inquiry_id":"c-1","inquiry_started_at":"2026-11-28T09:15:00Z","chat_store_consent":true`
	for _, tt := range []struct {
		name   string
		decode func([]byte) error
		data   string
		reason Reason
		field  string
	}{
		{"started_at without zone", contractTopics[0].decode, `{` + inq + `,"started_at":"2026-11-28T09:14:03"}`, ReasonInvalidValue, "started_at"},
		{"started_at a number", contractTopics[0].decode, `{` + inq + `,"started_at":1795857243}`, ReasonInvalidValue, "started_at"},
		{"ended_at a boolean", contractTopics[0].decode, `{` + inq + `,"started_at":"2026-11-28T09:14:03Z","ended_at":true}`, ReasonInvalidValue, "ended_at"},
		{"ivr digits a number", contractTopics[0].decode, `{` + inq + `,"started_at":"2026-11-28T09:14:03Z","ivr_inputs":[{"module":"m","digits":1}]}`, ReasonInvalidValue, "ivr_inputs.digits"},
		{"deny_recording a string", contractTopics[0].decode, `{` + inq + `,"started_at":"2026-11-28T09:14:03Z","recording":{"deny_recording":"no"}}`, ReasonInvalidValue, "recording.deny_recording"},
		{"message at a bad date", contractTopics[1].decode, `{` + log + `,"messages":[{"at":"2026-13-01T00:00:00Z","from":"agent"}]}`, ReasonInvalidValue, "messages.at"},
		{"message at missing", contractTopics[1].decode, `{` + log + `,"messages":[{"from":"agent"}]}`, ReasonMissingField, "messages.at"},
		{"message from a bot", contractTopics[1].decode, `{` + log + `,"messages":[{"at":"2026-11-28T09:15:00Z","from":"bot"}]}`, ReasonInvalidValue, "messages.from"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode([]byte(tt.data))
			var ie *InvalidError
			if !errors.As(err, &ie) || ie.Reason != tt.reason || ie.Field != tt.field {
				t.Fatalf("got %v, want %s on %s", err, tt.reason, tt.field)
			}
		})
	}
}

func TestDecodedTimesAreUTC(t *testing.T) {
	in, err := DecodeInquiry([]byte(`{"schema_version":1,"tenant_id":"acme","inquiry_id":"c-1","media_type":"email",` +
		`"started_at":"2026-11-28T00:30:00+01:00","ended_at":"2026-11-28T01:30:00.5+01:00"}`))
	if err != nil {
		t.Fatal(err)
	}
	if in.StartedAt.Location() != time.UTC || in.EndedAt.Location() != time.UTC {
		t.Errorf("times not UTC: %v %v", in.StartedAt, *in.EndedAt)
	}
	if Day(in.StartedAt) != "2026-11-27" {
		t.Errorf("partition day %s, want 2026-11-27", Day(in.StartedAt))
	}
	c, err := DecodeChatLog(mustRead(t, "testdata/contract/chatlogs/valid/system-messages.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range c.Messages {
		if m.At.Location() != time.UTC {
			t.Errorf("message time not UTC: %v", m.At)
		}
	}
	s, err := DecodeSurvey(mustRead(t, "testdata/contract/surveys/valid/offset-time-zone.json"))
	if err != nil {
		t.Fatal(err)
	}
	if s.InquiryStartedAt.Location() != time.UTC || s.AnsweredAt.Location() != time.UTC {
		t.Errorf("survey times not UTC: %v %v", s.InquiryStartedAt, *s.AnsweredAt)
	}
}

// TestInvalidErrorHidesValues: an error names the field and the rule, never
// the value, which may be personal data or masked digits. Each case puts a
// distinctive secret where it is wrong.
func TestInvalidErrorHidesValues(t *testing.T) {
	const secret = "198501019999"
	const phone = "+46709999999123"
	inq := func(fields string) string {
		return `{"schema_version":1,"tenant_id":"acme","inquiry_id":"c-1","media_type":"phone","started_at":"2026-11-28T09:14:03Z",` +
			`"recording":{"deny_recording":false},` + fields + `}`
	}
	cases := []struct {
		name   string
		decode func([]byte) error
		data   string
		secret string
	}{
		{"caller number as array", contractTopics[0].decode, inq(`"caller_number":["` + phone + `"]`), phone},
		{"caller number as number", contractTopics[0].decode, inq(`"caller_number":` + phone[1:]), phone[1:]},
		{"caller number too long", contractTopics[0].decode, inq(`"caller_number":"` + phone + strings.Repeat("9", 1024) + `"`), phone},
		{"masked digits as object", contractTopics[0].decode, inq(`"ivr_inputs":[{"module":"enter_pnr","digits":{"d":"` + secret + `"},"masked":true}]`), secret},
		{"masked digits as number", contractTopics[0].decode, inq(`"ivr_inputs":[{"module":"enter_pnr","digits":` + secret + `,"masked":true}]`), secret},
		{"masked digits with a bad flag", contractTopics[0].decode, inq(`"ivr_inputs":[{"module":"enter_pnr","digits":"` + secret + `","masked":"` + secret + `"}]`), secret},
		{"masked digits in module", contractTopics[0].decode, inq(`"ivr_inputs":[{"module":"` + secret + strings.Repeat("0", 1024) + `","masked":true}]`), secret},
		{"secret as timestamp", contractTopics[0].decode, inq(`"ended_at":"` + secret + `"`), secret},
		{"secret as tenant", contractTopics[0].decode, strings.Replace(inq(`"x":1`), `"acme"`, `"../`+secret+`"`, 1), secret},
		{"secret as inquiry id", contractTopics[0].decode, strings.Replace(inq(`"x":1`), `"c-1"`, `"`+secret+` "`, 1), secret},
		{"secret as media type", contractTopics[0].decode, strings.Replace(inq(`"x":1`), `"phone"`, `"`+secret+`"`, 1), secret},
		{"secret as wait seconds", contractTopics[0].decode, inq(`"wait_seconds":"` + secret + `"`), secret},
		{"secret next to a syntax error", contractTopics[0].decode, inq(`"caller_number":"` + phone + `" "x":1`), phone},
		{"secret in a chat sender", contractTopics[1].decode, `{"schema_version":1,"tenant_id":"acme","inquiry_id":"c-1","inquiry_started_at":"2026-11-28T09:15:00Z","chat_store_consent":true,"messages":[{"at":"2026-11-28T09:15:00Z","from":"` + secret + `","text":"hi"}]}`, secret},
		{"secret as chat consent", contractTopics[1].decode, `{"schema_version":1,"tenant_id":"acme","inquiry_id":"c-1","inquiry_started_at":"2026-11-28T09:15:00Z","chat_store_consent":"` + secret + `"}`, secret},
		{"secret as survey score", contractTopics[2].decode, `{"schema_version":1,"tenant_id":"acme","survey_id":"s","survey_type":"sms","inquiry_id":"c","inquiry_started_at":"2026-11-28T09:14:03Z","score":"` + secret + `"}`, secret},
		{"secret as respondent email", contractTopics[2].decode, `{"schema_version":1,"tenant_id":"acme","survey_id":"s","survey_type":"sms","inquiry_id":"c","inquiry_started_at":"2026-11-28T09:14:03Z","score":1,"respondent_email":{"e":"` + secret + `"}}`, secret},
	}
	for _, h := range []string{HeaderSchemaVersion, HeaderTenantID, HeaderInquiryID, HeaderRecordingID,
		HeaderInquiryStartedAt, HeaderDenyRecording, HeaderContentType, HeaderChunk, HeaderLastChunk, HeaderSHA256} {
		hs := chunkHeaders(h, "x/"+secret)
		cases = append(cases, struct {
			name   string
			decode func([]byte) error
			data   string
			secret string
		}{"secret in header " + h, func([]byte) error { _, err := DecodeRecordingChunk(hs, nil); return err }, "", secret})
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.decode([]byte(tt.data))
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("got %v (%T), want *InvalidError", err, err)
			}
			if strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error text holds the value: %q", err.Error())
			}
		})
	}
}

func TestInvalidErrorText(t *testing.T) {
	if got := invalid(ReasonMissingField, "tenant_id", "is required").Error(); got != "missing_field: tenant_id: is required" {
		t.Errorf("got %q", got)
	}
	if got := invalid(ReasonMalformed, "", "value is not a JSON object").Error(); got != "malformed: value is not a JSON object" {
		t.Errorf("got %q", got)
	}
	seen := map[Reason]bool{}
	for _, r := range Reasons() {
		if r == "" || seen[r] || strings.ContainsAny(string(r), " -") {
			t.Errorf("bad or repeated reason %q", r)
		}
		seen[r] = true
	}
}

func mustRead(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Clone(data)
}
