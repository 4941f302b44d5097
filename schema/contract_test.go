package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The contract examples live in testdata/contract/<topic>/{valid,invalid}.
// Every example is checked twice: against the JSON Schema file of its topic
// and with the Go decoder. Both must accept the valid ones and reject the
// invalid ones; an invalid example's file name starts with the Reason the Go
// decoder must return ("missing_consent-phone-no-recording.json").
//
// The only examples allowed to split the two are the Go-only ones: their
// names end in ".go-only.json" and they are listed, with why, in goOnly. For
// those the test insists that the schema accepts them (the exception is
// exactly "JSON Schema cannot say this") and that Go rejects them.

const contractDir = "testdata/contract"

// contractTopics maps an example folder to its schema file and Go decoder.
var contractTopics = []struct {
	topic  string
	schema string
	decode func([]byte) error
}{
	{"inquiries", "inquiry.schema.json", func(b []byte) error { _, err := DecodeInquiry(b); return err }},
	{"chatlogs", "chatlog.schema.json", func(b []byte) error { _, err := DecodeChatLog(b); return err }},
	{"surveys", "survey.schema.json", func(b []byte) error { _, err := DecodeSurvey(b); return err }},
	{"recordings", "recording-headers.schema.json", decodeHeaderExample},
}

// goOnly is the explicit list of examples that break only a rule JSON Schema
// cannot express, and why it cannot.
var goOnly = map[string]string{
	"inquiries/out_of_range-started-at-1999.go-only.json":               "timestamps must lie in [2000-01-01, 2200-01-01): a range of instants, not of text",
	"inquiries/out_of_range-started-at-offset-before-2000.go-only.json": "the same range, where only the zone offset moves the instant before 2000",
	"inquiries/out_of_range-started-at-2200.go-only.json":               "timestamps must lie in [2000-01-01, 2200-01-01)",
	"inquiries/out_of_range-started-at-unix-epoch.go-only.json":         "timestamps must lie in [2000-01-01, 2200-01-01)",
	"inquiries/out_of_range-ended-before-started.go-only.json":          "ended_at >= started_at compares two fields",
	"inquiries/invalid_value-schema-version-1.0.go-only.json":           "JSON Schema treats 1.0 as the integer 1; Go decodes schema_version into an int and refuses a fraction",
	"inquiries/too_large-agent-name-multibyte.go-only.json":             "maxLength counts characters; arkiv limits UTF-8 bytes (600 x 'å' is 1200 bytes)",
	"inquiries/invalid_value-started-at-leap-second.go-only.json":       "format date-time allows a leap second (23:59:60Z); Go's time package has none",
	"chatlogs/out_of_range-inquiry-started-at-2200.go-only.json":        "timestamps must lie in [2000-01-01, 2200-01-01)",
	"chatlogs/out_of_range-message-at-unix-epoch.go-only.json":          "timestamps must lie in [2000-01-01, 2200-01-01)",
	"chatlogs/too_large-message-text-multibyte.go-only.json":            "maxLength counts characters; arkiv limits UTF-8 bytes (40000 x 'ä' is 80000 bytes)",
	"surveys/out_of_range-answered-at-1999.go-only.json":                "timestamps must lie in [2000-01-01, 2200-01-01)",
	"surveys/out_of_range-inquiry-started-at-2200.go-only.json":         "timestamps must lie in [2000-01-01, 2200-01-01)",
	"recordings/out_of_range-started-at-1999.go-only.json":              "timestamps must lie in [2000-01-01, 2200-01-01)",
}

// Each topic keeps at least this many examples of each kind.
const (
	minValidExamples   = 6
	minInvalidExamples = 15
)

