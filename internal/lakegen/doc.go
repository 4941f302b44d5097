// Package lakegen generates a realistic lake straight into sinks/, without
// Kafka: the Parquet files and media objects that ingest (and retention
// expiry) would have left after D days of traffic of T tenants, for
// benchmarks and load tests at sizes (10M inquiries) that a replay through
// Kafka cannot reach in minutes.
//
// # Layout
//
// Exactly as ingest writes it: one Parquet file per dataset, tenant, day and
// flush (sinks.PartitionDir, named <flush-id>.parquet), written with
// sinks.WriteParquet after the sort ingest applies (sinks.SortInquiries,
// sinks.SortByInquiryID), published through sinks.Lake, plus one media
// object per recording (sinks.MediaObject). With Flushes = 1 (the default)
// each partition holds one file, as after compaction or a backfill; more
// flushes split a day's rows by time of day into that many files, as live
// ingest leaves them before compaction.
//
// Retention is honoured: with the tenant policies of the configuration
// (defaults: general 180 days, recordings 14, chat logs 30) recording rows,
// media objects and chat logs exist only for the last N days of their
// class, as if `arkiv expire` had run at Now. Each class holds exactly its
// retention's number of days (or fewer when Days is smaller), so an expiry
// two days after Now drops exactly one day of each class.
//
// # Determinism
//
// The same Options (Seed and Now included) give the same rows, file names
// and bytes, whatever the number of workers: every tenant-day draws from
// its own random stream, seeded by (Seed, tenant, day).
//
// # Shares (as internal/loadgen)
//
//   - Tenants t0001, t0002 ... get inquiries in proportion to 1/sqrt(n);
//     days weigh 1 on weekdays, 0.45 on Saturdays, 0.35 on Sundays; times
//     follow a day curve (busy 07-16 UTC).
//   - Media types: phone 55%, chat 25%, email 12%, etask 5%, social 3%.
//   - Phone: 3% withheld numbers; 60% forced recording, 10% of those
//     denied; 25% of the others recorded by the agent; 4% abandoned (no
//     agent, no recording, no survey); 6% of recorded calls have two
//     recordings. IVR: 80% main_menu, 35% enter_pnr (masked), 8% enter_card
//     (masked by tenant configuration), recording_consent on forced calls.
//   - Chat: 90% give a name, 70% an e-mail address (20% of addresses in
//     mixed or upper case), 30% a number; 15% refuse storing the chat log.
//     A log has 4-15 messages.
//   - E-mail and e-task: from-address, subject and item URL. Social: the
//     sender's handle and the post's URL.
//   - Surveys: 30% of answered calls (sms, respondent number) and of chats
//     (chat, respondent e-mail); scores skewed high; 40% with a comment.
//   - People call again: callers come from a per-tenant pool of a third as
//     many people as the tenant has inquiries, skewed so some come often.
//     Numbers are Swedish mobiles of every prefix (070, 072, 073, 076, 079).
//
// # Planted people
//
// Each tenant gets one planted person with exactly 20 inquiries spread
// over the Days (the last ones recent enough to have a recording and chat
// logs): 9 calls, 6 chats and 5 e-mails, 7 of them with a survey. Their
// number (a mobile number like anyone's, from a reserved set never drawn
// for anyone else, so no file statistic singles it out) is on the calls
// and chats, their e-mail address (on the chats and e-mails, in varying
// case) too; so a number search finds 15 of them, an e-mail search 11, and
// the two together all 20. Summary.Planted lists them with the files that
// hold their rows.
package lakegen
