package schema

import (
	"bytes"
	"strconv"

	"errors"
	"fmt"
	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
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

// decodeJSON decodes one JSON object in a single pass with the JSON v2
// semantics the contract needs: member names match exactly (encoding/json
// would let "TENANT_ID" override "tenant_id"), duplicate names and trailing
// data are errors, strings must be valid UTF-8, timestamps strict RFC 3339.
// Unknown members are ignored. Its errors say where and what kind of
// problem, never the text that was there.
func decodeJSON(data []byte, v any) error {
	data = bytes.Trim(data, jsonSpace)
	if len(data) == 0 || data[0] != '{' {
		return invalid(ReasonMalformed, "", "value is not a JSON object")
	}
	if err := json.Unmarshal(data, v); err != nil {
		return describeJSONError(err)
	}
	return nil
}

// jsonSpace is the white space JSON allows around a value (RFC 8259).
const jsonSpace = " \t\r\n"

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

// describeJSONError turns a decoding error into an InvalidError that names
// the field (from the error's JSON pointer) but never the value.
func describeJSONError(err error) error {
	var syntax *jsontext.SyntacticError
	var semantic *json.SemanticError
	switch {
	case errors.As(err, &syntax):
		return invalid(ReasonMalformed, "", fmt.Sprintf("invalid JSON near byte %d", syntax.ByteOffset))
	case errors.As(err, &semantic):
		field := fieldOf(semantic.JSONPointer)
		if semantic.GoType == reflect.TypeFor[time.Time]() {
			return invalid(ReasonInvalidValue, field, "is not an RFC 3339 timestamp with a zone")
		}
		if semantic.GoType != nil {
			return invalid(ReasonInvalidValue, field, "has the wrong JSON type, expected "+describeGoType(semantic.GoType))
		}
		return invalid(ReasonInvalidValue, field, "is not valid for this field")
	default:
		return invalid(ReasonMalformed, "", "value is not valid JSON for this topic")
	}
}

// fieldOf turns a JSON pointer like /ivr_inputs/0/digits into the
// contract's dotted field name ivr_inputs.digits.
func fieldOf(p jsontext.Pointer) string {
	var parts []string
	for tok := range p.Tokens() {
		if _, err := strconv.Atoi(tok); err == nil {
			continue
		}
		parts = append(parts, tok)
	}
	return strings.Join(parts, ".")
}

func describeGoType(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "boolean"
	case reflect.Int, reflect.Int64, reflect.Float64:
		return "number"
	case reflect.Slice:
		return "array"
	case reflect.Struct:
		return "object"
	}
	return t.String()
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
