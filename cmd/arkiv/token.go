package main

import (
	"context"
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/arkiv-project/arkiv/config"
)

// runToken makes a new API token: the token is printed once (to stdout,
// nowhere else) and the configuration entry holds only its hash.
func runToken(_ context.Context, e *env, args []string) error {
	fs := newFlags("token", e)
	tenant := fs.String("tenant", "", "tenant the token acts for (required unless --support)")
	roles := fs.String("roles", "", "comma-separated roles: viewer, content, content-delete, privacy, audit (required)")
	support := fs.Bool("support", false, "a support token: acts for any tenant, naming it and a reason per request")
	name := fs.String("name", "", "the token holder's name, written to the audit log (default: tenant-roles)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	rs, err := config.ParseRoles(*roles)
	if err != nil {
		return usageError("--roles: %v", err)
	}
	if len(rs) == 0 {
		return usageError("--roles is required")
	}
	t := *tenant
	switch {
	case *support && t != "" && t != config.AnyTenant:
		return usageError("--support tokens act for any tenant: leave out --tenant")
	case *support:
		t = config.AnyTenant
	case t == "":
		return usageError("--tenant is required (or --support)")
	}
	if *name == "" {
		*name = strings.ReplaceAll(t, "*", "support") + "-" + string(rs[0])
	}
	secret, hash, err := config.NewToken()
	if err != nil {
		return err
	}
	tok := config.Token{Name: *name, SHA256: hash, Tenant: t, Support: *support, Roles: rs}
	// Validate the entry as the config will.
	check := config.Default()
	check.Tokens = []config.Token{tok}
	if err := check.Validate(); err != nil {
		return usageError("%v", err)
	}
	snippet, err := yaml.Marshal([]config.Token{tok})
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "token (shown once; store it now, arkiv keeps only its hash):\n\n  %s\n\n", secret)
	fmt.Fprintf(e.stdout, "add to the configuration file under tokens:\n\n")
	for _, l := range strings.Split(strings.TrimRight(string(snippet), "\n"), "\n") {
		fmt.Fprintf(e.stdout, "  %s\n", l)
	}
	return nil
}
