# execwatch — the commands the README documents.
SWIFT ?= swift
BIN_DEBUG = .build/debug

.PHONY: all deps build release run deb test test-systemd test-suites lint bench soak fixture clean fuzz fuzz-brief

all: build

deps:
	scripts/install-deps.sh build test

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product execwatch
	$(SWIFT) build -c release --product execwatch-collector

# A collector and an agent forwarding to it, on this machine, until Ctrl-C (root; see
# scripts/run-local.sh: local CA and certificates made on first use, state in .run/).
# Ports: RUN_PORT (collector, 8443), RUN_METRICS_PORT (agent metrics, 9466), checked before building.
run:
	scripts/run-local.sh

# Debian packages execwatch and execwatch-collector in dist/: release, Swift runtime linked
# statically (.build-static), stripped; see scripts/build-deb.sh and packaging/.
deb:
	scripts/install-deps.sh build deb
	scripts/build-deb.sh

# The packages under a real systemd: a Debian 12 guest booted with qemu (KVM when it works),
# both .debs installed, enabled, reloaded, restarted, SIGKILLed, reinstalled and purged (root;
# not part of `test` nor CI; see scripts/test-systemd.sh). Builds the packages first.
test-systemd:
	scripts/test-systemd.sh

# The whole suite: unit, conformance and live-kernel tests (storage tests also against a private
# PostgreSQL cluster started here), the command line end to end, the agent in every source mode
# (root: real audit, real auditd, real netcat), then agents forwarding to collectors over real TLS.
test: deps lint
	$(SWIFT) build --build-tests
	scripts/postgres-for-tests.sh start
	status=0; $(MAKE) test-suites || status=$$?; scripts/postgres-for-tests.sh stop; exit $$status

# What `make test` runs while its PostgreSQL cluster is up (stopped and removed afterwards, pass or
# fail, so the host is left as found).
# The Swift tests run one at a time: in parallel, Swift Testing's pool has as many threads as
# CPUs (two here), and the many synchronous tests held both for tens of seconds, so tests that
# wait on real timers (forwarding retries, request timeouts) ran out of time now and then
# (one run in three; about 45 s serially against 20-80 s in parallel).
test-suites:
	EXECWATCH_TEST_POSTGRES_URL="$$(scripts/postgres-for-tests.sh url)" $(SWIFT) test --skip-build --no-parallel
	Tests/cli/test-cli.sh $(BIN_DEBUG)/execwatch
	Tests/live/test-live.sh $(BIN_DEBUG)/execwatch
	Tests/sigma/test-sigma.sh $(BIN_DEBUG)/execwatch
	EXECWATCH_TEST_POSTGRES_URL="$$(scripts/postgres-for-tests.sh url)" \
		Tests/collector/test-collector.sh $(BIN_DEBUG)/execwatch $(BIN_DEBUG)/execwatch-collector
	$(MAKE) fuzz-brief

# libFuzzer on every parser of outside input (Fuzz/, scripts/fuzz.sh): FUZZ_SECONDS per target;
# the corpus, crashes and logs go to FUZZ_WORK_DIR (default /var/tmp/execwatch-fuzz).
FUZZ_SECONDS ?= 300
fuzz:
	scripts/fuzz.sh $(FUZZ_SECONDS)

# The same, briefly: the last step of `make test`.
fuzz-brief:
	scripts/fuzz.sh 15

# Formatting as .swift-format says (swift-format ships with the toolchain).
lint:
	$(SWIFT) format lint --strict --recursive Sources Tests Fuzz Package.swift

bench: deps
	scripts/bench-replay.sh

# An hour of 1000 exec/s and an nc a second with the collector restarted and killed and the agent
# killed, then PASS/FAIL checks, a CSV and a plot (root; not in `make test`; see scripts/soak.sh).
# SOAK_SECONDS=600 make soak for a shorter run.
soak: deps
	scripts/soak.sh

# Re-record Tests/Fixtures/audit from this machine's kernel (root, no auditd running).
fixture:
	scripts/capture-audit-fixture.sh

clean:
	rm -rf .build .build-static .build-fuzz dist
