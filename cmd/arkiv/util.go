package main

import (
	"io"
	"strings"

	"github.com/arkiv-project/arkiv/internal/loadgen"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

func newDemoGenerator(tenants, count int, seed int64, days int) *loadgen.Generator {
	return loadgen.New(loadOptions(tenants, count, seed, days, true, 0))
}
