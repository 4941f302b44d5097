// Package config is arkiv's configuration file: tenants and their policies
// (retention, masked IVR modules, phone region), topic names and ingest
// tuning. It is decoded strictly (unknown keys are errors) and validated with
// messages that name the bad key.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/arkiv-project/arkiv/schema"
)

// DefaultsKey is the entry under tenants: whose values every tenant gets.
const DefaultsKey = "defaults"

// Config is the whole configuration file.
type Config struct {
	Tenants map[string]TenantConfig `yaml:"tenants"`
	Topics  Topics                  `yaml:"topics"`
	Ingest  Ingest                  `yaml:"ingest"`
	Tokens  []Token                 `yaml:"tokens"`
}

// TenantConfig is one tenant's entry, or the defaults. Unset fields (nil)
// fall back to the defaults.
type TenantConfig struct {
	Retention        RetentionConfig `yaml:"retention"`
	MaskedIVRModules []string        `yaml:"masked_ivr_modules"`
	PhoneRegion      string          `yaml:"phone_region"`
}

// RetentionConfig says how long each class of data is kept.
type RetentionConfig struct {
	General    *Days `yaml:"general"`
	Recordings *Days `yaml:"recordings"`
	Chatlogs   *Days `yaml:"chatlogs"`
}

// Topics names the Kafka topics.
type Topics struct {
	Inquiries  string `yaml:"inquiries"`
	Chatlogs   string `yaml:"chatlogs"`
	Recordings string `yaml:"recordings"`
	Surveys    string `yaml:"surveys"`
	Deadletter string `yaml:"deadletter"`
}

// Ingest tunes batching.
type Ingest struct {
	// FlushRows flushes a batch when it holds this many rows.
	FlushRows int `yaml:"flush_rows"`
	// FlushBytes flushes a batch when its input values add up to this size.
	FlushBytes int64 `yaml:"flush_bytes"`
	// FlushInterval flushes a batch at least this often while data flows
	// and ingest is caught up; while it works through a backlog (a
	// backfill), ten times less often (batches fill by size first).
	FlushInterval Duration `yaml:"flush_interval"`
	// ChunkTimeout dead-letters a recording whose chunks stop arriving.
	ChunkTimeout Duration `yaml:"chunk_timeout"`
	// MaxRecordingBytes bounds one assembled recording.
	MaxRecordingBytes int64 `yaml:"max_recording_bytes"`
}

// Policy is a tenant's effective settings after defaults are applied.
type Policy struct {
	Tenant           string
	General          Days
	Recordings       Days
	Chatlogs         Days
	MaskedIVRModules []string
	PhoneRegion      string
}

// Masks reports whether the policy masks the IVR module.
func (p Policy) Masks(module string) bool { return slices.Contains(p.MaskedIVRModules, module) }

// Default returns the configuration used when no file is given.
func Default() *Config {
	c := &Config{}
	c.applyDefaults()
	return c
}

// Load reads and validates a configuration file. An empty path gives Default.
func Load(path string) (*Config, error) {
	if path == "" {
		return Default(), nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open config: %w", err)
	}
	defer f.Close()
	c, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Decode reads a configuration strictly: unknown keys are errors.
func Decode(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	c := &Config{}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		var se *scalarError
		if errors.As(err, &se) {
			var root yaml.Node
			if yaml.Unmarshal(data, &root) == nil {
				if path := keyPath(&root, se.line, se.column); path != "" {
					return nil, fmt.Errorf("%s: %s", path, se.msg)
				}
			}
		}
		return nil, fmt.Errorf("decode: %w", err)
	}
	c.applyDefaults()
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *Config) applyDefaults() {
	if c.Tenants == nil {
		c.Tenants = map[string]TenantConfig{}
	}
	d := c.Tenants[DefaultsKey]
	setDays(&d.Retention.General, 180)
	setDays(&d.Retention.Recordings, 14)
	setDays(&d.Retention.Chatlogs, 30)
	if d.PhoneRegion == "" {
		d.PhoneRegion = "SE"
	}
	c.Tenants[DefaultsKey] = d
	c.Topics.applyDefaults()
	c.Ingest.applyDefaults()
}

func setDays(p **Days, n int) {
	if *p == nil {
		d := Days(n)
		*p = &d
	}
}

func (t *Topics) applyDefaults() {
	for _, f := range []struct {
		p   *string
		def string
	}{{&t.Inquiries, "arkiv.inquiries"}, {&t.Chatlogs, "arkiv.chatlogs"},
		{&t.Recordings, "arkiv.recordings"}, {&t.Surveys, "arkiv.surveys"},
		{&t.Deadletter, "arkiv.deadletter"}} {
		if *f.p == "" {
			*f.p = f.def
		}
	}
}

// Inputs lists the four input topics.
func (t Topics) Inputs() []string {
	return []string{t.Inquiries, t.Chatlogs, t.Recordings, t.Surveys}
}

// All lists every topic arkiv uses, inputs and dead-letter.
func (t Topics) All() []string { return append(t.Inputs(), t.Deadletter) }

func (i *Ingest) applyDefaults() {
	if i.FlushRows == 0 {
		i.FlushRows = 500_000
	}
	if i.FlushBytes == 0 {
		i.FlushBytes = 256 << 20
	}
	if i.FlushInterval == 0 {
		i.FlushInterval = Duration(30 * time.Second)
	}
	if i.ChunkTimeout == 0 {
		i.ChunkTimeout = Duration(10 * time.Minute)
	}
	if i.MaxRecordingBytes == 0 {
		i.MaxRecordingBytes = 2 << 30
	}
}

