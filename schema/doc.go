// Package schema is the record contract between upstream platforms and arkiv,
// and the shape of what arkiv stores.
//
// It owns the Go types of the four input topics (inquiries, chat logs,
// recordings, surveys), their decoding and validation, the privacy class of
// every field (Class, ClassOf), and the Parquet row types written to the lake.
// The JSON Schema files in this folder are the machine-readable form of the
// same contract; the tests check that both accept and reject the same
// examples (testdata/contract).
//
// The package is a leaf: it imports only the standard library and
// parquet-go's struct tags.
package schema
