package sinks

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/arkiv-project/arkiv/schema"
)

// Folders and files of the erasure ledger (anonymisation's memory, so that
// records of an anonymised person that arrive late are anonymised at
// ingest).
const (
	KeyDir        = MetaDir + "/keys"
	ErasureDir    = MetaDir + "/erasure"
	ErasureKey    = KeyDir + "/erasure.key"
	erasureSuffix = ".jsonl"
)

// ErasureKind says what a ledger entry's hash is of.
const (
	ErasureIdentifier = "identifier" // a number (E.164) or a lower-cased e-mail address
	ErasureInquiry    = "inquiry"    // an anonymised inquiry's id
	ErasureRecording  = "recording"  // an inquiry id whose recordings were deleted
	ErasureChatlog    = "chatlog"    // an inquiry id whose chat log was deleted
)

// LedgerEntry is one line of a tenant's ledger, _arkiv/erasure/<tenant>.jsonl.
// It holds no personal data: Hash is an HMAC-SHA256, under the lake's key
// (ErasureKey), of the tenant, the kind and the value.
type LedgerEntry struct {
	Kind          string    `json:"kind"`
	Hash          string    `json:"hash"`
	Receipt       string    `json:"receipt"`
	DeleteContent bool      `json:"delete_content,omitempty"`
	At            time.Time `json:"at"`
}

// ledgerRefresh bounds how long a Ledger trusts its cached copy of a
// tenant's ledger before it looks at the file again.
const ledgerRefresh = time.Second

// Ledger is the per-tenant erasure ledger of a lake. It is safe for
// concurrent use. Lookups (Matches) read the ledger files through a cache
// that is re-validated at most every second.
type Ledger struct {
	lake *Lake

	mu      sync.Mutex
	key     []byte
	tenants map[string]*ledgerCache
	now     func() time.Time
}

type ledgerCache struct {
	checked time.Time
	size    int64
	mod     time.Time
	hashes  map[string]bool // kind + ":" + hash
}

// NewLedger returns the ledger of a lake.
func NewLedger(l *Lake) *Ledger {
	return &Ledger{lake: l, tenants: map[string]*ledgerCache{}, now: time.Now}
}

func ledgerPath(tenant string) string { return ErasureDir + "/" + tenant + erasureSuffix }

func erasureLock(tenant string) string { return LockDir + "/erasure-" + tenant + ".lock" }

// ErasureValue is the canonical form of an identifier as the ledger hashes
// it: trimmed, and lower-cased when it is an e-mail address. Numbers are
// hashed as they are (E.164 per the contract; anonymisation hashes the
// normalised E.164 form).
func ErasureValue(v string) string {
	v = strings.TrimSpace(v)
	if strings.Contains(v, "@") {
		v = strings.ToLower(v)
	}
	return v
}

// loadKey reads the lake's ledger key; with create it makes one if there
// is none (under a lock, so that concurrent creators agree).
func (g *Ledger) loadKey(create bool) ([]byte, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.key != nil {
		return g.key, nil
	}
	key, err := g.readKey()
	if err == nil || !IsNotExist(err) || !create {
		if err == nil {
			g.key = key
		}
		return key, err
	}
	release, err := g.lake.fs.Lock(LockDir + "/erasure-key.lock")
	if err != nil {
		return nil, fmt.Errorf("lock the erasure key: %w", err)
	}
	defer release()
	if key, err = g.readKey(); err == nil {
		g.key = key
		return key, nil
	} else if !IsNotExist(err) {
		return nil, err
	}
	key = make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	if err := g.lake.fs.MkdirAll(KeyDir); err != nil {
		return nil, fmt.Errorf("create %s: %w", KeyDir, err)
	}
	if err := g.lake.Publish(ErasureKey, func(w io.Writer) error {
		_, err := io.WriteString(w, hex.EncodeToString(key)+"\n")
		return err
	}); err != nil {
		return nil, fmt.Errorf("write the erasure key: %w", err)
	}
	g.key = key
	return key, nil
}

