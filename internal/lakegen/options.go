package lakegen

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/arkiv-project/arkiv/config"
)

// Defaults of Options.
const (
	DefaultInquiries  = 10_000_000
	DefaultTenants    = 100
	DefaultDays       = 180
	DefaultSeed       = 1
	DefaultMediaBytes = 2048
	DefaultWorkers    = 2
)

// PlantedInquiries is how many inquiries each planted person has.
const PlantedInquiries = 20

// Options say what lake to generate. Zero fields take the defaults.
type Options struct {
	// Inquiries in total, over all tenants and days (planted ones included).
	Inquiries int
	// Tenants t0001 ... tNNNN.
	Tenants int
	// Days ending with Now's UTC day.
	Days int
	// Seed of every random choice.
	Seed uint64
	// Now is the instant the lake is "as of": its last day is Now's UTC day
	// and content retention is applied at Now. Zero means the current time.
	Now time.Time
	// Config gives the tenants' retention (nil: config.Default()).
	Config *config.Config
	// AllContent keeps recordings and chat logs of every day, ignoring their
	// retention.
	AllContent bool
	// MediaBytes is the mean size of a media object (sizes vary from half
	// to one and a half times it); 0 means DefaultMediaBytes.
	MediaBytes int
	// NoMedia writes no media objects (recording rows are still written;
	// queries then show those recordings as deleted).
	NoMedia bool
	// Flushes is the number of files each partition is split into, by time
	// of day (default 1).
	Flushes int
	// Duplicates is the share of inquiries (with their content and survey)
	// that upstream sent twice: the copy is ingested later, in the next
	// flush where there is one.
	Duplicates float64
	// Workers write days in parallel (default 2).
	Workers int
	// Log receives progress (nil: silent).
	Log *slog.Logger
}

func (o Options) withDefaults() Options {
	if o.Inquiries == 0 {
		o.Inquiries = DefaultInquiries
	}
	if o.Tenants == 0 {
		o.Tenants = DefaultTenants
	}
	if o.Days == 0 {
		o.Days = DefaultDays
	}
	if o.Seed == 0 {
		o.Seed = DefaultSeed
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	o.Now = o.Now.UTC()
	if o.Config == nil {
		o.Config = config.Default()
	}
	if o.MediaBytes == 0 {
		o.MediaBytes = DefaultMediaBytes
	}
	if o.Flushes == 0 {
		o.Flushes = 1
	}
	if o.Workers == 0 {
		o.Workers = DefaultWorkers
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	return o
}

// ErrOptions is returned for options that cannot make a lake.
var ErrOptions = errors.New("invalid lake generator options")

func (o Options) validate() error {
	switch {
	case o.Inquiries < 1:
		return fmt.Errorf("%w: inquiries must be at least 1", ErrOptions)
	case o.Tenants < 1 || o.Tenants > 9999:
		return fmt.Errorf("%w: tenants must be 1 to 9999", ErrOptions)
	case o.Days < 1 || o.Days > 3660:
		return fmt.Errorf("%w: days must be 1 to 3660", ErrOptions)
	case o.MediaBytes < 16 || o.MediaBytes > 64<<20:
		return fmt.Errorf("%w: media bytes must be 16 to 64 MiB", ErrOptions)
	case o.Flushes < 1 || o.Flushes > 96:
		return fmt.Errorf("%w: flushes must be 1 to 96", ErrOptions)
	case o.Duplicates < 0 || o.Duplicates > 0.5:
		return fmt.Errorf("%w: duplicates must be a share from 0 to 0.5", ErrOptions)
	case o.Workers < 1 || o.Workers > 64:
		return fmt.Errorf("%w: workers must be 1 to 64", ErrOptions)
	}
	return nil
}
