package loadgen

import (
	"slices"
	"time"

	"github.com/arkiv-project/arkiv/schema"
)

// Truth is what a correct archive must contain after consuming every
// message, and what it must never contain. Lists are in generation order.
type Truth struct {
	// Tenants holds every tenant t0001 ... by id, also those that got no
	// traffic.
	Tenants map[string]*TenantTruth
	// Invalid counts the deliberately invalid records, by the reason arkiv
	// must dead-letter them with. Each is one message, none is archived.
	Invalid map[schema.Reason]int
	// Secrets must never be stored anywhere: not in the lake, the
	// dead-letter topic, logs or metrics. Every value is unique to one
	// record and long enough to search for.
	Secrets []Secret
	// Messages counts the messages generated per topic, valid and invalid.
	Messages map[string]int
}

// TenantTruth is what must be archived for one tenant. Ids are inquiry ids
// unless named otherwise; an inquiry's partition day is Day(id).
type TenantTruth struct {
	// Inquiries must each have exactly one general-information row.
	Inquiries []string
	// Media counts Inquiries by media type; Days by partition day.
	Media map[string]int
	Days  map[string]int
	// ChatlogsStored must be stored; ChatlogsRefused (chat_store_consent
	// false) must not, though their inquiries are.
	ChatlogsStored  []string
	ChatlogsRefused []string
	// RecordingsStored must be stored, byte for byte; RecordingsRefused
	// (deny-recording true) must be discarded unseen. Empty when
	// Options.Recordings is false.
	RecordingsStored  []Recording
	RecordingsRefused []Recording
	// Surveys are the survey ids that must each have one row.
	Surveys []string
}

// Recording is one recording sent upstream.
type Recording struct {
	InquiryID   string
	RecordingID string
	SHA256      string // hex, lower case, of the whole recording
	Size        int64  // bytes
	Chunks      int
	SentSHA256  bool // whether the last chunk carried the sha256 header
}

// SecretKind says where a secret was sent.
type SecretKind string

// The kinds of secrets.
const (
	// SecretMaskedIVR is the digits of an IVR input sent with masked=true.
	SecretMaskedIVR SecretKind = "masked_ivr"
	// SecretConfigMaskedIVR is the digits of an IVR input sent with
	// masked=false in a module the tenant configuration masks
	// (ConfigMaskedModules).
	SecretConfigMaskedIVR SecretKind = "config_masked_ivr"
	// SecretBody is a token in an e-mail or e-task body.
	SecretBody SecretKind = "body"
	// SecretAttachment is an attachment's file-name token or its base64
	// content as sent.
	SecretAttachment SecretKind = "attachment"
	// SecretSocialBody is a token in a social media post.
	SecretSocialBody SecretKind = "social_body"
	// SecretRefusedChat is a token in a chat log whose chatter refused
	// storing it.
	SecretRefusedChat SecretKind = "refused_chat"
)

// Secret is one string that must never be stored, and where it was sent.
// Tenant is the tenant the record named, which is not a valid tenant id for
// some invalid records.
type Secret struct {
	Kind      SecretKind
	Tenant    string
	InquiryID string
	Value     string
}

func newTruth() *Truth {
	return &Truth{
		Tenants:  map[string]*TenantTruth{},
		Invalid:  map[schema.Reason]int{},
		Messages: map[string]int{},
	}
}

func newTenantTruth() *TenantTruth {
	return &TenantTruth{Media: map[string]int{}, Days: map[string]int{}}
}

func (t *TenantTruth) addInquiry(id, media string, started time.Time) {
	t.Inquiries = append(t.Inquiries, id)
	t.Media[media]++
	t.Days[schema.Day(started)]++
}

func (t *Truth) addSecret(kind SecretKind, tenant, inquiry, value string) {
	t.Secrets = append(t.Secrets, Secret{Kind: kind, Tenant: tenant, InquiryID: inquiry, Value: value})
}

// TenantIDs lists the tenants in order.
func (t *Truth) TenantIDs() []string {
	ids := make([]string, 0, len(t.Tenants))
	for id := range t.Tenants {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// InquiryCount is the number of inquiries of all tenants.
func (t *Truth) InquiryCount() int {
	n := 0
	for _, tt := range t.Tenants {
		n += len(tt.Inquiries)
	}
	return n
}

// InvalidCount is the number of invalid records of all reasons.
func (t *Truth) InvalidCount() int {
	n := 0
	for _, c := range t.Invalid {
		n += c
	}
	return n
}

// MessageCount is the number of messages of all topics.
func (t *Truth) MessageCount() int {
	n := 0
	for _, c := range t.Messages {
		n += c
	}
	return n
}
