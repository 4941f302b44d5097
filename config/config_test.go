package config

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func decodeString(t *testing.T, s string) (*Config, error) {
	t.Helper()
	return Decode(strings.NewReader(s))
}

func mustDecode(t *testing.T, s string) *Config {
	t.Helper()
	c, err := decodeString(t, s)
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	return c
}

func TestLoadShape(t *testing.T) {
	c, err := Load("testdata/arkiv.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := c.Policy("t01")
	want := Policy{Tenant: "t01", General: 180, Recordings: 14, Chatlogs: 30,
		MaskedIVRModules: []string{"enter_pnr", "enter_card"}, PhoneRegion: "SE"}
	if !equalPolicy(p, want) {
		t.Errorf("t01: got %+v, want %+v", p, want)
	}
	if !p.Masks("enter_pnr") || !p.Masks("enter_card") || p.Masks("main_menu") {
		t.Errorf("t01 masks wrong modules: %v", p.MaskedIVRModules)
	}
	if !c.Known("t01") || c.Known("t02") || c.Known(DefaultsKey) {
		t.Error("Known is wrong")
	}
	if got := p.General.Duration(); got != 180*24*time.Hour {
		t.Errorf("general retention %v", got)
	}
}

func TestLoadFull(t *testing.T) {
	c, err := Load("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got := c.Policy("acme"); !equalPolicy(got, Policy{Tenant: "acme", General: 365, Recordings: 7, Chatlogs: 60,
		MaskedIVRModules: []string{"enter_card", "enter_pnr"}, PhoneRegion: "NO"}) {
		t.Errorf("acme: %+v", got)
	}
	if got := c.Policy("bank-se_01"); got.General != 3650 || got.Recordings != 30 || got.Chatlogs != 60 {
		t.Errorf("bank-se_01 (a bare number of days): %+v", got)
	}
	if want := []string{"cc.inquiries", "cc.chatlogs", "cc.recordings", "cc.surveys", "cc.deadletter"}; !slices.Equal(c.Topics.All(), want) {
		t.Errorf("topics %v", c.Topics.All())
	}
	want := Ingest{FlushRows: 1000, FlushBytes: 1 << 20, FlushInterval: Duration(5 * time.Second),
		ChunkTimeout: Duration(2 * time.Minute), MaxRecordingBytes: 100 << 20}
	if c.Ingest != want {
		t.Errorf("ingest %+v, want %+v", c.Ingest, want)
	}
}

func TestDefaults(t *testing.T) {
	for name, get := range map[string]func() (*Config, error){
		"no file":    func() (*Config, error) { return Load("") },
		"empty file": func() (*Config, error) { return Decode(strings.NewReader("")) },
		"comment":    func() (*Config, error) { return Decode(strings.NewReader("# nothing\n")) },
		"Default":    func() (*Config, error) { return Default(), nil },
	} {
		t.Run(name, func(t *testing.T) {
			c, err := get()
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Policy("acme"); !equalPolicy(got, Policy{Tenant: "acme", General: 180, Recordings: 14, Chatlogs: 30, PhoneRegion: "SE"}) {
				t.Errorf("policy %+v", got)
			}
			if want := []string{"arkiv.inquiries", "arkiv.chatlogs", "arkiv.recordings", "arkiv.surveys", "arkiv.deadletter"}; !slices.Equal(c.Topics.All(), want) {
				t.Errorf("topics %v", c.Topics.All())
			}
			if c.Ingest.FlushRows < 1 || c.Ingest.FlushBytes < 1024 || c.Ingest.FlushInterval <= 0 ||
				c.Ingest.ChunkTimeout <= 0 || c.Ingest.MaxRecordingBytes < 1 {
				t.Errorf("ingest defaults %+v", c.Ingest)
			}
			if err := c.Validate(); err != nil {
				t.Errorf("defaults do not validate: %v", err)
			}
		})
	}
}

func TestTenantWithoutEntryGetsDefaults(t *testing.T) {
	c := mustDecode(t, `
tenants:
  defaults:
    retention: {general: 400d}
    masked_ivr_modules: [enter_card]
    phone_region: FI
  t01:
    retention: {general: 10d}
`)
	got := c.Policy("t99")
	if !equalPolicy(got, Policy{Tenant: "t99", General: 400, Recordings: 14, Chatlogs: 30,
		MaskedIVRModules: []string{"enter_card"}, PhoneRegion: "FI"}) {
		t.Errorf("t99: %+v", got)
	}
	if c.Known("t99") {
		t.Error("t99 is known")
	}
	// The policy is a copy: changing it changes no other tenant.
	got.MaskedIVRModules[0] = "changed"
	if c.Policy("t98").MaskedIVRModules[0] != "enter_card" {
		t.Error("policies share the defaults' module list")
	}
}

