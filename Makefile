# hark: `make demo` and `make test` work on a fresh Debian machine as root.
SHELL := /bin/bash
.DEFAULT_GOAL := help
export ONNXRUNTIME_NODE_INSTALL := skip

.PHONY: help system-deps install build build-ts build-native test soak lint demo bench clean

help:
	@echo "make demo   install what is missing, build, start hark with demo sensors"
	@echo "make test   install what is missing, build, run every test suite"
	@echo "make soak   the long reliability runs: overload (SOAK_SENSORS=48 for SOAK_SECONDS=60), 200k-message fuzz,"
	@echo "            the demo's alerts over 10 minutes of its sound at 4x"
	@echo "make bench  run the benchmarks and update BENCHMARKS.md"

system-deps:
	@bash scripts/install-system-deps.sh

# npm ci only when the lock file changed since the last install.
node_modules/.package-lock.json: package-lock.json package.json
	npm ci
	@touch $@

install: system-deps node_modules/.package-lock.json

# The FAISS addon, rebuilt only when its sources change.
ADDON := native/build/Release/hark_faiss.node
$(ADDON): native/binding.gyp $(wildcard native/src/addon/*.cc native/src/addon/*.h) | install
	npm run build:addon -w @hark/native

build-native: install $(ADDON)

build-ts: install
	npm run build

build: build-native build-ts

test: build
	@npm test --silent

# Long reliability runs, not part of `make test`: 3x the sustainable sensors (BENCHMARKS.md's pipeline bench,
# 16 here) for a minute, then back to 16; the protocol fuzzer with 200,000 messages; 100 model mutations; the
# demo at 4x for 10 minutes of its sound, checking that alerts do not pile up (test/soak/demo-alerts.soak.ts).
SOAK_SUSTAINABLE ?= 16
SOAK_SENSORS ?= $(shell echo $$((3 * $(SOAK_SUSTAINABLE))))
SOAK_SECONDS ?= 60
soak: build
	HARK_SOAK_SUSTAINABLE=$(SOAK_SUSTAINABLE) HARK_SOAK_SENSORS=$(SOAK_SENSORS) HARK_SOAK_SECONDS=$(SOAK_SECONDS) \
		npx vitest run --config vitest.soak.config.ts

lint: install
	npm run lint

demo: build
	bash scripts/demo.sh

bench: build
	npx hark bench dsp
	npx hark bench knn

clean:
	npm run clean
	rm -rf native/build