func TestContractExamples(t *testing.T) {
	schemas := compileSchemas(t)
	seenGoOnly := map[string]bool{}
	for _, tc := range contractTopics {
		sch := schemas[tc.schema]
		for _, kind := range []string{"valid", "invalid"} {
			files := exampleFiles(t, tc.topic, kind)
			min := minValidExamples
			if kind == "invalid" {
				min = minInvalidExamples
			}
			if len(files) < min {
				t.Errorf("%s/%s: %d examples, want at least %d", tc.topic, kind, len(files), min)
			}
			for _, file := range files {
				name := filepath.Base(file)
				key := tc.topic + "/" + name
				t.Run(tc.topic+"/"+kind+"/"+strings.TrimSuffix(name, ".json"), func(t *testing.T) {
					data, err := os.ReadFile(file)
					if err != nil {
						t.Fatal(err)
					}
					schemaErr := validateSchema(sch, data)
					goErr := tc.decode(data)
					if kind == "valid" {
						if schemaErr != nil {
							t.Errorf("JSON Schema rejects a valid example: %v", schemaErr)
						}
						if goErr != nil {
							t.Errorf("Go decoder rejects a valid example: %v", goErr)
						}
						return
					}
					goOnlyExample := strings.HasSuffix(name, ".go-only.json")
					if goOnlyExample {
						seenGoOnly[key] = true
						if goOnly[key] == "" {
							t.Fatalf("%s is marked .go-only but not listed, with why, in goOnly", key)
						}
						if schemaErr != nil {
							t.Errorf("JSON Schema rejects a Go-only example (%v): drop the .go-only marker and its goOnly entry", schemaErr)
						}
					} else if schemaErr == nil {
						t.Errorf("JSON Schema accepts an invalid example")
					}
					checkReason(t, name, goErr)
				})
			}
		}
	}
	for key := range goOnly {
		if !seenGoOnly[key] {
			t.Errorf("goOnly lists %s, which is not an invalid example", key)
		}
	}
}

// TestContractGenerated covers limits whose examples would be too large to
// keep as files.
func TestContractGenerated(t *testing.T) {
	schemas := compileSchemas(t)
	message := `{"at":"2026-11-28T09:15:07Z","from":"agent","text":"x"}`
	chatlog := func(n int) []byte {
		msgs := strings.TrimSuffix(strings.Repeat(message+",", n), ",")
		return []byte(`{"schema_version":1,"tenant_id":"acme","inquiry_id":"c-1","inquiry_started_at":"2026-11-28T09:15:00Z","chat_store_consent":true,"messages":[` + msgs + `]}`)
	}
	tests := []struct {
		name   string
		schema string
		data   []byte
		decode func([]byte) error
		reason Reason // "" for valid
	}{
		{"chatlog with the most messages", "chatlog.schema.json", chatlog(MaxChatMessages), contractTopics[1].decode, ""},
		{"chatlog with one message too many", "chatlog.schema.json", chatlog(MaxChatMessages + 1), contractTopics[1].decode, ReasonTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			schemaErr := validateSchema(schemas[tt.schema], tt.data)
			goErr := tt.decode(tt.data)
			if tt.reason == "" {
				if schemaErr != nil || goErr != nil {
					t.Fatalf("want both to accept; schema: %v; Go: %v", schemaErr, goErr)
				}
				return
			}
			if schemaErr == nil {
				t.Errorf("JSON Schema accepts it")
			}
			if got := reasonOf(goErr); got != tt.reason {
				t.Errorf("Go decoder: %v, want reason %s", goErr, tt.reason)
			}
		})
	}
}

