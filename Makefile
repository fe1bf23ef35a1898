# gcml — build, test, benchmark, and (see pipelines/) run the pipeline.
# `make help` lists the targets.

SWIFT      ?= swift
CONFIG     ?= release
BIN        := .build/$(CONFIG)
PLUGIN_DIR := $(CURDIR)/plugins
PLUGIN     := $(PLUGIN_DIR)/libh5zstd_gcml.so
SOURCES    := $(shell find Sources -type f 2>/dev/null) Package.swift

.PHONY: help deps build plugin test fuzz bench clean schemas all corpus features graph tree triplets train eval report

.DEFAULT_GOAL := all

# ---------------------------------------------------------------- pipeline
# `make all` runs the whole pipeline of pipelines/$(PIPELINE).mk into runs/$(PIPELINE)/.
# Every program and every intermediate is a variable, so a stage can be swapped
# (AFFINITY_TREE=/opt/other/affinity-tree) or an artifact supplied (TREE=/data/tree.h5).
PIPELINE ?= demo
include pipelines/$(PIPELINE).mk
RUN      ?= runs/$(PIPELINE)
SEED     ?= 1
THREADS  ?= 2
# Launcher prefix of the distributed stages (docs/cluster.md), e.g. LAUNCH='mpirun -np 4' or
# LAUNCH='srun --mpi=pmix'; empty = one process each, as always.
LAUNCH   ?=

GCML_SYNTH      ?= $(BIN)/gcml-synth
EXTRACT_PCA     ?= $(BIN)/extract-pca
BUILD_GRAPH     ?= $(BIN)/build-graph
AFFINITY_TREE   ?= $(BIN)/affinity-tree
SAMPLE_TRIPLETS ?= $(BIN)/sample-triplets
TRAIN_EMBED     ?= $(BIN)/train-embed
EVAL_MAP_NDCG   ?= $(BIN)/eval-map-ndcg
EVAL_GAP        ?= $(BIN)/eval-gap
GCML_REPORT     ?= $(BIN)/gcml-report
GCML_CHECK      ?= $(BIN)/gcml-check

SYNTHETIC       ?= yes
FRAMES          ?= $(DATA)/frames.h5
SESSIONS        ?= $(DATA)/sessions.tsv
# Co-watch input of build-graph: SESSIONS, or aggregated pairs (a<TAB>b[<TAB>weight]) when PAIRS is set.
PAIRS           ?=
INTERACTIONS     = $(if $(PAIRS),$(PAIRS),$(SESSIONS))
INTERACTIONS_ARG = $(if $(PAIRS),--pairs $(PAIRS),--sessions $(SESSIONS))
TRUTH           ?= $(if $(filter yes,$(SYNTHETIC)),$(DATA)/truth.h5,)
FRAMES_INPUT    ?= --frames $(FRAMES)
FEATURES_INPUTS ?= $(FRAMES)
# Fit a PCA and save it, or (nightly: PCA_MODE='--pca $(PCA_MODEL)') apply a published one.
PCA_MODE        ?= --save-pca $(PCA_MODEL)
PCA_MODEL       ?= $(RUN)/pca.h5
FEATURES        ?= $(RUN)/features.h5
GRAPH           ?= $(RUN)/graph.h5
TREE            ?= $(RUN)/tree.h5
TRIPLETS_SMART  ?= $(RUN)/triplets-smart.h5
TRIPLETS_RANDOM ?= $(RUN)/triplets-random.h5
METHODS         ?= gcml cdml cluster raw
REPORT          ?= $(RUN)/report.md

STAGE_PROGRAMS := $(GCML_SYNTH) $(EXTRACT_PCA) $(BUILD_GRAPH) $(AFFINITY_TREE) $(SAMPLE_TRIPLETS) \
                  $(TRAIN_EMBED) $(EVAL_MAP_NDCG) $(EVAL_GAP) $(GCML_REPORT) $(GCML_CHECK)
# Our own programs come from the build; an override (another team's program) is used as it is.
# Order-only: the build runs when sources changed, and a program counts as new only when
# swift build actually relinked it (so `make -q all` right after a build is still accurate).
$(filter $(BIN)/%,$(STAGE_PROGRAMS)): | $(BIN)/.built
	@:

all: report

ifeq ($(SYNTHETIC),yes)
# Generated once when absent; the corpus is input data, not rebuilt when the generator changes.
$(FRAMES) $(SESSIONS) $(TRUTH) &: | $(GCML_SYNTH)
	$(GCML_SYNTH) $(SYNTH_ARGS) --seed $(SEED) --out $(DATA)
endif
corpus: $(FEATURES_INPUTS) $(INTERACTIONS)

$(FEATURES) $(PCA_MODEL) &: $(FEATURES_INPUTS) $(EXTRACT_PCA)
	$(LAUNCH) $(EXTRACT_PCA) $(FRAMES_INPUT) --out $(FEATURES) $(PCA_MODE) $(PCA_ARGS) --threads $(THREADS) --seed $(SEED)