func (g *Ledger) readKey() ([]byte, error) {
	data, err := g.lake.ReadAll(ErasureKey)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(data)))
	if err != nil || len(key) < 16 {
		return nil, fmt.Errorf("erasure key: %w", ErrCorrupt)
	}
	return key, nil
}

func keyedHash(key []byte, tenant, kind, value string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(tenant))
	m.Write([]byte{0})
	m.Write([]byte(kind))
	m.Write([]byte{0})
	m.Write([]byte(value))
	return hex.EncodeToString(m.Sum(nil))
}

// Hash is the keyed hash of a value of a tenant (the value is made
// canonical with ErasureValue for identifiers). With create the lake's key
// is made if it does not exist; without, a lake with no key yields
// IsNotExist.
func (g *Ledger) Hash(tenant, kind, value string, create bool) (string, error) {
	key, err := g.loadKey(create)
	if err != nil {
		return "", err
	}
	if kind == ErasureIdentifier {
		value = ErasureValue(value)
	}
	return keyedHash(key, tenant, kind, value), nil
}

// Append adds entries to a tenant's ledger durably: when it returns nil the
// whole new ledger is fsynced under its name. Appenders of one tenant are
// serialised by a lock; the ledger is rewritten whole (it is small: a few
// hashes per anonymised person).
func (g *Ledger) Append(tenant string, entries []LedgerEntry) error {
	if !schema.ValidTenantID(tenant) {
		return fmt.Errorf("erasure ledger: tenant %q: %w", tenant, ErrBadPath)
	}
	if len(entries) == 0 {
		return nil
	}
	release, err := g.lake.fs.Lock(erasureLock(tenant))
	if err != nil {
		return fmt.Errorf("lock the erasure ledger: %w", err)
	}
	defer release()
	old, err := g.lake.ReadAll(ledgerPath(tenant))
	if err != nil && !IsNotExist(err) {
		return fmt.Errorf("read the erasure ledger: %w", err)
	}
	if len(old) > 0 && old[len(old)-1] != '\n' {
		old = append(old, '\n')
	}
	var buf bytes.Buffer
	buf.Write(old)
	enc := json.NewEncoder(&buf)
	for _, e := range entries {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	if err := g.lake.fs.MkdirAll(ErasureDir); err != nil {
		return fmt.Errorf("create %s: %w", ErasureDir, err)
	}
	if err := g.lake.Publish(ledgerPath(tenant), func(w io.Writer) error {
		_, err := w.Write(buf.Bytes())
		return err
	}); err != nil {
		return fmt.Errorf("append to the erasure ledger: %w", err)
	}
	g.mu.Lock()
	delete(g.tenants, tenant)
	g.mu.Unlock()
	return nil
}

// Entries reads a tenant's ledger.
func (g *Ledger) Entries(tenant string) ([]LedgerEntry, error) {
	if !schema.ValidTenantID(tenant) {
		return nil, fmt.Errorf("erasure ledger: tenant %q: %w", tenant, ErrBadPath)
	}
	data, err := g.lake.ReadAll(ledgerPath(tenant))
	if IsNotExist(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []LedgerEntry
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		var e LedgerEntry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			return nil, fmt.Errorf("erasure ledger of %s: %w", tenant, ErrCorrupt)
		}
		out = append(out, e)
	}
	return out, sc.Err()
}

