package pipeline

import (
	"fmt"
	"time"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/schema"
	"github.com/arkiv-project/arkiv/sinks"
)

// inquiryRow turns a validated inquiry into its stored row, applying the
// privacy rules: masked IVR digits are dropped; the e-mail body and
// attachments were already dropped by the decoder and are only counted here.
func inquiryRow(in *schema.Inquiry, p config.Policy, m *Metrics) schema.InquiryRow {
	ivr, byFlag, byPolicy := maskIVR(in.IVRInputs, p)
	if byFlag > 0 { // most inquiries have none: no label lookup per record
		m.MaskedInputs.WithLabelValues("flag").Add(float64(byFlag))
	}
	if byPolicy > 0 {
		m.MaskedInputs.WithLabelValues("tenant_list").Add(float64(byPolicy))
	}
	row := schema.InquiryRow{
		InquiryID:        in.InquiryID,
		SessionID:        in.SessionID,
		MediaType:        in.MediaType,
		StartedAt:        in.StartedAt,
		EndedAt:          in.EndedAt,
		Queue:            in.Queue,
		AgentID:          in.AgentID,
		AgentName:        in.AgentName,
		WaitSeconds:      in.WaitSeconds,
		TalkSeconds:      in.TalkSeconds,
		CallerNumber:     in.CallerNumber,
		ChatterName:      in.ChatterName,
		ChatterEmail:     in.ChatterEmail,
		ChatterNumber:    in.ChatterNumber,
		FromAddress:      in.FromAddress,
		Subject:          in.Subject,
		ItemURL:          in.ItemURL,
		IVRInputs:        ivr,
		ChatStoreConsent: in.ChatStoreConsent,
	}
	if in.Recording != nil {
		row.RecordingForced = &in.Recording.Forced
		row.DenyRecording = in.Recording.DenyRecording
	}
	return row
}

// chatlogRow turns a consented chat log into its stored row.
func chatlogRow(c *schema.ChatLog) schema.ChatlogRow {
	msgs := make([]schema.ChatMessageRow, len(c.Messages))
	for i, m := range c.Messages {
		msgs[i] = schema.ChatMessageRow{At: m.At, From: m.From, Text: m.Text}
		if m.Name != "" {
			name := m.Name
			msgs[i].Name = &name
		}
	}
	return schema.ChatlogRow{InquiryID: c.InquiryID, InquiryStartedAt: c.InquiryStartedAt, Messages: msgs}
}

// surveyRow turns a validated survey into its stored row.
func surveyRow(s *schema.Survey) schema.SurveyRow {
	return schema.SurveyRow{
		SurveyID:         s.SurveyID,
		SurveyType:       s.SurveyType,
		SessionID:        s.SessionID,
		InquiryID:        s.InquiryID,
		InquiryStartedAt: s.InquiryStartedAt,
		AnsweredAt:       s.AnsweredAt,
		Score:            int32(*s.Score),
		Comment:          s.Comment,
		RespondentNumber: s.RespondentNumber,
		RespondentEmail:  s.RespondentEmail,
	}
}

// Late arrivals (R-G, issue 4 part 3): a record of a person who was
// anonymised is anonymised at ingest when one of its identifiers (numbers
// as received, e-mail addresses in any case) or its inquiry id is in the
// tenant's erasure ledger: every identifier field is nulled and the row
// marked anonymised.

func (d *decoder) erased(tenant string, ids ...*string) bool {
	if d.erasure == nil {
		return false
	}
	for _, v := range ids {
		if v != nil && d.erasure.Matches(tenant, *v) {
			return true
		}
	}
	return false
}

// contentDeleted reports whether content of an inquiry was deleted from
// the archive (sinks.Ledger.ContentDeleted), so a resend is not stored.
func (d *decoder) contentDeleted(tenant, kind, inquiryID string) bool {
	return d.erasure != nil && d.erasure.ContentDeleted(tenant, kind, inquiryID)
}

// eraseInquiry anonymises an inquiry of an erased person. One that only
// its identifiers give away (it arrived after the anonymisation, which
// never saw it) has its id added to the ledger, so that its chat log and
// survey, which carry no identifier but the chatter's name, are
// anonymised too when they arrive (in the same batch: batch.add; already
// flushed: the next compaction, which consults the ledger).
// It reports whether it added the id (the batch then re-anonymises that
// day's chat logs and surveys already in the lake once it is committed).
func (d *decoder) eraseInquiry(row *schema.InquiryRow, tenant string) (bool, error) {
	if d.erasure == nil {
		return false, nil
	}
	known := d.erasure.MatchesInquiry(tenant, row.InquiryID)
	if !known && !d.erased(tenant, row.CallerNumber, row.ChatterNumber, row.ChatterEmail, row.FromAddress) {
		return false, nil
	}
	sinks.AnonymiseRow(row, false)
	if known {
		return false, nil
	}
	h, err := d.erasure.Hash(tenant, sinks.ErasureInquiry, row.InquiryID, false)
	if err == nil {
		err = d.erasure.Append(tenant, []sinks.LedgerEntry{{Kind: sinks.ErasureInquiry, Hash: h,
			Receipt: "ingest", At: time.Now().UTC().Truncate(time.Millisecond)}})
	}
	if err != nil {
		return false, fmt.Errorf("erasure ledger: remember a late inquiry of an erased person: %w", err)
	}
	return true, nil
}

func (d *decoder) eraseSurvey(row *schema.SurveyRow, tenant string) {
	if d.erased(tenant, row.RespondentNumber, row.RespondentEmail) ||
		(d.erasure != nil && d.erasure.MatchesInquiry(tenant, row.InquiryID)) {
		sinks.AnonymiseRow(row, false)
	}
}

func (d *decoder) eraseChatlog(row *schema.ChatlogRow, tenant string) {
	if d.erasure != nil && d.erasure.MatchesInquiry(tenant, row.InquiryID) {
		sinks.AnonymiseRow(row, false)
	}
}
