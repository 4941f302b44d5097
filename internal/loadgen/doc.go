// Package loadgen generates deterministic, realistic synthetic upstream
// traffic for arkiv: the Kafka records of the four input topics
// (CONTRACT.md), independent of any Kafka client, together with a Truth of
// what a correct archive must then contain.
//
// The same Options (Seed included) always give the same messages, byte for
// byte. Messages are made lazily, a few inquiries at a time, so a backfill of
// millions of inquiries costs no more memory than the Truth's ids.
//
// # Shares
//
// The shares below are expectations; the tests hold the generator to them
// within statistical tolerance over 20k inquiries.
//
//   - Media types: phone 55%, chat 25%, email 12%, etask 5%, social 3%.
//   - Phone: 60% forced recording (R-P2), of which 10% denied
//     (deny_recording true); denied calls still get their recording chunks
//     with deny-recording: true, which arkiv must discard. 25% of the calls
//     without forced recording are recorded by the agent (not denied). 4% of
//     calls are abandoned in the queue: no agent, no talk time, no recording,
//     no survey. 6% of recorded calls have two recordings (rec-1, rec-2).
//     3% of callers withhold their number (caller_number null).
//   - IVR (phone): 80% main_menu (one digit, not masked); 35% enter_pnr with
//     masked=true and a 12-digit personal identity number (YYYYMMDDNNNN)
//     unique per record; 8% enter_card with masked=false in the record and a
//     16-digit card number unique per record. enter_card is masked by tenant
//     configuration (R-P1, defence in depth): a test configuration must say
//     masked_ivr_modules: [enter_card] under tenants.defaults
//     (ConfigMaskedModules). Forced calls also carry recording_consent
//     ("1" accepted, "2" denied; 30% of denials have no input at all).
//   - Chat: 15% refuse storing (chat_store_consent false); the chat log is
//     still sent, with false, and one of its lines holds a secret. 90% give
//     a name (often with Swedish letters), 70% an e-mail address, 30% a
//     number.
//   - E-mail and e-task: 50% carry a body (holding a secret token); half of
//     those also carry 1-3 attachments (secret file names and contents).
//   - Social: from_address is the sender's handle (@...), item_url the post,
//     and every record carries a body holding a secret token.
//   - Surveys: 30% of phone inquiries (sms; none for abandoned calls) and
//     30% of chat inquiries (chat), score 0-10 skewed high, 40% with a
//     comment.
//   - People call again: callers and chatters come from a per-tenant pool of
//     about a third as many people as the tenant has inquiries, skewed so
//     some people appear often. Numbers are Swedish mobiles (+4670xxxxxxx);
//     20% of e-mail addresses are sent in mixed or upper case.
//   - Tenants t0001, t0002 ... get traffic in proportion to 1/sqrt(n).
//   - Times: started_at follows a day curve (busy 07-16 UTC) across
//     [Start, End) and never decreases from one inquiry to the next; 20%
//     have milliseconds. Each timestamp is written in UTC (Z) or, 15% of the
//     time, with a +01:00 offset; the instant is the same.
//   - Order: each inquiry's messages (inquiry, content, survey) come
//     together, interleaved with those of up to 7 neighbouring inquiries; in
//     25% the content (recording chunks, chat log) comes before the inquiry
//     record, in 5% the survey does. Chunks of a recording are always in
//     order.
//   - 10% of JSON records carry an unknown field (x_upstream) that arkiv
//     must ignore.
//   - Recordings: valid silent MP3 (package mp3: an empty ID3v2.4 tag, then
//     32 kbit/s MPEG-1 Layer III frames whose unread filler is pseudo-random);
//     sizes are RecordingBytes times a log-normal factor (0.2x-4x, median
//     1x) in whole frames, cut into ChunkBytes chunks; 90% carry sha256 on
//     the last chunk.
//   - Invalid records: with BadShare > 0 each message is, with that
//     probability, an extra invalid record instead of the next valid one, so
//     BadShare is their share of all messages. They are drawn evenly from
//     the kinds in invalid.go (malformed JSON, missing consent, bad tenant,
//     bad id, unknown value, out of range, unknown schema version, checksum
//     mismatch), and some carry secrets arkiv must mask even in the
//     dead-letter topic.
//
// # Ids
//
// Keys are "<tenant_id>/<inquiry_id>" on every topic. Inquiry ids look like
// c-20261128-000123: the date is the UTC day of started_at, which is the
// partition day of the inquiry and all its content (Day), and the counter
// makes the id unique within the tenant. Invalid records use x- ids, so they
// never collide with an inquiry. Survey ids are s-000123 per tenant,
// recording ids rec-1, rec-2 per inquiry.
package loadgen
