package schema

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// The fuzz targets hold the decoders to their promises on any input:
//   - they never panic;
//   - an accepted record passes Validate again, has ids the contract's
//     patterns match (the regular expressions, not the byte loops that
//     stand for them), UTC times, and is accepted again once re-encoded;
//   - a rejected one gets an *InvalidError with one of Reasons(), naming a
//     contract field (or none), whose text holds no string of the input of 8
//     bytes or more (unless the package's own source says it, so that an
//     input that happens to spell a field name or rule is not a leak).
//
// Seeds: every contract example (testdata/contract) and the corpus in
// testdata/fuzz/<FuzzName>.

// maxSeedBytes leaves the largest examples out of the seeds: they only slow
// the mutator down.
const maxSeedBytes = 16 << 10

// leakMinLen is the shortest input string the error text must not contain.
const leakMinLen = 8

func addExampleSeeds(f *testing.F, topic string) {
	files, err := filepath.Glob(filepath.Join(contractDir, topic, "*", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no examples for %s: %v", topic, err)
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		if len(data) <= maxSeedBytes {
			f.Add(data)
		}
	}
}

// errorVocabulary is text an error may legitimately contain: the package's
// own source (field names, rules, details) and the names of the Go types
// encoding/json reports.
func errorVocabulary(f *testing.F) string {
	var b strings.Builder
	files, err := filepath.Glob("*.go")
	if err != nil {
		f.Fatal(err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		b.Write(src)
	}
	for _, v := range recordTypes {
		addTypeNames(&b, reflect.TypeOf(v))
	}
	return b.String()
}

func addTypeNames(b *strings.Builder, t reflect.Type) {
	for i := range t.NumField() {
		ft := t.Field(i).Type
		b.WriteString("\n" + ft.String())
		for ft.Kind() == reflect.Pointer || ft.Kind() == reflect.Slice {
			ft = ft.Elem()
			b.WriteString("\n" + ft.String())
		}
	}
}

// jsonStrings returns the strings of a JSON document, keys and values, as
// far as it parses (a broken document yields those before the break).
func jsonStrings(data []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(data))
	var out []string
	for {
		tok, err := dec.Token()
		if err != nil {
			return out
		}
		if s, ok := tok.(string); ok {
			out = append(out, s)
		}
	}
}

// knownFields lists the names an InvalidError may carry in Field.
func knownFields(v any) map[string]bool {
	out := map[string]bool{"": true}
	for _, fc := range Classes(v) {
		out[fc.Field] = true
	}
	for _, h := range []string{HeaderSchemaVersion, HeaderTenantID, HeaderInquiryID, HeaderRecordingID,
		HeaderInquiryStartedAt, HeaderDenyRecording, HeaderContentType, HeaderChunk, HeaderLastChunk, HeaderSHA256} {
		out[h] = true
	}
	return out
}

// checkRejection asserts what every rejection promises.
func checkRejection(t *testing.T, err error, fields map[string]bool, inputs []string, vocab string) {
	t.Helper()
	var ie *InvalidError
	if !errors.As(err, &ie) {
		t.Fatalf("error %v is a %T, want *InvalidError", err, err)
	}
	if !slices.Contains(Reasons(), ie.Reason) {
		t.Fatalf("reason %q is not in Reasons()", ie.Reason)
	}
	if !fields[ie.Field] {
		t.Fatalf("field %q is not a contract field", ie.Field)
	}
	// The reason and field that head the text come from the contract, not
	// from the input: a member named " tenant_" is not a leak of
	// "missing_field: tenant_id: is required".
	header := string(ie.Reason) + ": "
	if ie.Field != "" {
		header += ie.Field + ": "
	}
	text := strings.Replace(err.Error(), header, "\x00", 1)
	for _, s := range inputs {
		if len(s) >= leakMinLen && strings.Contains(text, s) && !strings.Contains(vocab, s) {
			t.Fatalf("error text %q holds the input string %q", text, s)
		}
	}
}

func checkUTC(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if tm.Location() != time.UTC {
		t.Fatalf("%s is not UTC: %v", what, tm)
	}
	if tm.Before(earliest) || !tm.Before(latest) {
		t.Fatalf("%s out of range: %v", what, tm)
	}
}

func FuzzDecodeInquiry(f *testing.F) {
	addExampleSeeds(f, "inquiries")
	vocab := errorVocabulary(f)
	fields := knownFields(Inquiry{})
	f.Fuzz(func(t *testing.T, data []byte) {
		in, err := DecodeInquiry(data)
		if err != nil {
			if in != nil {
				t.Fatal("a rejected inquiry was returned")
			}
			checkRejection(t, err, fields, jsonStrings(data), vocab)
			return
		}
		if err := in.Validate(); err != nil {
			t.Fatalf("accepted inquiry does not validate: %v", err)
		}
		if !tenantPattern.MatchString(in.TenantID) || !idPattern.MatchString(in.InquiryID) {
			t.Fatalf("accepted inquiry with tenant %q id %q", in.TenantID, in.InquiryID)
		}
		checkUTC(t, "started_at", in.StartedAt)
		if in.EndedAt != nil {
			checkUTC(t, "ended_at", *in.EndedAt)
		}
		switch in.MediaType {
		case MediaPhone:
			if in.Recording == nil || in.Recording.DenyRecording == nil {
				t.Fatal("phone inquiry accepted without deny_recording")
			}
		case MediaChat:
			if in.ChatStoreConsent == nil {
				t.Fatal("chat inquiry accepted without chat_store_consent")
			}
		}
		again, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeInquiry(again); err != nil {
			t.Fatalf("re-encoded inquiry rejected: %v\n%s", err, again)
		}
	})
}

func FuzzDecodeChatLog(f *testing.F) {
	addExampleSeeds(f, "chatlogs")
	vocab := errorVocabulary(f)
	fields := knownFields(ChatLog{})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := DecodeChatLog(data)
		if err != nil {
			if c != nil {
				t.Fatal("a rejected chat log was returned")
			}
			checkRejection(t, err, fields, jsonStrings(data), vocab)
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted chat log does not validate: %v", err)
		}
		if !tenantPattern.MatchString(c.TenantID) || !idPattern.MatchString(c.InquiryID) || c.ChatStoreConsent == nil {
			t.Fatalf("accepted chat log with tenant %q id %q consent %v", c.TenantID, c.InquiryID, c.ChatStoreConsent)
		}
		checkUTC(t, "inquiry_started_at", c.InquiryStartedAt)
		for _, m := range c.Messages {
			checkUTC(t, "messages.at", m.At)
		}
		again, err := json.Marshal(c)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeChatLog(again); err != nil {
			t.Fatalf("re-encoded chat log rejected: %v\n%s", err, again)
		}
	})
}

