package schema

import (
	"github.com/go-json-experiment/json/jsontext"
	"time"
)

// Version is the schema_version this build of arkiv understands.
const Version = 1

// Media types of an inquiry.
const (
	MediaPhone  = "phone"
	MediaChat   = "chat"
	MediaEmail  = "email"
	MediaETask  = "etask"
	MediaSocial = "social"
)

// Chat message senders.
const (
	FromChatter = "chatter"
	FromAgent   = "agent"
	FromSystem  = "system"
)

// Survey types.
const (
	SurveySMS  = "sms"
	SurveyChat = "chat"
)

// Inquiry is one record of the arkiv.inquiries topic: the general
// information of one finished inquiry, as upstream sends it.
//
// Body and Attachments exist only so that decoding can notice them; they are
// never copied anywhere (see Class). IVR digits are masked by the pipeline
// before an Inquiry becomes a row.
type Inquiry struct {
	SchemaVersion    int               `json:"schema_version" privacy:"plain"`
	TenantID         string            `json:"tenant_id" privacy:"plain"`
	InquiryID        string            `json:"inquiry_id" privacy:"plain"`
	SessionID        string            `json:"session_id" privacy:"plain"`
	MediaType        string            `json:"media_type" privacy:"plain"`
	StartedAt        time.Time         `json:"started_at" privacy:"plain"`
	EndedAt          *time.Time        `json:"ended_at" privacy:"plain"`
	Queue            string            `json:"queue" privacy:"plain"`
	AgentID          string            `json:"agent_id" privacy:"plain"`
	AgentName        string            `json:"agent_name" privacy:"plain"`
	WaitSeconds      *float64          `json:"wait_seconds" privacy:"plain"`
	TalkSeconds      *float64          `json:"talk_seconds" privacy:"plain"`
	CallerNumber     *string           `json:"caller_number" privacy:"identifier"`
	ChatterName      *string           `json:"chatter_name" privacy:"identifier"`
	ChatterEmail     *string           `json:"chatter_email" privacy:"identifier"`
	ChatterNumber    *string           `json:"chatter_number" privacy:"identifier"`
	FromAddress      *string           `json:"from_address" privacy:"identifier"`
	Subject          *string           `json:"subject" privacy:"identifier"`
	ItemURL          *string           `json:"item_url" privacy:"plain"`
	Body             jsontext.Value    `json:"body" privacy:"never"`
	Attachments      jsontext.Value    `json:"attachments" privacy:"never"`
	IVRInputs        []IVRInput        `json:"ivr_inputs" privacy:"plain"`
	Recording        *RecordingConsent `json:"recording" privacy:"plain"`
	ChatStoreConsent *bool             `json:"chat_store_consent" privacy:"plain"`
}

// IVRInput is what a caller keyed into one IVR menu module.
type IVRInput struct {
	Module string  `json:"module" privacy:"plain"`
	Digits *string `json:"digits" privacy:"masked"`
	Masked bool    `json:"masked" privacy:"plain"`
}

// RecordingConsent says whether a call was recorded by force and whether the
// caller refused (the IVR system variable deny_recording).
type RecordingConsent struct {
	Forced        bool  `json:"forced" privacy:"plain"`
	DenyRecording *bool `json:"deny_recording" privacy:"plain"`
}

// ChatLog is one record of the arkiv.chatlogs topic.
type ChatLog struct {
	SchemaVersion    int           `json:"schema_version" privacy:"plain"`
	TenantID         string        `json:"tenant_id" privacy:"plain"`
	InquiryID        string        `json:"inquiry_id" privacy:"plain"`
	InquiryStartedAt time.Time     `json:"inquiry_started_at" privacy:"plain"`
	ChatStoreConsent *bool         `json:"chat_store_consent" privacy:"plain"`
	Messages         []ChatMessage `json:"messages" privacy:"content"`
}

// ChatMessage is one line of a chat.
type ChatMessage struct {
	At   time.Time `json:"at" privacy:"plain"`
	From string    `json:"from" privacy:"plain"`
	Name string    `json:"name" privacy:"identifier"`
	Text string    `json:"text" privacy:"content"`
}

// Survey is one record of the arkiv.surveys topic.
type Survey struct {
	SchemaVersion    int        `json:"schema_version" privacy:"plain"`
	TenantID         string     `json:"tenant_id" privacy:"plain"`
	SurveyID         string     `json:"survey_id" privacy:"plain"`
	SurveyType       string     `json:"survey_type" privacy:"plain"`
	SessionID        string     `json:"session_id" privacy:"plain"`
	InquiryID        string     `json:"inquiry_id" privacy:"plain"`
	InquiryStartedAt time.Time  `json:"inquiry_started_at" privacy:"plain"`
	AnsweredAt       *time.Time `json:"answered_at" privacy:"plain"`
	Score            *float64   `json:"score" privacy:"plain"`
	Comment          *string    `json:"comment" privacy:"content"`
	RespondentNumber *string    `json:"respondent_number" privacy:"identifier"`
	RespondentEmail  *string    `json:"respondent_email" privacy:"identifier"`
}

// RecordingChunk is one message of the arkiv.recordings topic: a piece of an
// mp3 recording with its metadata from the Kafka headers.
type RecordingChunk struct {
	TenantID         string
	InquiryID        string
	RecordingID      string
	InquiryStartedAt time.Time
	DenyRecording    bool
	ContentType      string
	Chunk            int
	LastChunk        bool
	SHA256           string // hex, lower case; only on the last chunk, optional
	Data             []byte
}
