package schema

import "time"

// Dataset names: the top-level folders of the lake.
const (
	DatasetInquiries  = "inquiries"
	DatasetChatlogs   = "chatlogs"
	DatasetRecordings = "recordings"
	DatasetSurveys    = "surveys"
	DatasetAudit      = "audit"
)

// Meta are the columns every row carries about its own arrival: when arkiv
// wrote it and which Kafka record it came from. Duplicates sent by upstream
// collapse on them (latest _ingested_at wins).
type Meta struct {
	IngestedAt     time.Time `parquet:"_ingested_at,timestamp(microsecond)" privacy:"plain"`
	KafkaPartition int32     `parquet:"_kafka_partition" privacy:"plain"`
	KafkaOffset    int64     `parquet:"_kafka_offset" privacy:"plain"`
}

// InquiryRow is one row of LAKE/inquiries: the general information of an
// inquiry after privacy filtering. Tenant and date are not columns: they are
// the Hive partition folders.
type InquiryRow struct {
	InquiryID        string        `parquet:"inquiry_id" privacy:"plain"`
	SessionID        string        `parquet:"session_id" privacy:"plain"`
	MediaType        string        `parquet:"media_type,dict" privacy:"plain"`
	StartedAt        time.Time     `parquet:"started_at,timestamp(microsecond)" privacy:"plain"`
	EndedAt          *time.Time    `parquet:"ended_at,timestamp(microsecond)" privacy:"plain"`
	Queue            string        `parquet:"queue,dict" privacy:"plain"`
	AgentID          string        `parquet:"agent_id,dict" privacy:"plain"`
	AgentName        string        `parquet:"agent_name,dict" privacy:"plain"`
	WaitSeconds      *float64      `parquet:"wait_seconds,optional" privacy:"plain"`
	TalkSeconds      *float64      `parquet:"talk_seconds,optional" privacy:"plain"`
	CallerNumber     *string       `parquet:"caller_number,optional" privacy:"identifier"`
	ChatterName      *string       `parquet:"chatter_name,optional" privacy:"identifier"`
	ChatterEmail     *string       `parquet:"chatter_email,optional" privacy:"identifier"`
	ChatterNumber    *string       `parquet:"chatter_number,optional" privacy:"identifier"`
	FromAddress      *string       `parquet:"from_address,optional" privacy:"identifier"`
	Subject          *string       `parquet:"subject,optional" privacy:"identifier"`
	ItemURL          *string       `parquet:"item_url,optional" privacy:"plain"`
	IVRInputs        []IVRInputRow `parquet:"ivr_inputs,list" privacy:"plain"`
	RecordingForced  *bool         `parquet:"recording_forced,optional" privacy:"plain"`
	DenyRecording    *bool         `parquet:"deny_recording,optional" privacy:"plain"`
	ChatStoreConsent *bool         `parquet:"chat_store_consent,optional" privacy:"plain"`
	Anonymised       bool          `parquet:"anonymised" privacy:"plain"`
	Meta
}

// IVRInputRow is one IVR input as stored: Digits is null whenever the input
// was masked, by the record's flag or by the tenant's list.
type IVRInputRow struct {
	Module string  `parquet:"module" privacy:"plain"`
	Digits *string `parquet:"digits,optional" privacy:"masked"`
	Masked bool    `parquet:"masked" privacy:"plain"`
}

// ChatlogRow is one row of LAKE/chatlogs: a whole chat log of one inquiry.
type ChatlogRow struct {
	InquiryID        string           `parquet:"inquiry_id" privacy:"plain"`
	InquiryStartedAt time.Time        `parquet:"inquiry_started_at,timestamp(microsecond)" privacy:"plain"`
	Messages         []ChatMessageRow `parquet:"messages,list" privacy:"content"`
	Anonymised       bool             `parquet:"anonymised" privacy:"plain"`
	Meta
}

// ChatMessageRow is one chat message as stored.
type ChatMessageRow struct {
	At   time.Time `parquet:"at,timestamp(microsecond)" privacy:"plain"`
	From string    `parquet:"from,dict" privacy:"plain"`
	Name *string   `parquet:"name,optional" privacy:"identifier"`
	Text string    `parquet:"text" privacy:"content"`
}

// RecordingRow is one row of LAKE/recordings: the metadata of one recording
// whose bytes are the object LAKE/<Object>.
type RecordingRow struct {
	InquiryID        string    `parquet:"inquiry_id" privacy:"plain"`
	RecordingID      string    `parquet:"recording_id" privacy:"plain"`
	InquiryStartedAt time.Time `parquet:"inquiry_started_at,timestamp(microsecond)" privacy:"plain"`
	ContentType      string    `parquet:"content_type,dict" privacy:"plain"`
	SizeBytes        int64     `parquet:"size_bytes" privacy:"plain"`
	SHA256           string    `parquet:"sha256" privacy:"plain"`
	Chunks           int32     `parquet:"chunks" privacy:"plain"`
	Object           string    `parquet:"object" privacy:"plain"`
	Meta
}

// SurveyRow is one row of LAKE/surveys.
type SurveyRow struct {
	SurveyID         string     `parquet:"survey_id" privacy:"plain"`
	SurveyType       string     `parquet:"survey_type,dict" privacy:"plain"`
	SessionID        string     `parquet:"session_id" privacy:"plain"`
	InquiryID        string     `parquet:"inquiry_id" privacy:"plain"`
	InquiryStartedAt time.Time  `parquet:"inquiry_started_at,timestamp(microsecond)" privacy:"plain"`
	AnsweredAt       *time.Time `parquet:"answered_at,timestamp(microsecond)" privacy:"plain"`
	Score            int32      `parquet:"score" privacy:"plain"`
	Comment          *string    `parquet:"comment,optional" privacy:"content"`
	RespondentNumber *string    `parquet:"respondent_number,optional" privacy:"identifier"`
	RespondentEmail  *string    `parquet:"respondent_email,optional" privacy:"identifier"`
	Anonymised       bool       `parquet:"anonymised" privacy:"plain"`
	Meta
}

// Day is the partition day of a record: the UTC day of its inquiry's start,
// formatted as the lake's date= folder.
func Day(started time.Time) string { return started.UTC().Format(time.DateOnly) }
