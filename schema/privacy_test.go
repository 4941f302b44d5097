package schema

import (
	"reflect"
	"slices"
	"sort"
	"testing"
)

var allClasses = []Class{Plain, Identifier, Content, Masked, Never}

// recordTypes and rowTypes are every type whose fields carry a privacy class.
var (
	recordTypes = []any{Inquiry{}, IVRInput{}, RecordingConsent{}, ChatLog{}, ChatMessage{}, Survey{}}
	rowTypes    = []any{InquiryRow{}, IVRInputRow{}, ChatlogRow{}, ChatMessageRow{}, RecordingRow{}, SurveyRow{}, Meta{}}
)

func typeName(v any) string { return reflect.TypeOf(v).Name() }

func TestEveryFieldHasAPrivacyClass(t *testing.T) {
	for _, v := range append(slices.Clone(recordTypes), rowTypes...) {
		t.Run(typeName(v), func(t *testing.T) {
			fcs := Classes(v)
			if len(fcs) == 0 {
				t.Fatal("no fields")
			}
			seen := map[string]bool{}
			for _, fc := range fcs {
				if !slices.Contains(allClasses, fc.Class) {
					t.Errorf("field %s has privacy class %q, want one of %v", fc.Field, fc.Class, allClasses)
				}
				if seen[fc.Field] {
					t.Errorf("field %s appears twice", fc.Field)
				}
				seen[fc.Field] = true
			}
			// Every struct field is listed (embedded Meta by its own fields).
			rt := reflect.TypeOf(v)
			for i := range rt.NumField() {
				f := rt.Field(i)
				if !f.Anonymous && !seen[fieldName(f)] {
					t.Errorf("Go field %s is not in Classes", f.Name)
				}
			}
		})
	}
}

// TestPrivacyClassTable pins the non-plain fields of every type: changing a
// field's class, or adding a non-plain field, is a decision to make here.
func TestPrivacyClassTable(t *testing.T) {
	inquiryIDs := []string{"caller_number", "chatter_email", "chatter_name", "chatter_number", "from_address", "subject"}
	tests := []struct {
		v                                       any
		identifier, content, masked, neverStore []string
	}{
		{v: Inquiry{}, identifier: inquiryIDs, masked: []string{"ivr_inputs.digits"}, neverStore: []string{"attachments", "body"}},
		{v: IVRInput{}, masked: []string{"digits"}},
		{v: RecordingConsent{}},
		{v: ChatLog{}, identifier: []string{"messages.name"}, content: []string{"messages", "messages.text"}},
		{v: ChatMessage{}, identifier: []string{"name"}, content: []string{"text"}},
		{v: Survey{}, identifier: []string{"respondent_email", "respondent_number"}, content: []string{"comment"}},
		{v: InquiryRow{}, identifier: inquiryIDs, masked: []string{"ivr_inputs.digits"}},
		{v: IVRInputRow{}, masked: []string{"digits"}},
		{v: ChatlogRow{}, identifier: []string{"messages.name"}, content: []string{"messages", "messages.text"}},
		{v: ChatMessageRow{}, identifier: []string{"name"}, content: []string{"text"}},
		{v: RecordingRow{}},
		{v: SurveyRow{}, identifier: []string{"respondent_email", "respondent_number"}, content: []string{"comment"}},
		{v: Meta{}},
	}
	for _, tt := range tests {
		t.Run(typeName(tt.v), func(t *testing.T) {
			for _, c := range []struct {
				class Class
				want  []string
			}{{Identifier, tt.identifier}, {Content, tt.content}, {Masked, tt.masked}, {Never, tt.neverStore}} {
				got := FieldsOfClass(tt.v, c.class)
				sort.Strings(got)
				if !slices.Equal(got, c.want) {
					t.Errorf("%s fields: got %v, want %v", c.class, got, c.want)
				}
			}
		})
	}
}

func TestClassOf(t *testing.T) {
	for _, tt := range []struct {
		v     any
		field string
		want  Class
	}{
		{Inquiry{}, "caller_number", Identifier},
		{&Inquiry{}, "ivr_inputs.digits", Masked},
		{[]Inquiry{}, "body", Never},
		{Inquiry{}, "attachments", Never},
		{Inquiry{}, "recording.deny_recording", Plain},
		{ChatLog{}, "messages.text", Content},
		{Survey{}, "respondent_number", Identifier},
		{InquiryRow{}, "_ingested_at", Plain},
		{ChatMessageRow{}, "name", Identifier},
	} {
		got, ok := ClassOf(tt.v, tt.field)
		if !ok || got != tt.want {
			t.Errorf("ClassOf(%T, %s) = %q, %v; want %q", tt.v, tt.field, got, ok, tt.want)
		}
	}
	if _, ok := ClassOf(Inquiry{}, "no_such_field"); ok {
		t.Error("ClassOf found a field that does not exist")
	}
}

// TestRecordAndRowAgree: a field stored under the same name as it arrives
// keeps its class.
func TestRecordAndRowAgree(t *testing.T) {
	for _, pair := range [][2]any{{Inquiry{}, InquiryRow{}}, {IVRInput{}, IVRInputRow{}},
		{ChatLog{}, ChatlogRow{}}, {ChatMessage{}, ChatMessageRow{}}, {Survey{}, SurveyRow{}}} {
		rec := map[string]Class{}
		for _, fc := range Classes(pair[0]) {
			rec[fc.Field] = fc.Class
		}
		for _, fc := range Classes(pair[1]) {
			if c, ok := rec[fc.Field]; ok && c != fc.Class {
				t.Errorf("%s: %s is %s in the record, %s in the row", typeName(pair[1]), fc.Field, c, fc.Class)
			}
		}
	}
}

// TestRowsNeverHoldNeverFields: body, attachments and any other Never field
// have no column anywhere in the lake.
func TestRowsNeverHoldNeverFields(t *testing.T) {
	never := map[string]bool{}
	for _, v := range recordTypes {
		for _, f := range FieldsOfClass(v, Never) {
			never[f] = true
		}
	}
	if !never["body"] || !never["attachments"] {
		t.Fatalf("body and attachments must be class never, got %v", never)
	}
	for _, v := range rowTypes {
		for _, fc := range Classes(v) {
			if fc.Class == Never || never[fc.Field] {
				t.Errorf("%s has a column %s of a never-stored field", typeName(v), fc.Field)
			}
		}
	}
}

// TestRemovableColumnsAreNullable: anonymisation and masking null identifier
// and masked columns, so each is a pointer (an optional Parquet column).
func TestRemovableColumnsAreNullable(t *testing.T) {
	for _, v := range rowTypes {
		rt := reflect.TypeOf(v)
		for i := range rt.NumField() {
			f := rt.Field(i)
			c := Class(f.Tag.Get("privacy"))
			if (c == Identifier || c == Masked) && f.Type.Kind() != reflect.Pointer {
				t.Errorf("%s.%s is %s but not nullable", rt.Name(), f.Name, c)
			}
		}
	}
}

// TestRowsCarryMeta: every dataset row has the arrival columns duplicates
// collapse on.
func TestRowsCarryMeta(t *testing.T) {
	for _, v := range []any{InquiryRow{}, ChatlogRow{}, RecordingRow{}, SurveyRow{}} {
		for _, col := range []string{"_ingested_at", "_kafka_partition", "_kafka_offset"} {
			if c, ok := ClassOf(v, col); !ok || c != Plain {
				t.Errorf("%s: column %s is %q, %v", typeName(v), col, c, ok)
			}
		}
	}
}