features: $(FEATURES)

$(GRAPH): $(FEATURES) $(INTERACTIONS) $(BUILD_GRAPH)
	$(LAUNCH) $(BUILD_GRAPH) --features $(FEATURES) $(INTERACTIONS_ARG) --out $@ $(GRAPH_ARGS) --threads $(THREADS) --seed $(SEED)
graph: $(GRAPH)

$(TREE): $(GRAPH) $(AFFINITY_TREE)
	$(LAUNCH) $(AFFINITY_TREE) --graph $(GRAPH) --out $@ $(TREE_ARGS) --threads $(THREADS)
tree: $(TREE)

$(TRIPLETS_SMART): $(GRAPH) $(TREE) $(SAMPLE_TRIPLETS)
	$(LAUNCH) $(SAMPLE_TRIPLETS) --graph $(GRAPH) --tree $(TREE) --out $@ --strategy smart --count $(TRIPLET_COUNT) $(TRIPLET_ARGS) --seed $(SEED) --threads $(THREADS)
$(TRIPLETS_RANDOM): $(GRAPH) $(TREE) $(SAMPLE_TRIPLETS)
	$(LAUNCH) $(SAMPLE_TRIPLETS) --graph $(GRAPH) --tree $(TREE) --out $@ --strategy random --count $(TRIPLET_COUNT) --seed $(SEED) --threads $(THREADS)
triplets: $(TRIPLETS_SMART) $(TRIPLETS_RANDOM)

# Training: GCML (smart triplets), CDML (random triplets), cluster-label classification.
$(RUN)/gcml/model.h5 $(RUN)/gcml/embeddings.h5 &: $(FEATURES) $(TRIPLETS_SMART) $(GRAPH) $(TRAIN_EMBED)
	$(LAUNCH) $(TRAIN_EMBED) --features $(FEATURES) --triplets $(TRIPLETS_SMART) --out $(RUN)/gcml/model.h5 --embeddings $(RUN)/gcml/embeddings.h5 --validate $(GRAPH) $(TRAIN_ARGS) --threads $(THREADS) --seed $(SEED)
$(RUN)/cdml/model.h5 $(RUN)/cdml/embeddings.h5 &: $(FEATURES) $(TRIPLETS_RANDOM) $(GRAPH) $(TRAIN_EMBED)
	$(LAUNCH) $(TRAIN_EMBED) --features $(FEATURES) --triplets $(TRIPLETS_RANDOM) --out $(RUN)/cdml/model.h5 --embeddings $(RUN)/cdml/embeddings.h5 --validate $(GRAPH) $(TRAIN_ARGS) --threads $(THREADS) --seed $(SEED)
$(RUN)/cluster/model.h5 $(RUN)/cluster/embeddings.h5 &: $(FEATURES) $(TREE) $(GRAPH) $(TRAIN_EMBED)
	$(LAUNCH) $(TRAIN_EMBED) --features $(FEATURES) --tree $(TREE) --classify-level $(CLASSIFY_LEVEL) --out $(RUN)/cluster/model.h5 --embeddings $(RUN)/cluster/embeddings.h5 --validate $(GRAPH) $(CLASSIFY_ARGS) --threads $(THREADS) --seed $(SEED)
TRAINED := $(filter-out raw,$(METHODS))
train: $(foreach m,$(TRAINED),$(RUN)/$(m)/embeddings.h5)

# Evaluation of every method the same way; raw = the PCA features, no training.
vectors_file = $(if $(filter raw,$(1)),$(FEATURES),$(RUN)/$(1)/embeddings.h5)
vectors_spec = $(if $(filter raw,$(1)),$(FEATURES):/visual,$(RUN)/$(1)/embeddings.h5)
define EVALUATION
$(RUN)/$(1)/retrieval.h5: $(call vectors_file,$(1)) $(GRAPH) $(EVAL_MAP_NDCG)
	@mkdir -p $(RUN)/$(1)
	$(LAUNCH) $(EVAL_MAP_NDCG) --vectors $(call vectors_spec,$(1)) --graph $(GRAPH) --out $$@ $(EVAL_ARGS) --threads $(THREADS) --seed $(SEED)
$(RUN)/$(1)/retrieval-all.h5: $(call vectors_file,$(1)) $(GRAPH) $(EVAL_MAP_NDCG)
	@mkdir -p $(RUN)/$(1)
	$(LAUNCH) $(EVAL_MAP_NDCG) --vectors $(call vectors_spec,$(1)) --graph $(GRAPH) --out $$@ --candidates all $(EVAL_ARGS) --threads $(THREADS) --seed $(SEED)
