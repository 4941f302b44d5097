package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/arkiv-project/arkiv/config"
	"github.com/arkiv-project/arkiv/query"
	"github.com/arkiv-project/arkiv/query/server"
)

// demoTenant is the tenant the demo's tokens act for: the first tenant of
// the synthetic traffic.
const demoTenant = "t0001"

// demoToken is one token the demo made, shown once at start.
type demoToken struct {
	name, secret string
	roles        []config.Role
}

// demoTokens makes a token for each role of demoTenant and one with every
// role, and the configuration entries that hold their hashes.
func demoTokens() ([]demoToken, []config.Token, error) {
	var toks []demoToken
	var entries []config.Token
	add := func(name string, roles []config.Role) error {
		secret, hash, err := config.NewToken()
		if err != nil {
			return err
		}
		toks = append(toks, demoToken{name: name, secret: secret, roles: roles})
		entries = append(entries, config.Token{Name: name, SHA256: hash, Tenant: demoTenant, Roles: roles})
		return nil
	}
	for _, r := range config.Roles {
		if err := add("demo-"+string(r), []config.Role{r}); err != nil {
			return nil, nil, err
		}
	}
	if err := add("demo-admin", config.Roles); err != nil {
		return nil, nil, err
	}
	return toks, entries, nil
}

// startDemoServe serves the web page and the API over the demo lake on
// addr, or on a free port of 127.0.0.1 when addr is taken, with tokens made
// now (their hashes live only in memory). It prints the address and the
// tokens, and returns a func that stops the server.
func startDemoServe(e *env, lakeDir, addr string) (stop func(), err error) {
	cfg, err := config.Decode(stringsReader(demoConfig))
	if err != nil {
		return nil, err
	}
	toks, entries, err := demoTokens()
	if err != nil {
		return nil, err
	}
	cfg.Tokens = entries
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	eng, err := query.Open(lakeDir, cfg, e.log)
	if err != nil {
		return nil, err
	}
	api, err := server.New(server.Options{Engine: eng, Config: cfg, Logger: e.log})
	if err != nil {
		eng.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		e.log.Info("demo: address taken, serving on a free port instead", "address", addr)
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			eng.Close()
			return nil, fmt.Errorf("listen: %w", err)
		}
	}
	srv := server.NewHTTPServer(ln.Addr().String(), api, e.log)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.log.Error("demo: serve stopped", "error", err)
		}
	}()
	printDemoServe(e.stdout, "http://"+ln.Addr().String()+"/", toks)
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		<-done
		eng.Close()
	}, nil
}

func printDemoServe(w io.Writer, url string, toks []demoToken) {
	fmt.Fprintf(w, "web page and API: %s  (API under %sapi/v1, see %sapi/v1/openapi.json)\n", url, url, url)
	fmt.Fprintf(w, "demo tokens for tenant %s (valid until the demo stops; paste one into the page):\n", demoTenant)
	for _, t := range toks {
		roles := "every role"
		if len(t.roles) == 1 {
			roles = string(t.roles[0])
		}
		fmt.Fprintf(w, "  %-15s %s\n", roles, t.secret)
	}
}
