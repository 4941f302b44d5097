// Command arkiv is the archive's one binary: ingest from Kafka into the
// lake, and the tools around it. Run `arkiv help` for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, env *env, args []string) error
}

// env is what every command gets: its streams and a logger.
type env struct {
	stdin  io.Reader
	stdout io.Writer
	stderr io.Writer
	log    *slog.Logger
}

func commands() map[string]command {
	return map[string]command{
		"broker":  {"run an embedded Kafka-compatible broker (development and tests only)", runBroker},
		"ingest":  {"consume the arkiv topics into the lake", runIngest},
		"produce": {"publish NDJSON records from stdin to a topic, keyed as the contract says", runProduce},
		"loadgen": {"publish realistic synthetic traffic", runLoadgen},
		"demo":    {"embedded broker, synthetic traffic and ingest in one process", runDemo},
		"serve":   {"serve the HTTP API and the web page over the lake", runServe},
		"token":   {"make a new API token and print its configuration entry", runToken},

		"search":    {"search a tenant's inquiries", runSearch},
		"show":      {"show one inquiry's general information", runShow},
		"recording": {"download an inquiry's recording (audited)", runRecording},
		"chatlog":   {"read an inquiry's chat log as XML or text (audited)", runChatlog},
		"audit":     {"read a tenant's audit log", runAudit},
		"export":    {"export general information (xlsx) or recordings (zip, audited) of a search", runExport},
		"delete":    {"delete recordings and/or chat logs of inquiries (audited)", runDelete},
		"sql":       {"run SQL over views of the lake (DuckDB)", runSQL},
		"expire":    {"drop every partition older than its tenant's retention", runExpire},
		"anonymise": {"forget a person in a tenant: identifiers removed, content optionally deleted", runAnonymise},
		"compact":   {"merge small files per partition (latest duplicate wins) and seal audit logs", runCompact},
		"lakegen":   {"(development) generate a synthetic lake straight into the lake folder, for benchmarks", runLakegen},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout, cmds)
		return 0
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "arkiv: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	e := &env{stdin: stdin, stdout: stdout, stderr: stderr, log: newLogger(stderr)}
	err := c.run(ctx, e, args[1:])
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		fmt.Fprintf(stderr, "arkiv %s: %v\n", args[0], err)
		return 2
	default:
		fmt.Fprintf(stderr, "arkiv %s: %v\n", args[0], err)
		return 1
	}
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "arkiv: the contact-centre archive\n\nUsage: arkiv COMMAND [flags]   (arkiv COMMAND -h for its flags)\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, cmds[n].summary)
	}
}

// errUsage marks errors in how a command was called (exit code 2).
var errUsage = errors.New("usage")

func usageError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errUsage, fmt.Sprintf(format, args...))
}

// newFlags makes a flag set that reports errors instead of exiting.
func newFlags(name string, e *env) *flag.FlagSet {
	fs := flag.NewFlagSet("arkiv "+name, flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return usageError("unexpected argument %q", fs.Arg(0))
	}
	return nil
}

func newLogger(w io.Writer) *slog.Logger {
	level := slog.LevelInfo
	if strings.EqualFold(os.Getenv("ARKIV_LOG_LEVEL"), "debug") {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
