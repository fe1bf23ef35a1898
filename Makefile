# gcml — build, test, benchmark, and (see pipelines/) run the pipeline.
# `make help` lists the targets.

SWIFT      ?= swift
CONFIG     ?= release
BIN        := .build/$(CONFIG)
PLUGIN_DIR := $(CURDIR)/plugins
PLUGIN     := $(PLUGIN_DIR)/libh5zstd_gcml.so
SOURCES    := $(shell find Sources -type f 2>/dev/null) Package.swift

.PHONY: help deps build plugin test bench clean schemas

help:
	@echo "gcml make targets:"
	@echo "  make deps     install the Debian packages gcml needs (idempotent; root or sudo)"
	@echo "  make build    build all stages ($(CONFIG)) into $(BIN)/"
	@echo "  make plugin   build the zstd HDF5 filter plugin for h5dump/h5py ($(PLUGIN))"
	@echo "  make test     deps + build + every test"
	@echo "  make bench    benchmarks, printing numbers (and peers' when Python tools are present)"
	@echo "  make schemas  regenerate data-schema/*.json from the code's contract"

deps:
	@bash scripts/install-deps.sh

$(BIN)/.built: $(SOURCES)
	@bash scripts/install-deps.sh
	$(SWIFT) build -c $(CONFIG)
	@touch $@

build: $(BIN)/.built

# The same filter code the library registers, built as an HDF5 dynamic plugin.
$(PLUGIN): Sources/GCMLShim/zstd_filter.c Sources/GCMLShim/include/gcml_shim.h
	@bash scripts/install-deps.sh
	@mkdir -p $(PLUGIN_DIR)
	cc -O2 -shared -fPIC -DGCML_BUILD_PLUGIN -ISources/GCMLShim/include $$(pkg-config --cflags hdf5 libzstd) \
	  -o $@ $< $$(pkg-config --libs hdf5 libzstd)

plugin: $(PLUGIN)

test: build plugin
	@bash scripts/install-deps.sh --python
	$(SWIFT) build -c $(CONFIG) --build-tests
	GCML_PLUGIN_DIR=$(PLUGIN_DIR) GCML_REQUIRE_PYTHON=1 GCML_QUIET=1 $(SWIFT) test -c $(CONFIG) --skip-build

bench: build plugin
	@bash scripts/install-deps.sh --python
	GCML_PLUGIN_DIR=$(PLUGIN_DIR) $(BIN)/gcml-bench all

schemas: build
	@for kind in frames pca features graph tree triplets model embeddings truth eval.retrieval eval.annotation; do \
	  $(BIN)/gcml-check --print-schema $$kind > data-schema/$$kind.json; done

clean:
	rm -rf .build plugins