// Validate checks every value and names the key of the first bad one.
func (c *Config) Validate() error {
	names := make([]string, 0, len(c.Tenants))
	for name := range c.Tenants {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := c.validateTenant(name); err != nil {
			return err
		}
	}
	if err := c.validateTopics(); err != nil {
		return err
	}
	if err := c.validateTokens(); err != nil {
		return err
	}
	return c.Ingest.validate()
}

func (c *Config) validateTenant(name string) error {
	key := "tenants." + name
	if name != DefaultsKey && !schema.ValidTenantID(name) {
		return fmt.Errorf("%s: tenant id must match ^[a-z0-9][a-z0-9_-]{0,62}$", key)
	}
	t := c.Tenants[name]
	for field, d := range map[string]*Days{"general": t.Retention.General,
		"recordings": t.Retention.Recordings, "chatlogs": t.Retention.Chatlogs} {
		if d != nil && *d < 1 {
			return fmt.Errorf("%s.retention.%s: must be at least 1d", key, field)
		}
	}
	for i, m := range t.MaskedIVRModules {
		if strings.TrimSpace(m) == "" {
			return fmt.Errorf("%s.masked_ivr_modules[%d]: must not be empty", key, i)
		}
	}
	if r := t.PhoneRegion; r != "" && !validRegion(r) {
		return fmt.Errorf("%s.phone_region: %q is not a two-letter region code like SE", key, r)
	}
	return nil
}

func validRegion(r string) bool {
	return len(r) == 2 && r[0] >= 'A' && r[0] <= 'Z' && r[1] >= 'A' && r[1] <= 'Z'
}

func (c *Config) validateTopics() error {
	seen := map[string]string{}
	for key, name := range map[string]string{"inquiries": c.Topics.Inquiries, "chatlogs": c.Topics.Chatlogs,
		"recordings": c.Topics.Recordings, "surveys": c.Topics.Surveys, "deadletter": c.Topics.Deadletter} {
		if other, dup := seen[name]; dup {
			return fmt.Errorf("topics.%s: %q is also topics.%s", key, name, other)
		}
		seen[name] = key
	}
	return nil
}

func (i Ingest) validate() error {
	switch {
	case i.FlushRows < 1:
		return errors.New("ingest.flush_rows: must be at least 1")
	case i.FlushBytes < 1<<10:
		return errors.New("ingest.flush_bytes: must be at least 1024")
	case i.FlushInterval < Duration(10*time.Millisecond):
		return errors.New("ingest.flush_interval: must be at least 10ms")
	case i.ChunkTimeout < 0:
		return errors.New("ingest.chunk_timeout: must not be negative")
	case i.MaxRecordingBytes < 1:
		return errors.New("ingest.max_recording_bytes: must be at least 1")
	}
	return nil
}

// Policy returns the effective settings of a tenant: its own entry over the
// defaults. The masked IVR modules are the union of both, so a tenant entry
// can add masking but never remove what the defaults mask.
func (c *Config) Policy(tenant string) Policy {
	d := c.Tenants[DefaultsKey]
	t, ok := c.Tenants[tenant]
	p := Policy{Tenant: tenant, General: *d.Retention.General, Recordings: *d.Retention.Recordings,
		Chatlogs: *d.Retention.Chatlogs, PhoneRegion: d.PhoneRegion,
		MaskedIVRModules: slices.Clone(d.MaskedIVRModules)}
	if !ok || tenant == DefaultsKey {
		return p
	}
	overrideDays(&p.General, t.Retention.General)
	overrideDays(&p.Recordings, t.Retention.Recordings)
	overrideDays(&p.Chatlogs, t.Retention.Chatlogs)
	if t.PhoneRegion != "" {
		p.PhoneRegion = t.PhoneRegion
	}
	for _, m := range t.MaskedIVRModules {
		if !slices.Contains(p.MaskedIVRModules, m) {
			p.MaskedIVRModules = append(p.MaskedIVRModules, m)
		}
	}
	return p
}

func overrideDays(dst *Days, v *Days) {
	if v != nil {
		*dst = *v
	}
}

// Known reports whether the tenant has an entry of its own in the file.
func (c *Config) Known(tenant string) bool {
	_, ok := c.Tenants[tenant]
	return ok && tenant != DefaultsKey
}

// scalarError is a bad value met by an UnmarshalYAML method, which cannot
// know the key it sits under; Decode turns its position into the key path.
type scalarError struct {
	line, column int
	msg          string
}

func (e *scalarError) Error() string { return fmt.Sprintf("line %d: %s", e.line, e.msg) }

// keyPath returns the dotted key path ("tenants.t01.retention.general") of
// the mapping value at line:column, or "" when there is none.
func keyPath(n *yaml.Node, line, column int) string {
	switch n.Kind {
	case yaml.DocumentNode:
		for _, c := range n.Content {
			if p := keyPath(c, line, column); p != "" {
				return p
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Line == line && v.Column == column {
				return k.Value
			}
			if p := keyPath(v, line, column); p != "" {
				return k.Value + "." + p
			}
		}
	}
	return ""
}

// Days is a whole number of days, written like 180d.
type Days int

// UnmarshalYAML reads "180d" (or a bare number of days).
func (d *Days) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSuffix(strings.TrimSpace(n.Value), "d")
	v, err := strconv.Atoi(s)
	if err != nil {
		return &scalarError{n.Line, n.Column, fmt.Sprintf("%q is not a number of days like 180d", n.Value)}
	}
	*d = Days(v)
	return nil
}

// Duration returns the days as a time.Duration.
func (d Days) Duration() time.Duration { return time.Duration(d) * 24 * time.Hour }

// Duration is a time.Duration written like 30s or 10m.
type Duration time.Duration

// UnmarshalYAML reads a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return &scalarError{n.Line, n.Column, fmt.Sprintf("%q is not a duration like 30s", n.Value)}
	}
	*d = Duration(v)
	return nil
}
