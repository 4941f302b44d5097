package schema

import ("testing"; "fmt")

func TestZZScratch(t *testing.T) {
	base := `"schema_version":1,"tenant_id":"acme","inquiry_id":"c1","media_type":"email","started_at":"2026-11-28T09:14:03Z"`
	for _, s := range []string{
		`{` + base + `}}`,
		`{` + base + `}]`,
		"\f{" + base + `}`,
		"\u00a0{" + base + `}`,
		`{` + base + `,"TENANT_ID":"zzz"}`,
		`{"schema_version":1,"TENANT_ID":"acme","inquiry_id":"c1","media_type":"email","started_at":"2026-11-28T09:14:03Z"}`,
		`{"schema_version":1.0,"tenant_id":"acme","inquiry_id":"c1","media_type":"email","started_at":"2026-11-28T09:14:03Z"}`,
		`{"schema_version":1,"tenant_id":"acme","inquiry_id":"c1","media_type":"email","started_at":12345}`,
		`{"schema_version":1,"tenant_id":"acme","inquiry_id":"c1","media_type":"email","started_at":"2026-11-28t09:14:03z"}`,
		`{"schema_version":1,"tenant_id":"acme","inquiry_id":"c1","media_type":"email","started_at":"2026-11-28T9:14:03Z"}`,
		`{"schema_version":1,"tenant_id":"acme","inquiry_id":"c1","media_type":"email","started_at":"2026-11-28T09:14:03"}`,
		`{"schema_version":1,"tenant_id":"acme","inquiry_id":"c1","media_type":"email","started_at":"2026-11-28T09:14:03,5Z"}`,
		`{"schema_version":1,"tenant_id":"acme","inquiry_id":"c1","media_type":"email","started_at":"2026-11-28T09:14:03+24:00"}`,
		`{"schema_version":1,"tenant_id":"acme","inquiry_id":"c1","media_type":"email","started_at":"2026-11-28T23:59:60Z"}`,
		`{"schema_version":1,"tenant_id":"acme","inquiry_id":"c1","media_type":"email","started_at":"2026-11-28T09:14:03Z","ivr_inputs":[{"module":"m","digits":123}]}`,
		`{"schema_version":1,"tenant_id":"acme","inquiry_id":"c1","media_type":"email","started_at":"2026-11-28T09:14:03Z","wait_seconds":1e400}`,
	} {
		in, err := DecodeInquiry([]byte(s))
		if in != nil { fmt.Printf("OK tenant=%q started=%v\n", in.TenantID, in.StartedAt) } else { fmt.Printf("ERR %v\n", err) }
	}
}
