// Package laketest has helpers for tests of lakes: a Builder that writes
// lakes as ingest lays them out, and for looking at a lake's bytes a scan
// of every file for secrets (Parquet files decoded value by value, since
// their pages are compressed and a raw grep proves nothing), and a check
// that no temporary debris is left.
package laketest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/parquet-go/parquet-go"
)

// Finding is one secret found in one file.
type Finding struct {
	File   string
	Secret string
}

func (f Finding) String() string { return fmt.Sprintf("%q found in %s", f.Secret, f.File) }

// ScanForSecrets reads every file below root and reports each secret it
// finds. Parquet files are decoded: every value of every row and the footer
// metadata are searched as text; other files are searched as raw bytes.
func ScanForSecrets(root string, secrets []string) ([]Finding, error) {
	var found []Finding
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		text, err := fileText(path)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for _, s := range secrets {
			if s != "" && bytes.Contains(text, []byte(s)) {
				found = append(found, Finding{File: path, Secret: s})
			}
		}
		return nil
	})
	return found, err
}

// ScanBytes reports which secrets occur in b (for logs and captured output).
func ScanBytes(name string, b []byte, secrets []string) []Finding {
	var found []Finding
	for _, s := range secrets {
		if s != "" && bytes.Contains(b, []byte(s)) {
			found = append(found, Finding{File: name, Secret: s})
		}
	}
	return found
}

func fileText(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if !strings.HasSuffix(path, ".parquet") {
		return raw, nil
	}
	decoded, err := ParquetText(raw)
	if err != nil {
		return nil, err
	}
	// Keep the raw bytes too: a secret in plain (uncompressed) pages, in the
	// footer or anywhere else must be found as well.
	return append(decoded, raw...), nil
}

// ParquetText decodes a Parquet file into the text of all its values.
func ParquetText(raw []byte) ([]byte, error) {
	f, err := parquet.OpenFile(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return nil, fmt.Errorf("open parquet: %w", err)
	}
	var out bytes.Buffer
	for _, kv := range f.Metadata().KeyValueMetadata {
		fmt.Fprintf(&out, "%s=%s\n", kv.Key, kv.Value)
	}
	for _, rg := range f.RowGroups() {
		if err := rowGroupText(&out, rg); err != nil {
			return nil, err
		}
	}
	return out.Bytes(), nil
}

func rowGroupText(out *bytes.Buffer, rg parquet.RowGroup) error {
	rows := rg.Rows()
	defer rows.Close()
	buf := make([]parquet.Row, 256)
	for {
		n, err := rows.ReadRows(buf)
		for _, row := range buf[:n] {
			for _, v := range row {
				out.WriteString(v.String())
				out.WriteByte('\n')
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
		if n == 0 {
			return nil
		}
	}
}

// Debris lists files that a finished operation must not leave behind:
// anything under _arkiv/tmp, and unfinished flush journals.
func Debris(root string) ([]string, error) {
	var out []string
	for _, dir := range []string{"_arkiv/tmp", "_arkiv/flushes"} {
		entries, err := os.ReadDir(filepath.Join(root, dir))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return nil, err
		}
		for _, e := range entries {
			out = append(out, filepath.Join(dir, e.Name()))
		}
	}
	return out, nil
}

// ReadRows reads every row of every Parquet file of a dataset below root
// (all tenants and days) into T.
func ReadRows[T any](root, dataset string) ([]T, error) {
	var all []T
	err := filepath.WalkDir(filepath.Join(root, dataset), func(path string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) {
			return filepath.SkipDir
		}
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".parquet") {
			return err
		}
		rows, err := parquet.ReadFile[T](path)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		all = append(all, rows...)
		return nil
	})
	return all, err
}

// ReadTenantRows reads a dataset's rows grouped by the tenant of their
// folder.
func ReadTenantRows[T any](root, dataset string) (map[string][]T, error) {
	out := map[string][]T{}
	base := filepath.Join(root, dataset)
	tenants, err := os.ReadDir(base)
	if os.IsNotExist(err) {
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for _, t := range tenants {
		name, ok := strings.CutPrefix(t.Name(), "tenant=")
		if !ok {
			continue
		}
		rows, err := ReadRows[T](base, t.Name())
		if err != nil {
			return nil, err
		}
		out[name] = append(out[name], rows...)
	}
	return out, nil
}