func TestTenantOverridesRetention(t *testing.T) {
	c := mustDecode(t, `
tenants:
  defaults:
    retention: {general: 180d, recordings: 14d, chatlogs: 30d}
  t01:
    retention: {recordings: 7d}
  t02:
    retention: {general: 30d, recordings: 1d, chatlogs: 2d}
    phone_region: NO
`)
	for _, want := range []Policy{
		{Tenant: "t01", General: 180, Recordings: 7, Chatlogs: 30, PhoneRegion: "SE"},
		{Tenant: "t02", General: 30, Recordings: 1, Chatlogs: 2, PhoneRegion: "NO"},
		{Tenant: DefaultsKey, General: 180, Recordings: 14, Chatlogs: 30, PhoneRegion: "SE"},
	} {
		if got := c.Policy(want.Tenant); !equalPolicy(got, want) {
			t.Errorf("%s: got %+v, want %+v", want.Tenant, got, want)
		}
	}
}

func TestMaskedModulesAreTheUnion(t *testing.T) {
	c := mustDecode(t, `
tenants:
  defaults:
    masked_ivr_modules: [enter_card, enter_pin]
  t01:
    masked_ivr_modules: [enter_pnr, enter_card]
  t02:
    masked_ivr_modules: []
`)
	if got, want := c.Policy("t01").MaskedIVRModules, []string{"enter_card", "enter_pin", "enter_pnr"}; !slices.Equal(got, want) {
		t.Errorf("t01: %v, want %v", got, want)
	}
	// An empty tenant list removes nothing the defaults mask.
	if got, want := c.Policy("t02").MaskedIVRModules, []string{"enter_card", "enter_pin"}; !slices.Equal(got, want) {
		t.Errorf("t02: %v, want %v", got, want)
	}
	for _, tenant := range []string{"t01", "t02", "t03"} {
		if p := c.Policy(tenant); !p.Masks("enter_card") || !p.Masks("enter_pin") {
			t.Errorf("%s does not mask the defaults' modules: %v", tenant, p.MaskedIVRModules)
		}
	}
}

func TestUnknownKeysRejected(t *testing.T) {
	for _, tt := range []struct {
		yaml string
		key  string
	}{
		{"tenant:\n  t01: {}\n", "tenant"},
		{"tenants:\n  t01:\n    retension: {general: 30d}\n", "retension"},
		{"tenants:\n  t01:\n    retention: {genral: 30d}\n", "genral"},
		{"tenants:\n  defaults:\n    masked_ivr_module: [a]\n", "masked_ivr_module"},
		{"topics:\n  inquiry: x\n", "inquiry"},
		{"ingest:\n  flush_row: 5\n", "flush_row"},
	} {
		t.Run(tt.key, func(t *testing.T) {
			_, err := decodeString(t, tt.yaml)
			if err == nil || !strings.Contains(err.Error(), tt.key) {
				t.Fatalf("got %v, want an error naming %q", err, tt.key)
			}
		})
	}
}