// TestSchemaMatchesGo checks that the schema files say what the Go code says
// where both spell the same thing: field names, patterns, limits, enums.
func TestSchemaMatchesGo(t *testing.T) {
	docs := map[string]map[string]any{}
	for _, tc := range contractTopics {
		docs[tc.schema] = readSchemaDoc(t, tc.schema)
	}
	inquiry, chatlog, survey, headers := docs["inquiry.schema.json"], docs["chatlog.schema.json"],
		docs["survey.schema.json"], docs["recording-headers.schema.json"]

	t.Run("properties are the Go fields", func(t *testing.T) {
		for _, c := range []struct {
			name   string
			schema any
			goType any
		}{
			{"Inquiry", inquiry, Inquiry{}},
			{"IVRInput", at(inquiry, "$defs", "ivr_input"), IVRInput{}},
			{"RecordingConsent", at(inquiry, "properties", "recording"), RecordingConsent{}},
			{"ChatLog", chatlog, ChatLog{}},
			{"ChatMessage", at(chatlog, "$defs", "message"), ChatMessage{}},
			{"Survey", survey, Survey{}},
		} {
			var want []string
			rt := reflect.TypeOf(c.goType)
			for i := range rt.NumField() {
				want = append(want, fieldName(rt.Field(i)))
			}
			got := keys(at(c.schema, "properties"))
			sort.Strings(want)
			if !slices.Equal(got, want) {
				t.Errorf("%s: schema properties %v, Go fields %v", c.name, got, want)
			}
		}
		var want []string
		for _, h := range []string{HeaderSchemaVersion, HeaderTenantID, HeaderInquiryID, HeaderRecordingID,
			HeaderInquiryStartedAt, HeaderDenyRecording, HeaderContentType, HeaderChunk, HeaderLastChunk, HeaderSHA256} {
			want = append(want, h)
		}
		sort.Strings(want)
		if got := keys(at(headers, "properties")); !slices.Equal(got, want) {
			t.Errorf("recording headers: schema properties %v, Go headers %v", got, want)
		}
	})

	t.Run("patterns", func(t *testing.T) {
		for name, doc := range docs {
			defs := at(doc, "$defs")
			if got := at(defs, "tenant_id", "pattern"); got != tenantPattern.String() {
				t.Errorf("%s tenant_id pattern %v, Go %s", name, got, tenantPattern)
			}
			if got := at(defs, "id", "pattern"); got != idPattern.String() {
				t.Errorf("%s id pattern %v, Go %s", name, got, idPattern)
			}
			if got := at(defs, "timestamp", "pattern"); got != timestampPattern.String() {
				t.Errorf("%s timestamp pattern %v, Go %s", name, got, timestampPattern)
			}
			if got := at(defs, "timestamp", "format"); got != "date-time" {
				t.Errorf("%s timestamp format %v, want date-time", name, got)
			}
		}
	})

	t.Run("limits", func(t *testing.T) {
		for _, c := range []struct {
			what string
			got  any
			want float64
		}{
			{"inquiry text maxLength", at(inquiry, "$defs", "text", "maxLength"), MaxStringLen},
			{"chatlog text maxLength", at(chatlog, "$defs", "text", "maxLength"), MaxStringLen},
			{"survey text maxLength", at(survey, "$defs", "text", "maxLength"), MaxStringLen},
			{"ivr module maxLength", at(inquiry, "$defs", "ivr_input", "properties", "module", "maxLength"), MaxStringLen},
			{"chat text maxLength", at(chatlog, "$defs", "long_text", "maxLength"), MaxChatTextLen},
			{"survey comment maxLength", at(survey, "$defs", "long_text", "maxLength"), MaxChatTextLen},
			{"ivr_inputs maxItems", at(inquiry, "properties", "ivr_inputs", "maxItems"), MaxIVRInputs},
			{"messages maxItems", at(chatlog, "properties", "messages", "maxItems"), MaxChatMessages},
			{"wait_seconds maximum", at(inquiry, "properties", "wait_seconds", "maximum"), MaxDurationSecond},
			{"talk_seconds maximum", at(inquiry, "properties", "talk_seconds", "maximum"), MaxDurationSecond},
			{"score maximum", at(survey, "properties", "score", "maximum"), MaxSurveyScore},
			{"schema_version const", at(inquiry, "properties", "schema_version", "const"), Version},
			{"chatlog schema_version const", at(chatlog, "properties", "schema_version", "const"), Version},
			{"survey schema_version const", at(survey, "properties", "schema_version", "const"), Version},
		} {
			if got, ok := c.got.(float64); !ok || got != c.want {
				t.Errorf("%s: schema %v, Go %v", c.what, c.got, c.want)
			}
		}
		if got := at(headers, "properties", HeaderSchemaVersion, "const"); got != "1" {
			t.Errorf("schema-version const %v, want \"1\"", got)
		}
		if got := at(headers, "then", "properties", HeaderContentType, "const"); got != ContentTypeMP3 {
			t.Errorf("content-type const %v, want %s", got, ContentTypeMP3)
		}
	})

	t.Run("enums", func(t *testing.T) {
		for _, c := range []struct {
			what string
			got  any
			want []string
		}{
			{"media_type", at(inquiry, "properties", "media_type", "enum"), []string{MediaPhone, MediaChat, MediaEmail, MediaETask, MediaSocial}},
			{"from", at(chatlog, "$defs", "message", "properties", "from", "enum"), []string{FromChatter, FromAgent, FromSystem}},
			{"survey_type", at(survey, "properties", "survey_type", "enum"), []string{SurveySMS, SurveyChat}},
			{"deny-recording", at(headers, "properties", HeaderDenyRecording, "enum"), []string{"true", "false"}},
		} {
			var got []string
			list, _ := c.got.([]any)
			for _, v := range list {
				s, _ := v.(string)
				got = append(got, s)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("%s: schema %v, Go %v", c.what, got, c.want)
			}
		}
	})
}