// cache returns the tenant's hashes, re-reading the file when it changed
// (looked at no more than every ledgerRefresh). A tenant without a ledger
// yields nil. Errors are returned so ingest can refuse rather than guess.
func (g *Ledger) cache(tenant string) (map[string]bool, error) {
	now := g.now()
	g.mu.Lock()
	c := g.tenants[tenant]
	if c != nil && now.Sub(c.checked) < ledgerRefresh {
		g.mu.Unlock()
		return c.hashes, nil
	}
	g.mu.Unlock()
	if !schema.ValidTenantID(tenant) {
		return nil, nil
	}
	fi, err := g.lake.fs.Stat(ledgerPath(tenant))
	if IsNotExist(err) {
		g.mu.Lock()
		g.tenants[tenant] = &ledgerCache{checked: now}
		g.mu.Unlock()
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if c != nil && c.size == fi.Size() && c.mod.Equal(fi.ModTime()) {
		g.mu.Lock()
		c.checked = now
		g.mu.Unlock()
		return c.hashes, nil
	}
	entries, err := g.Entries(tenant)
	if err != nil {
		return nil, err
	}
	hashes := make(map[string]bool, len(entries))
	for _, e := range entries {
		hashes[e.Kind+":"+e.Hash] = true
	}
	g.mu.Lock()
	g.tenants[tenant] = &ledgerCache{checked: now, size: fi.Size(), mod: fi.ModTime(), hashes: hashes}
	g.mu.Unlock()
	return hashes, nil
}

func (g *Ledger) matches(tenant, kind, value string) (bool, error) {
	if strings.TrimSpace(value) == "" {
		return false, nil
	}
	hashes, err := g.cache(tenant)
	if err != nil || len(hashes) == 0 {
		return false, err
	}
	h, err := g.Hash(tenant, kind, value, false)
	if err != nil {
		return false, err
	}
	return hashes[kind+":"+h], nil
}

// Check reads (or re-validates) a tenant's ledger and the lake's key, and
// reports whether they can be used.
func (g *Ledger) Check(tenant string) error {
	hashes, err := g.cache(tenant)
	if err != nil || len(hashes) == 0 {
		return err
	}
	_, err = g.loadKey(false)
	return err
}

// Matches reports whether an identifier (a number as received, an e-mail
// address in any case) of the tenant is in the ledger. A ledger that cannot
// be read counts as a match: anonymising a record too many is the safe
// side of the error.
func (g *Ledger) Matches(tenant, value string) bool {
	ok, err := g.matches(tenant, ErasureIdentifier, value)
	if err != nil {
		g.lake.log.Error("erasure ledger unreadable; anonymising the record", "tenant", tenant, "error", err)
		return true
	}
	return ok
}

// MatchesInquiry reports whether an inquiry of the tenant was anonymised
// (so that its chat log or survey arriving late is anonymised too).
func (g *Ledger) MatchesInquiry(tenant, inquiryID string) bool {
	ok, err := g.matches(tenant, ErasureInquiry, inquiryID)
	if err != nil {
		g.lake.log.Error("erasure ledger unreadable; anonymising the record", "tenant", tenant, "error", err)
		return true
	}
	return ok
}

// ContentDeleted reports whether the content of kind (ErasureRecording or
// ErasureChatlog) of an inquiry of the tenant was deleted, so that ingest
// drops it when upstream sends it again (a replay, a resend). A ledger that
// cannot be read counts as deleted: keeping content that was deleted is
// the error we must not make.
func (g *Ledger) ContentDeleted(tenant, kind, inquiryID string) bool {
	ok, err := g.matches(tenant, kind, inquiryID)
	if err != nil {
		g.lake.log.Error("erasure ledger unreadable; dropping the content", "tenant", tenant, "error", err)
		return true
	}
	return ok
}

// AnonymiseRow nulls every field of privacy class identifier of a row
// (nested ones too: the names of a chat log's messages), and with content
// every field of class content, and sets its Anonymised flag. The classes
// come from the struct tags, so a field added later is covered.
func AnonymiseRow[T any](row *T, content bool) {
	v := reflect.ValueOf(row).Elem()
	clearClasses(v, content)
	if f := v.FieldByName("Anonymised"); f.IsValid() && f.Kind() == reflect.Bool {
		f.SetBool(true)
	}
}

var timeType = reflect.TypeFor[time.Time]()

func clearClasses(v reflect.Value, content bool) {
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			clearClasses(v.Elem(), content)
		}
	case reflect.Slice:
		for i := range v.Len() {
			clearClasses(v.Index(i), content)
		}
	case reflect.Struct:
		if v.Type() == timeType {
			return
		}
		t := v.Type()
		for i := range t.NumField() {
			f, fv := t.Field(i), v.Field(i)
			switch c := schema.Class(f.Tag.Get("privacy")); {
			case c == schema.Identifier, content && c == schema.Content:
				fv.SetZero()
			default:
				clearClasses(fv, content)
			}
		}
	}
}
