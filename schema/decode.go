package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// DecodeInquiry decodes and validates one arkiv.inquiries value. The error,
// when not nil, is an *InvalidError.
func DecodeInquiry(data []byte) (*Inquiry, error) {
	var in Inquiry
	if err := decodeJSON(data, &in); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	in.normalise()
	return &in, nil
}

// DecodeChatLog decodes and validates one arkiv.chatlogs value.
func DecodeChatLog(data []byte) (*ChatLog, error) {
	var c ChatLog
	if err := decodeJSON(data, &c); err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	c.InquiryStartedAt = c.InquiryStartedAt.UTC()
	for i := range c.Messages {
		c.Messages[i].At = c.Messages[i].At.UTC()
	}
	return &c, nil
}

// DecodeSurvey decodes and validates one arkiv.surveys value.
func DecodeSurvey(data []byte) (*Survey, error) {
	var s Survey
	if err := decodeJSON(data, &s); err != nil {
		return nil, err
	}
	if err := s.Validate(); err != nil {
		return nil, err
	}
	s.InquiryStartedAt = s.InquiryStartedAt.UTC()
	s.AnsweredAt = utcPtr(s.AnsweredAt)
	return &s, nil
}

// decodeJSON decodes one JSON object. Its errors say where and what kind of
// problem, never the text that was there.
//
// The value is parsed twice: first generically, to hold encoding/json to the
// contract where it is laxer (see vetFields), then into v.
func decodeJSON(data []byte, v any) error {
	data = bytes.Trim(data, jsonSpace)
	if len(data) == 0 || data[0] != '{' {
		return invalid(ReasonMalformed, "", "value is not a JSON object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var tree any
	if err := dec.Decode(&tree); err != nil {
		return describeJSONError(err)
	}
	if dec.InputOffset() != int64(len(data)) {
		return invalid(ReasonMalformed, "", "value has more after the JSON object")
	}
	changed, err := vetFields(tree, reflect.TypeOf(v).Elem(), "")
	if err != nil {
		return err
	}
	if changed {
		if data, err = json.Marshal(tree); err != nil {
			return invalid(ReasonMalformed, "", "value is not valid JSON for this topic")
		}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return describeJSONError(err)
	}
	return nil
}

// jsonSpace is the white space JSON allows around a value (RFC 8259).
const jsonSpace = " \t\r\n"

var timeType = reflect.TypeFor[time.Time]()

// vetFields walks a generically decoded JSON value along the Go type t it is
// about to be decoded into, and reports whether it changed the value.
//
// encoding/json matches object keys to fields case-insensitively; the
// contract's names are exact. A key that differs from a field's name only in
// letter case ("TENANT_ID") is an unknown field, which the contract ignores:
// vetFields removes it, so that it cannot override the real field.
//
// Timestamps are checked strictly (see parseTimestamp), with the field named.
func vetFields(v any, t reflect.Type, path string) (changed bool, err error) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == timeType:
		return false, checkTimestamp(path, v)
	case t.Kind() == reflect.Slice && t.Elem().Kind() != reflect.Uint8:
		items, _ := v.([]any) // a wrong type is reported by encoding/json
		for _, item := range items {
			c, err := vetFields(item, t.Elem(), path)
			if err != nil {
				return false, err
			}
			changed = changed || c
		}
	case t.Kind() == reflect.Struct:
		obj, _ := v.(map[string]any)
		if obj == nil {
			return false, nil
		}
		names := make(map[string]bool, t.NumField())
		for i := range t.NumField() {
			names[fieldName(t.Field(i))] = true
		}
		for key := range obj {
			if names[key] {
				continue
			}
			for name := range names {
				if strings.EqualFold(key, name) {
					delete(obj, key)
					changed = true
					break
				}
			}
		}
		for i := range t.NumField() { // in field order: the first error is stable
			f := t.Field(i)
			name := fieldName(f)
			if val, ok := obj[name]; ok {
				c, err := vetFields(val, f.Type, strings.TrimPrefix(path+"."+name, "."))
				if err != nil {
					return false, err
				}
				changed = changed || c
			}
		}
	}
	return changed, nil
}

func checkTimestamp(field string, v any) error {
	switch s := v.(type) {
	case nil:
		return nil // null: absent
	case string:
		if _, ok := parseTimestamp(s); !ok {
			return invalid(ReasonInvalidValue, field, "is not an RFC 3339 timestamp with a zone")
		}
		return nil
	default:
		return invalid(ReasonInvalidValue, field, "has the wrong JSON type, expected an RFC 3339 string")
	}
}