// compileSchemas compiles every schema file of the folder, with format
// assertions on (date-time is otherwise only an annotation in 2020-12).
func compileSchemas(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	files, err := filepath.Glob("*.schema.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no schema files: %v", err)
	}
	out := map[string]*jsonschema.Schema{}
	for _, f := range files {
		abs, err := filepath.Abs(f)
		if err != nil {
			t.Fatal(err)
		}
		sch, err := c.Compile(abs)
		if err != nil {
			t.Fatalf("compile %s: %v", f, err)
		}
		out[f] = sch
	}
	for _, tc := range contractTopics {
		if out[tc.schema] == nil {
			t.Fatalf("schema file %s is missing", tc.schema)
		}
	}
	return out
}

// validateSchema parses data as a JSON document (anything else is rejected,
// as a JSON Schema validator in another language would) and validates it.
func validateSchema(sch *jsonschema.Schema, data []byte) error {
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return sch.Validate(doc)
}

// decodeHeaderExample turns a recording example (a JSON object of header name
// to value) into Kafka headers, in name order, and decodes them with a few
// bytes of audio.
func decodeHeaderExample(data []byte) error {
	var m map[string]string
	if err := json.Unmarshal(data, &m); err != nil {
		return err
	}
	names := make([]string, 0, len(m))
	for k := range m {
		names = append(names, k)
	}
	sort.Strings(names)
	var headers []Header
	for _, k := range names {
		headers = append(headers, Header{Key: k, Value: []byte(m[k])})
	}
	_, err := DecodeRecordingChunk(headers, []byte("ID3\x04\x00\x00\x00\x00\x00\x00\xff\xfb"))
	return err
}

func exampleFiles(t *testing.T, topic, kind string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(contractDir, topic, kind, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	return files
}

// checkReason asserts that err is an *InvalidError whose Reason is the one
// the example's file name starts with.
func checkReason(t *testing.T, name string, err error) {
	t.Helper()
	want, _, _ := strings.Cut(name, "-")
	if !slices.Contains(Reasons(), Reason(want)) {
		t.Fatalf("file name %s does not start with a Reason followed by '-'", name)
	}
	if err == nil {
		t.Fatalf("Go decoder accepts an invalid example (want %s)", want)
	}
	var ie *InvalidError
	if !errors.As(err, &ie) {
		t.Fatalf("Go decoder: %T %v, want *InvalidError", err, err)
	}
	if ie.Reason != Reason(want) {
		t.Errorf("Go decoder: %v, want reason %s", err, want)
	}
}

func reasonOf(err error) Reason {
	var ie *InvalidError
	if errors.As(err, &ie) {
		return ie.Reason
	}
	return ""
}

func readSchemaDoc(t *testing.T, file string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return doc
}

// at follows object keys into a decoded JSON document; nil where one is missing.
func at(v any, path ...string) any {
	for _, k := range path {
		m, _ := v.(map[string]any)
		v = m[k]
	}
	return v
}

func keys(v any) []string {
	m, _ := v.(map[string]any)
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