func FuzzDecodeSurvey(f *testing.F) {
	addExampleSeeds(f, "surveys")
	vocab := errorVocabulary(f)
	fields := knownFields(Survey{})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := DecodeSurvey(data)
		if err != nil {
			if s != nil {
				t.Fatal("a rejected survey was returned")
			}
			checkRejection(t, err, fields, jsonStrings(data), vocab)
			return
		}
		if err := s.Validate(); err != nil {
			t.Fatalf("accepted survey does not validate: %v", err)
		}
		if !tenantPattern.MatchString(s.TenantID) || !idPattern.MatchString(s.SurveyID) || !idPattern.MatchString(s.InquiryID) {
			t.Fatalf("accepted survey with tenant %q ids %q %q", s.TenantID, s.SurveyID, s.InquiryID)
		}
		if v := *s.Score; v != float64(int32(v)) || v < 0 || v > MaxSurveyScore {
			t.Fatalf("accepted score %v", v)
		}
		checkUTC(t, "inquiry_started_at", s.InquiryStartedAt)
		if s.AnsweredAt != nil {
			checkUTC(t, "answered_at", *s.AnsweredAt)
		}
		again, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeSurvey(again); err != nil {
			t.Fatalf("re-encoded survey rejected: %v\n%s", err, again)
		}
	})
}