// parseTimestamp parses an RFC 3339 timestamp with a zone. time.Parse alone
// is laxer than RFC 3339: it takes one-digit hours, a comma before the
// fraction and zone offsets of 24 hours.
func parseTimestamp(s string) (time.Time, bool) {
	if !timestampPattern.MatchString(s) {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

func describeJSONError(err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var parse *time.ParseError
	switch {
	case errors.As(err, &syntax):
		return invalid(ReasonMalformed, "", fmt.Sprintf("invalid JSON near byte %d", syntax.Offset))
	case errors.As(err, &typ):
		return invalid(ReasonInvalidValue, typ.Field, "has the wrong JSON type, expected "+typ.Type.String())
	case errors.As(err, &parse):
		return invalid(ReasonInvalidValue, "", "a timestamp is not RFC 3339 with a zone")
	default:
		return invalid(ReasonMalformed, "", "value is not valid JSON for this topic")
	}
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// Validate checks an inquiry against the contract.
func (in *Inquiry) Validate() error {
	if err := firstError(
		checkVersion(in.SchemaVersion),
		checkTenant("tenant_id", in.TenantID),
		checkID("inquiry_id", in.InquiryID),
		checkOneOf("media_type", in.MediaType, MediaPhone, MediaChat, MediaEmail, MediaETask, MediaSocial),
		checkTime("started_at", in.StartedAt),
		checkOptionalTime("ended_at", in.EndedAt),
		checkDuration("wait_seconds", in.WaitSeconds),
		checkDuration("talk_seconds", in.TalkSeconds),
	); err != nil {
		return err
	}
	if in.EndedAt != nil && in.EndedAt.Before(in.StartedAt) {
		return invalid(ReasonOutOfRange, "ended_at", "is before started_at")
	}
	if err := in.validateStrings(); err != nil {
		return err
	}
	if err := in.validateIVR(); err != nil {
		return err
	}
	return in.validateConsent()
}

func (in *Inquiry) validateStrings() error {
	return firstError(
		checkString("session_id", in.SessionID, MaxStringLen),
		checkString("queue", in.Queue, MaxStringLen),
		checkString("agent_id", in.AgentID, MaxStringLen),
		checkString("agent_name", in.AgentName, MaxStringLen),
		checkOptionalString("caller_number", in.CallerNumber),
		checkOptionalString("chatter_name", in.ChatterName),
		checkOptionalString("chatter_email", in.ChatterEmail),
		checkOptionalString("chatter_number", in.ChatterNumber),
		checkOptionalString("from_address", in.FromAddress),
		checkOptionalString("subject", in.Subject),
		checkOptionalString("item_url", in.ItemURL),
	)
}

func (in *Inquiry) validateIVR() error {
	if len(in.IVRInputs) > MaxIVRInputs {
		return invalid(ReasonTooLarge, "ivr_inputs", "has more entries than the contract allows")
	}
	for _, x := range in.IVRInputs {
		if x.Module == "" {
			return invalid(ReasonMissingField, "ivr_inputs.module", "is required")
		}
		if err := firstError(
			checkString("ivr_inputs.module", x.Module, MaxStringLen),
			checkOptionalString("ivr_inputs.digits", x.Digits),
		); err != nil {
			return err
		}
	}
	return nil
}

// validateConsent insists on an explicit answer where content could follow:
// a phone call must say whether the caller refused recording, a chat whether
// the chatter allowed storing the log. Missing consent is never guessed.
func (in *Inquiry) validateConsent() error {
	switch in.MediaType {
	case MediaPhone:
		if in.Recording == nil || in.Recording.DenyRecording == nil {
			return invalid(ReasonMissingConsent, "recording.deny_recording", "is required for phone inquiries")
		}
	case MediaChat:
		if in.ChatStoreConsent == nil {
			return invalid(ReasonMissingConsent, "chat_store_consent", "is required for chat inquiries")
		}
	}
	return nil
}

// normalise stores times in UTC.
func (in *Inquiry) normalise() {
	in.StartedAt = in.StartedAt.UTC()
	in.EndedAt = utcPtr(in.EndedAt)
}

// DropNeverStored forgets the fields of class Never (R-A1: the e-mail body
// and attachments, social media content, whatever the media type) and
// reports which of them held something.
func (in *Inquiry) DropNeverStored() (body, attachments bool) {
	body = present(in.Body)
	attachments = present(in.Attachments)
	in.Body, in.Attachments = nil, nil
	return body, attachments
}

func present(raw []byte) bool {
	raw = bytes.TrimSpace(raw)
	return len(raw) > 0 && !bytes.Equal(raw, []byte("null"))
}

// Validate checks a chat log against the contract.
func (c *ChatLog) Validate() error {
	if err := firstError(
		checkVersion(c.SchemaVersion),
		checkTenant("tenant_id", c.TenantID),
		checkID("inquiry_id", c.InquiryID),
		checkTime("inquiry_started_at", c.InquiryStartedAt),
	); err != nil {
		return err
	}
	if c.ChatStoreConsent == nil {
		return invalid(ReasonMissingConsent, "chat_store_consent", "is required")
	}
	if len(c.Messages) > MaxChatMessages {
		return invalid(ReasonTooLarge, "messages", "has more entries than the contract allows")
	}
	for _, m := range c.Messages {
		if err := firstError(
			checkTime("messages.at", m.At),
			checkOneOf("messages.from", m.From, FromChatter, FromAgent, FromSystem),
			checkString("messages.name", m.Name, MaxStringLen),
			checkString("messages.text", m.Text, MaxChatTextLen),
		); err != nil {
			return err
		}
	}
	return nil
}

// Validate checks a survey against the contract.
func (s *Survey) Validate() error {
	if err := firstError(
		checkVersion(s.SchemaVersion),
		checkTenant("tenant_id", s.TenantID),
		checkID("survey_id", s.SurveyID),
		checkOneOf("survey_type", s.SurveyType, SurveySMS, SurveyChat),
		checkID("inquiry_id", s.InquiryID),
		checkTime("inquiry_started_at", s.InquiryStartedAt),
		checkOptionalTime("answered_at", s.AnsweredAt),
		checkString("session_id", s.SessionID, MaxStringLen),
		checkOptionalString("respondent_number", s.RespondentNumber),
		checkOptionalString("respondent_email", s.RespondentEmail),
	); err != nil {
		return err
	}
	if s.Comment != nil {
		if err := checkString("comment", *s.Comment, MaxChatTextLen); err != nil {
			return err
		}
	}
	if s.Score == nil {
		return invalid(ReasonMissingField, "score", "is required")
	}
	if v := *s.Score; v < 0 || v > MaxSurveyScore || v != float64(int(v)) {
		return invalid(ReasonOutOfRange, "score", "must be an integer from 0 to 10")
	}
	return nil
}
