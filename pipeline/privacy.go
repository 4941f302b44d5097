package pipeline

import (
	"bytes"
	"encoding/json"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/schema"
)

// maskIVR returns the IVR inputs as stored: digits are dropped when the
// record flags the input as masked or the tenant's policy masks its module
// (two independent guards, R-P1). It reports how many inputs each guard
// masked; an input masked by both counts once, as flagged.
func maskIVR(in []schema.IVRInput, p config.Policy) (out []schema.IVRInputRow, byFlag, byPolicy int) {
	if len(in) == 0 {
		return nil, 0, 0
	}
	out = make([]schema.IVRInputRow, len(in))
	for i, x := range in {
		row := schema.IVRInputRow{Module: x.Module, Masked: x.Masked}
		switch {
		case x.Masked:
			byFlag++
		case p.Masks(x.Module):
			row.Masked = true
			byPolicy++
		default:
			row.Digits = x.Digits
		}
		out[i] = row
	}
	return out, byFlag, byPolicy
}

// Redaction of dead-lettered values. A value that parses as JSON has every
// field of class Never removed and every Masked field nulled unless the
// record says plainly (masked: false) that it is not masked and the tenant's
// list does not mask the module. Chat logs also lose their messages unless
// the chatter explicitly consented: a record we could not understand is no
// reason to keep what the chatter may have refused. A value that does not
// parse is withheld when it might hold such fields, since it cannot be
// masked field by field.

// redactedMarker is the arkiv-redacted header value of a withheld value.
const redactedWithheld = "withheld"

func redactJSON(topicKind string, value []byte, policyOf func(tenant string) config.Policy) (out []byte, withheld bool) {
	var doc map[string]any
	dec := json.NewDecoder(bytes.NewReader(value))
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil || dec.More() {
		if mightHoldSecrets(value) {
			return nil, true
		}
		return value, false
	}
	p := config.Policy{}
	if t, ok := doc["tenant_id"].(string); ok && schema.ValidTenantID(t) {
		p = policyOf(t)
	}
	for _, f := range schema.FieldsOfClass(schema.Inquiry{}, schema.Never) {
		delete(doc, f)
	}
	redactIVR(doc, p)
	if topicKind == schema.DatasetChatlogs {
		if consent, ok := doc["chat_store_consent"].(bool); !ok || !consent {
			delete(doc, "messages")
		}
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, true
	}
	return b, false
}

func redactIVR(doc map[string]any, p config.Policy) {
	inputs, ok := doc["ivr_inputs"].([]any)
	if !ok {
		if _, present := doc["ivr_inputs"]; present {
			delete(doc, "ivr_inputs") // not a list: cannot tell masked from not
		}
		return
	}
	for _, x := range inputs {
		in, ok := x.(map[string]any)
		if !ok {
			continue
		}
		masked, isBool := in["masked"].(bool)
		module, _ := in["module"].(string)
		if !isBool || masked || p.Masks(module) {
			delete(in, "digits")
		}
	}
}

// mightHoldSecrets is the conservative test for values that are not JSON.
func mightHoldSecrets(value []byte) bool {
	for _, k := range []string{"digits", "body", "attachments", "messages", "ivr"} {
		if bytes.Contains(value, []byte(k)) {
			return true
		}
	}
	return false
}
