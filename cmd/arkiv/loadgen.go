package main

import "context"

func runLoadgen(ctx context.Context, e *env, args []string) error { return usageError("not yet") }

func runDemo(ctx context.Context, e *env, args []string) error { return usageError("not yet") }
