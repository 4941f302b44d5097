// Package sinks owns the lake: its layout on disk, atomic publication of
// every file, the Parquet writers, the per-partition checkpoints and the
// flush journal that make ingest exactly-once, and the recording spool.
//
// Layout (docs/lake-format.md has the full description):
//
//	LAKE/<dataset>/tenant=<t>/date=<YYYY-MM-DD>/<flush-id>.parquet
//	LAKE/media/tenant=<t>/date=<d>/<inquiry>-<recording>.mp3
//	LAKE/_arkiv/checkpoints/<topic>/<partition>.json   commit point per topic-partition
//	LAKE/_arkiv/flushes/<flush-id>.json                flush journal (pending or committed)
//	LAKE/_arkiv/spool/<topic>/<partition>/<stream>/    chunks of recordings being assembled
//	LAKE/_arkiv/tmp/<process>/[p-<id>/]                files being written; swept when the process is dead
//
// Nothing writes into the lake except through Lake.Publish (tmp, write,
// fsync, rename, fsync the directory), so a reader never sees a partial file.
// sinks knows nothing of Kafka clients: topics and partitions are plain
// values here.
package sinks
