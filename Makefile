# Entry points for users and CI. `make help` lists them.
SHELL := /bin/bash
.DEFAULT_GOAL := help

NODE_MODULES_STAMP := node_modules/.package-lock.json
ITEST := node integration-tests/dist/cli.js
SCENARIOS := basic_workflow login_errors sticky_session stream_subscription \
  stream_subscription_myservice_stop session_transfer myservice_authentication_errors \
  myservice_shutdown_errors no_instances_available system_overload \
  gateway_error_unauthenticated gateway_error_unavailable
# One folder of examples/ each (examples/README.md); make example_<name> runs its demo.
EXAMPLES := api-key-auth static-file-discovery dns-discovery least-requests-balancer weighted-cluster \
  rs256-validator new-service-by-config
# vitest reporter options; .ci/run sets VITEST_JSON to collect counts.
VITEST_REPORT := $(if $(VITEST_JSON),--reporter=default --reporter=json --outputFile.json=$(VITEST_JSON),)

.PHONY: help install deps build lint format typecheck knip test test_proto test_servicekit test_testkit test_auth test_discoverer \
  test_myservice test_mygateway test_examples test_integrationtests itest up down bench fuzz conformance soak clean \
  $(addprefix itest_,$(SCENARIOS)) itest_myservice_auth_errors $(addprefix example_,$(EXAMPLES))

help: ## List the targets
	@echo "Usage: make <target>"
	@echo
	@awk 'BEGIN {FS = ":.*## "} /^[a-zA-Z0-9_%-]+:.*## / {printf "  %-44s %s\n", $$1, $$2}' $(MAKEFILE_LIST)
	@echo
	@echo "  itest_<scenario> for each of:"
	@for s in $(SCENARIOS); do echo "    itest_$$s"; done
	@echo "    (itest_myservice_auth_errors is the reference's name for itest_myservice_authentication_errors)"
	@echo
	@echo "  example_<name>: a short demo of one extension example that exits by itself (examples/README.md), for each of:"
	@for e in $(EXAMPLES); do echo "    example_$$e"; done

$(NODE_MODULES_STAMP): package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

install: $(NODE_MODULES_STAMP) ## Install npm packages (npm ci) and redis-server if missing
	@scripts/ensure-system-deps.sh

deps: install

build: $(NODE_MODULES_STAMP) ## Compile every workspace to dist/
	npx tsc -b tsconfig.build.json

lint: $(NODE_MODULES_STAMP) ## Format and lint check (Biome)
	npx biome check .

format: $(NODE_MODULES_STAMP) ## Format and fix lint findings in place
	npx biome check --write .

typecheck: build ## Typecheck every workspace, tests included
	node scripts/typecheck.mjs

knip: $(NODE_MODULES_STAMP) ## Unused files, exports and dependencies in every workspace (knip.jsonc)
	npx knip

test: install lint typecheck knip ## Everything CI runs: lint, typecheck, unused code, unit, component and end-to-end tests
	npx vitest run $(VITEST_REPORT)

test_proto: install build ## Tests of the proto workspace
	npx vitest run --project proto

test_servicekit: install build ## Tests of servicekit (config schemas, ConfigError, the shared service runtime)
	npx vitest run --project servicekit

test_testkit: install build ## Tests of testkit (managed processes, fake discoverer, YAML builder, redis)
	npx vitest run --project testkit

test_auth: install build ## Tests of the auth service
	npx vitest run --project auth

test_discoverer: install build ## Tests of the discoverer
	npx vitest run --project discoverer

test_myservice: install build ## Tests of the worker service
	npx vitest run --project service

test_mygateway: install build ## Tests of the gateway
	npx vitest run --project gateway

test_examples: install build ## Tests of the extension examples (each runs its demo end to end with real processes)
	npx vitest run --project examples

$(addprefix example_,$(EXAMPLES)): example_%: install build
	node examples/dist/$*/demo.js

test_integrationtests: install build ## The end-to-end suite (each scenario on a fresh local stack)
	npx vitest run --project integration-tests --project scale-out

itest: install build ## Run all twelve scenarios through the CLI, each on a fresh stack
	$(ITEST) --all

$(addprefix itest_,$(SCENARIOS)): itest_%: install build
	$(ITEST) $*

itest_myservice_auth_errors: install build
	$(ITEST) myservice_authentication_errors

up: install build ## Run the full stack in the foreground (Docker Compose if an engine answers, else local processes; GATEWAYS=N local gateway replicas)
	node integration-tests/dist/up.js

down: ## Stop a stack started in the background by `make up`
	node integration-tests/dist/down.js

bench: install build ## Benchmarks of the gateway against nginx, haproxy and a naive node:http2 proxy
	@scripts/ensure-system-deps.sh bench
	node bench/dist/run.js

fuzz: install ## Seeded HTTP/2 fuzzer against the gateway's HTTP/2 layer, both roles (FUZZ_SECONDS, default 300; FUZZ_SEED to replay)
	npx tsx gateway/src/h2/fuzz/fuzz-runner.ts --seconds $${FUZZ_SECONDS:-300} $${FUZZ_SEED:+--seed $$FUZZ_SEED}

conformance: install build ## The HTTP/2 conformance suite (146 cases) against a gateway you run: make conformance H2_TARGET=127.0.0.1:10000
	npx tsx gateway/src/h2/conformance/run-conformance.ts --host $${H2_TARGET%:*} --port $${H2_TARGET##*:}

soak: install build ## Mixed load with chaos for a few minutes (SOAK_SECONDS to change; SOAK_GATEWAYS=3 for replicas over Redis with gateway kills and Redis restarts)
	node integration-tests/dist/soak.js

clean: ## Remove build output
	rm -rf */dist */*.tsbuildinfo