func TestBadValuesNameTheKey(t *testing.T) {
	for _, tt := range []struct {
		name string
		yaml string
		want []string // every one must be in the error
	}{
		{"retention not days", "tenants:\n  t01:\n    retention: {general: 180x}\n", []string{"tenants.t01.retention.general:", "180x"}},
		{"retention block style", "tenants:\n  t01:\n    retention:\n      chatlogs: 30 days\n", []string{"tenants.t01.retention.chatlogs:"}},
		{"retention in defaults", "tenants:\n  defaults:\n    retention: {general: 180d, recordings: 2w}\n", []string{"tenants.defaults.retention.recordings:"}},
		{"retention a list", "tenants:\n  t01:\n    retention: {general: [1]}\n", []string{"tenants.t01.retention.general:"}},
		{"retention zero", "tenants:\n  t01:\n    retention: {general: 0d}\n", []string{"tenants.t01.retention.general:", "at least 1d"}},
		{"retention negative", "tenants:\n  t01:\n    retention: {recordings: -5d}\n", []string{"tenants.t01.retention.recordings:"}},
		{"retention through an anchor", "tenants:\n  t01:\n    retention: &r {general: 1y}\n  t02:\n    retention: *r\n", []string{"tenants.t01.retention.general:"}},
		{"tenant id with space", "tenants:\n  Bad Tenant: {}\n", []string{"tenants.Bad Tenant:", "tenant id"}},
		{"tenant id upper case", "tenants:\n  Acme: {}\n", []string{"tenants.Acme:"}},
		{"tenant id path", "tenants:\n  ../etc: {}\n", []string{"tenants.../etc:"}},
		{"phone region word", "tenants:\n  t01:\n    phone_region: sweden\n", []string{"tenants.t01.phone_region:"}},
		{"phone region lower case", "tenants:\n  defaults:\n    phone_region: se\n", []string{"tenants.defaults.phone_region:"}},
		{"empty masked module", "tenants:\n  t01:\n    masked_ivr_modules: [enter_pnr, \" \"]\n", []string{"tenants.t01.masked_ivr_modules[1]:"}},
		{"duplicate topic names", "topics:\n  inquiries: same\n  chatlogs: same\n", []string{"topics.inquiries", "topics.chatlogs", "same"}},
		{"topic named like a default", "topics:\n  surveys: arkiv.deadletter\n", []string{"topics.surveys", "topics.deadletter"}},
		{"flush interval not a duration", "ingest:\n  flush_interval: 5x\n", []string{"ingest.flush_interval:"}},
		{"flush interval too short", "ingest:\n  flush_interval: 1ms\n", []string{"ingest.flush_interval:"}},
		{"chunk timeout not a duration", "ingest:\n  chunk_timeout: soon\n", []string{"ingest.chunk_timeout:"}},
		{"negative chunk timeout", "ingest:\n  chunk_timeout: -1s\n", []string{"ingest.chunk_timeout:"}},
		{"negative flush rows", "ingest:\n  flush_rows: -1\n", []string{"ingest.flush_rows:"}},
		{"small flush bytes", "ingest:\n  flush_bytes: 10\n", []string{"ingest.flush_bytes:"}},
		{"negative max recording bytes", "ingest:\n  max_recording_bytes: -1\n", []string{"ingest.max_recording_bytes:"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := decodeString(t, tt.yaml)
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestLoadErrorsNameTheFile(t *testing.T) {
	for _, path := range []string{"testdata/unknown-key.yaml", "testdata/bad-retention.yaml", "testdata/no-such-file.yaml"} {
		_, err := Load(path)
		if err == nil || !strings.Contains(err.Error(), filepath.Base(path)) {
			t.Errorf("Load(%s): %v, want an error naming the file", path, err)
		}
	}
	_, err := Load("testdata/bad-retention.yaml")
	if err == nil || !strings.Contains(err.Error(), "tenants.t01.retention.general") {
		t.Errorf("Load: %v, want the key path", err)
	}
}

func TestDecodeNotAMapping(t *testing.T) {
	for _, s := range []string{"- a\n", "tenants: 5\n", "tenants:\n  t01: [1]\n", "just text\n", "tenants: {t01: {retention: 5}}\n"} {
		if _, err := decodeString(t, s); err == nil {
			t.Errorf("accepted %q", s)
		}
	}
}

func equalPolicy(a, b Policy) bool {
	return a.Tenant == b.Tenant && a.General == b.General && a.Recordings == b.Recordings &&
		a.Chatlogs == b.Chatlogs && a.PhoneRegion == b.PhoneRegion &&
		slices.Equal(a.MaskedIVRModules, b.MaskedIVRModules)
}

// FuzzDecode: Decode never panics, and what it accepts is whole: every
// tenant has a complete policy and the topics are distinct.
func FuzzDecode(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		"", "tenants: {}\n", "tenants:\n  defaults:\n    retention: {general: ~}\n",
		"tenants:\n  t01:\n    retention: &r {general: 1d}\n  t02:\n    retention: *r\n",
		"tenants:\n  t01: {retention: {general: 9223372036854775807d}}\n",
		"a: &a [*a]\n", "tenants: !!binary aGVsbG8=\n", "--- \n...\n---\ntopics: {}\n",
		"ingest: {flush_interval: 9223372036854775807ns}\n", "tenants:\n  t01:\n    <<: {phone_region: NO}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Decode(strings.NewReader(string(data)))
		if err != nil {
			if c != nil {
				t.Fatal("a config was returned with an error")
			}
			return
		}
		if err := c.Validate(); err != nil {
			t.Fatalf("accepted config does not validate: %v", err)
		}
		for tenant := range c.Tenants {
			p := c.Policy(tenant)
			if p.General < 1 || p.Recordings < 1 || p.Chatlogs < 1 || !validRegion(p.PhoneRegion) {
				t.Fatalf("%s: incomplete policy %+v", tenant, p)
			}
		}
		p := c.Policy("no-entry")
		if p.General < 1 || p.Recordings < 1 || p.Chatlogs < 1 {
			t.Fatalf("defaults incomplete: %+v", p)
		}
		seen := map[string]bool{}
		for _, name := range c.Topics.All() {
			if name == "" || seen[name] {
				t.Fatalf("topics %v", c.Topics.All())
			}
			seen[name] = true
		}
	})
}
