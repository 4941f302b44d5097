package main

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/arkiv-project/arkiv/query"
	"github.com/arkiv-project/arkiv/sinks"
)

// runAnonymise forgets a person in one tenant (R-G) and prints the receipt
// as JSON. The numbers and addresses given are never printed or logged.
func runAnonymise(ctx context.Context, e *env, args []string) error {
	fs := newFlags("anonymise", e)
	lf := addLakeFlags(fs)
	tenant := fs.String("tenant", "", "tenant id (required)")
	var numbers, emails stringList
	fs.Var(&numbers, "number", "the person's phone number, typed any common way; repeat for several")
	fs.Var(&emails, "email", "the person's e-mail address; repeat for several")
	deleteContent := fs.Bool("delete-content", false, "also delete the person's recordings, chat logs and survey comments")
	dryRun := fs.Bool("dry-run", false, "report what would be anonymised; change nothing")
	af := addActorFlags(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *tenant == "" {
		return usageError("--tenant is required")
	}
	if len(numbers) == 0 && len(emails) == 0 {
		return usageError("give the person: --number and/or --email")
	}
	acc, err := af.access(query.ActionAnonymise)
	if err != nil {
		return err
	}
	dir, err := lf.dir()
	if err != nil {
		return err
	}
	if !*dryRun {
		// Recovery first, as every command that opens the lake for writing.
		lake, err := sinks.OpenDir(dir, e.log)
		if err != nil {
			return err
		}
		err = lake.RecoverRewrites()
		if cerr := lake.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	eng, err := lf.open(e)
	if err != nil {
		return err
	}
	defer eng.Close()
	rc, err := withProgress(e, "anonymising", func() (*query.Receipt, error) {
		return eng.Anonymise(ctx, *tenant, acc, query.Person{Numbers: numbers, Emails: emails},
			query.AnonymiseOptions{DeleteContent: *deleteContent, DryRun: *dryRun})
	})
	if err != nil {
		if rc != nil && !errors.Is(err, query.ErrBadRequest) {
			// What was done before the failure, for the operator.
			_ = json.NewEncoder(e.stderr).Encode(rc)
		}
		return queryError(err)
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rc)
}