// chunkArgs are the header values FuzzDecodeRecordingChunk takes, in this
// order; an empty one leaves its header out. An extra header (any name,
// any value) goes first, so that it can shadow or repeat a contract header.
var chunkArgs = []string{HeaderSchemaVersion, HeaderTenantID, HeaderInquiryID, HeaderRecordingID,
	HeaderInquiryStartedAt, HeaderDenyRecording, HeaderContentType, HeaderChunk, HeaderLastChunk, HeaderSHA256}

func FuzzDecodeRecordingChunk(f *testing.F) {
	files, err := filepath.Glob(filepath.Join(contractDir, "recordings", "*", "*.json"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no recording examples: %v", err)
	}
	for i, file := range files {
		var m map[string]string
		if err := json.Unmarshal(mustRead(f, file), &m); err != nil {
			f.Fatalf("%s: %v", file, err)
		}
		extraKey, extraValue := "", ""
		if i%3 == 0 { // some seeds repeat a header, some in another case
			extraKey, extraValue = "Deny-Recording", m[HeaderDenyRecording]
		}
		f.Add(m[HeaderSchemaVersion], m[HeaderTenantID], m[HeaderInquiryID], m[HeaderRecordingID],
			m[HeaderInquiryStartedAt], m[HeaderDenyRecording], m[HeaderContentType], m[HeaderChunk],
			m[HeaderLastChunk], m[HeaderSHA256], extraKey, extraValue, []byte("ID3\x04\x00\xff\xfb"))
	}
	vocab := errorVocabulary(f)
	fields := knownFields(struct{}{})
	f.Fuzz(func(t *testing.T, version, tenant, inquiry, recording, started, deny, contentType, chunk, last, sha,
		extraKey, extraValue string, value []byte) {
		values := []string{version, tenant, inquiry, recording, started, deny, contentType, chunk, last, sha}
		var headers []Header
		if extraKey != "" {
			headers = append(headers, Header{Key: extraKey, Value: []byte(extraValue)})
		}
		for i, v := range values {
			if v != "" {
				headers = append(headers, Header{Key: chunkArgs[i], Value: []byte(v)})
			}
		}
		c, err := DecodeRecordingChunk(headers, value)
		if err != nil {
			if c != nil {
				t.Fatal("a rejected chunk was returned")
			}
			checkRejection(t, err, fields, append(values, extraKey, extraValue, string(value)), vocab)
			return
		}
		if !tenantPattern.MatchString(c.TenantID) || !idPattern.MatchString(c.InquiryID) || !idPattern.MatchString(c.RecordingID) {
			t.Fatalf("accepted chunk with tenant %q ids %q %q", c.TenantID, c.InquiryID, c.RecordingID)
		}
		if len(value) > 0 && &c.Data[0] != &value[0] {
			t.Fatal("Data does not alias the value")
		}
		if c.DenyRecording {
			return // discarded unseen: nothing else was read
		}
		checkUTC(t, "inquiry-started-at", c.InquiryStartedAt)
		if c.ContentType != ContentTypeMP3 || c.Chunk < 0 || c.Chunk >= MaxChunks {
			t.Fatalf("accepted chunk %d of %q", c.Chunk, c.ContentType)
		}
		if c.SHA256 != "" {
			if b, err := hex.DecodeString(c.SHA256); err != nil || len(b) != 32 || c.SHA256 != strings.ToLower(c.SHA256) {
				t.Fatalf("accepted sha256 %q", c.SHA256)
			}
		}
	})
}

func TestJSONStrings(t *testing.T) {
	got := jsonStrings([]byte(`{"a":"one","b":[1,"two",{"c":null,"d":"three"}],"e":"four" x "five"}`))
	if want := []string{"a", "one", "b", "two", "c", "d", "three", "e", "four"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
