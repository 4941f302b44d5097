package schema

import "time"

// Actor kinds of an audit entry: a tenant's own administrator, or the
// operator's support staff acting on the tenant's content (R-U2).
const (
	ActorAdmin   = "admin"
	ActorSupport = "support"
)

// AuditRow is one audit entry (R-U1): who did what to which inquiry's
// content, and when. It never holds an identifier of the customer: only the
// inquiry id. Entries are appended as JSON lines (the json tags) to a log in
// LAKE/audit/tenant=<t>/date=<inquiry day>/ (so expiry drops them with the
// inquiry's general information); compaction seals those logs into one
// Parquet file of the same partition, whose rows are this type without the
// tenant (which is the partition folder there, as in every dataset).
// sinks.AppendAudit, sinks.ReadAuditPartition and sinks/seal_log.go hold the
// rules of both forms.
type AuditRow struct {
	Time      time.Time `json:"time" parquet:"time,timestamp(microsecond)" privacy:"plain"`
	Tenant    string    `json:"tenant" parquet:"-" privacy:"plain"`
	Actor     string    `json:"actor" parquet:"actor,dict" privacy:"plain"`
	ActorKind string    `json:"actor_kind" parquet:"actor_kind,dict" privacy:"plain"`
	Action    string    `json:"action" parquet:"action,dict" privacy:"plain"`
	InquiryID string    `json:"inquiry_id" parquet:"inquiry_id" privacy:"plain"`
	RequestID string    `json:"request_id" parquet:"request_id" privacy:"plain"`
}
