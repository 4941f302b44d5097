# arkiv: build, test and benchmark targets. `make test` is the one command
# that sets up a fresh machine and runs everything CI runs.
GO        ?= go
PKGS      := ./...
FUZZTIME  ?= 10s
KAFKA_PORT ?= 19092

.PHONY: build test test-deps vet tidy-check unit race processes fuzz integration integration-kafka bench demo clean

build:
	$(GO) build -o bin/arkiv ./cmd/arkiv

# The whole suite: dependencies, static checks, race-enabled tests, a short
# fuzz run of every target, and the integration suite against a real Kafka.
test: test-deps vet tidy-check race processes fuzz integration-kafka

test-deps:
	./scripts/test-deps

vet:
	@bad=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$bad" ]; then echo "gofmt needed: $$bad"; exit 1; fi
	$(GO) vet $(PKGS)

tidy-check:
	@cp go.mod /tmp/arkiv-go.mod.bak; cp go.sum /tmp/arkiv-go.sum.bak
	@$(GO) mod tidy
	@if ! git diff --quiet -- go.mod go.sum; then echo "go.mod/go.sum are not tidy:"; git diff -- go.mod go.sum; cp /tmp/arkiv-go.mod.bak go.mod; cp /tmp/arkiv-go.sum.bak go.sum; exit 1; fi

unit:
	$(GO) test -count=1 $(PKGS)

race:
	$(GO) test -race -count=1 -timeout 20m $(PKGS)

# The tests that kill child ingest processes skip themselves under -race
# (the in-process broker is too slow when instrumented): run them here.
processes:
	$(GO) test -count=1 -timeout 15m -run 'Crash|ScaleOut' ./pipeline/

# Every fuzz target runs for FUZZTIME on top of its committed seed corpus.
fuzz:
	./scripts/fuzz-all $(FUZZTIME)

# The ingest integration tests against a real Apache Kafka (KRaft, started
# from Maven Central artifacts by scripts/kafka-up). ARKIV_KAFKA_CONTROL (the
# broker's state folder) lets the broker-restart test stop and start it.
integration-kafka:
	./scripts/kafka-up --port $(KAFKA_PORT) --fresh >/tmp/arkiv-kafka-up.log 2>&1 || { cat /tmp/arkiv-kafka-up.log; exit 1; }
	ARKIV_KAFKA_BROKERS=127.0.0.1:$(KAFKA_PORT) ARKIV_KAFKA_CONTROL=$${ARKIV_KAFKA_HOME:-$(CURDIR)/.cache/kafka}/run/$(KAFKA_PORT) $(GO) test -count=1 -timeout 15m -run 'Integration|EndToEnd|Crash|ScaleOut|Kafka' ./pipeline/ ; status=$$?; ./scripts/kafka-down --port $(KAFKA_PORT); exit $$status

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

demo:
	$(GO) run ./cmd/arkiv demo

clean:
	rm -rf bin