$(RUN)/$(1)/annotation.h5: $(call vectors_file,$(1)) $(FEATURES) $(EVAL_GAP)
	@mkdir -p $(RUN)/$(1)
	$(LAUNCH) $(EVAL_GAP) --vectors $(call vectors_spec,$(1)) --labels $(FEATURES) --out $$@ $(GAP_ARGS) --threads $(THREADS) --seed $(SEED)
endef
$(foreach m,$(METHODS),$(eval $(call EVALUATION,$(m))))
EVALUATIONS := $(foreach m,$(METHODS),$(RUN)/$(m)/retrieval.h5 $(RUN)/$(m)/retrieval-all.h5 $(RUN)/$(m)/annotation.h5)
eval: $(EVALUATIONS)

$(REPORT): $(EVALUATIONS) $(TREE) $(TRUTH) $(GCML_REPORT)
	$(GCML_REPORT) --run-dir $(RUN) --out $@ --tree $(TREE) $(if $(TRUTH),--truth $(TRUTH),) --title "gcml — $(PIPELINE) pipeline"
	@echo "report: $@"
report: $(REPORT)

include ablation.mk

help:
	@echo "gcml make targets:"
	@echo "  make all      the whole pipeline (PIPELINE=$(PIPELINE): pipelines/$(PIPELINE).mk) into $(RUN)/, then the report"
	@echo "  make corpus features graph tree triplets train eval report   one stage (and what it needs)"
	@echo "  make deps     install the Debian packages gcml needs (idempotent; root or sudo)"
	@echo "  make build    build all stages ($(CONFIG)) into $(BIN)/"
	@echo "  make plugin   build the zstd HDF5 filter plugin for h5dump/h5py ($(PLUGIN))"
	@echo "  make test     deps + build + every test"
	@echo "  make fuzz     libFuzzer targets (lines, tfrecord, artifact), FUZZ_SECONDS each (default 600)"
	@echo "  make bench    benchmarks, printing numbers (and peers' when Python tools are present)"
	@echo "  make schemas  regenerate data-schema/*.json from the code's contract"
	@echo "  make ablation repeated runs (3 seeds) over batch size, negative level, mining, cluster labels → $(RUN)/ablation/report.md"
	@echo ""
	@echo "Variables (override on the command line, e.g. make all PIPELINE=tiny TREE=/data/tree.h5):"
	@echo "  PIPELINE RUN DATA SEED THREADS METHODS"
	@echo "  LAUNCH        launcher of the distributed stages, e.g. LAUNCH='mpirun -np 4' (docs/cluster.md)"
	@echo "  programs:      GCML_SYNTH EXTRACT_PCA BUILD_GRAPH AFFINITY_TREE SAMPLE_TRIPLETS TRAIN_EMBED EVAL_MAP_NDCG EVAL_GAP GCML_REPORT"
	@echo "  inputs:        FRAMES SESSIONS PAIRS (instead of sessions) TRUTH; yt8m: YT8M_SHARDS YT8M_LEVEL YT8M_CLASSES TFRECORD_ARGS"
	@echo "  intermediates: PCA_MODEL FEATURES GRAPH TREE TRIPLETS_SMART TRIPLETS_RANDOM REPORT"
	@echo "  stage options: SYNTH_ARGS PCA_ARGS GRAPH_ARGS TREE_ARGS TRIPLET_COUNT TRIPLET_ARGS TRAIN_ARGS CLASSIFY_LEVEL CLASSIFY_ARGS EVAL_ARGS GAP_ARGS"
	@echo "  ablation:      ABLATION ABLATION_SEEDS ABLATION_BATCHES ABLATION_BATCH ABLATION_LEVELS ABLATION_STEPS ABLATION_TRIPLET_COUNT"
	@echo "                 ABLATION_TRAIN_ARGS ABLATION_CLASSIFY_BATCH ABLATION_CLASSIFY_ARGS ABLATION_SAMPLED ABLATION_JOBS"

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
	FUZZ_CI=1 bash scripts/fuzz.sh $(FUZZ_CI_TARGETS)

# libFuzzer targets (docs/reliability.md): `make fuzz` runs each for FUZZ_SECONDS from a random seed;
# `make test` runs every target for a fixed number of runs from seed 1 (7–16 s each here, scripts/fuzz.sh),
# so CI repeats (nearly) what was explored before a commit instead of a new random draw each time.
FUZZ_SECONDS    ?= 600
FUZZ_CI_TARGETS ?= lines tfrecord artifact
fuzz:
	@bash scripts/install-deps.sh --python
	FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/fuzz.sh

bench: build plugin
	@bash scripts/install-deps.sh --bench
	GCML_PLUGIN_DIR=$(PLUGIN_DIR) $(BIN)/gcml-bench all

schemas: build
	@for kind in frames pca features graph tree triplets model embeddings truth eval.retrieval eval.annotation; do \
	  $(BIN)/gcml-check --print-schema $$kind > data-schema/$$kind.json; done

clean:
	rm -rf .build plugins
