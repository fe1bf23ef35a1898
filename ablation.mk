# `make ablation`: the paper's claims over repeated runs (included by the Makefile).
# Every run trains with the pipeline's features, graph and tree (built by `make all` rules), its own
# triplets (sampled with the run's seed) and its own training seed; evaluation candidates use $(SEED),
# so seeds are paired on the same evaluation; validation queries likewise use $(SEED) (--validate-seed). Output: $(ABLATION)/report.md, report.json, SVG plots.
# The pipeline file sets the sizes (ABLATION_* variables); the defaults below are the tiny ones.
#
# Experiments (runs shared between experiments are trained once):
#   batch     batch size ABLATION_BATCHES × {GCML (level-1 sibling negatives), CDML (random negatives)}
#   negatives sibling negatives at tree level 1, 2, 3 and random, at ABLATION_BATCH
#   mining    semi-hard in-batch mining on vs off (pre-sampled negatives only), GCML and CDML
#   cluster   cluster classification, labels from level 1, 2, 3, sampled (ABLATION_SAMPLED) vs full softmax

ABLATION               ?= $(RUN)/ablation
ABLATION_SEEDS         ?= 1 2 3
ABLATION_BATCHES       ?= 32 64 128 256 512
ABLATION_BATCH         ?= 64
ABLATION_LEVELS        ?= 1 2 3
ABLATION_STEPS         ?= 300
ABLATION_TRIPLET_COUNT ?= $(TRIPLET_COUNT)
ABLATION_TRAIN_ARGS    ?= --hidden 128 --audio-hidden 32 --dim 32 --validate-every 50 --validate-at log --validate-full-corpus --log-every 25
ABLATION_CLASSIFY_BATCH ?= 128
ABLATION_CLASSIFY_ARGS ?= $(ABLATION_TRAIN_ARGS)
ABLATION_SAMPLED       ?= 16
ABLATION_EVAL_ARGS     ?= $(EVAL_ARGS)
# Extra options of the full-corpus evaluation (the demo ranks its ~20 000 videos for the cold-start queries only).
ABLATION_FULL_EVAL_ARGS ?=
ABLATION_JOBS          ?= 2
ABLATION_NOTE          ?= Training shortened to $(ABLATION_STEPS) steps per run.
GCML_ABLATION_REPORT   ?= $(BIN)/gcml-ablation-report

ABLATION_MANIFEST := $(ABLATION)/manifest.tsv
ABLATION_REPORT   := $(ABLATION)/report.md
ablation_runs     := $(ABLATION)/runs

.PHONY: ablation ablation-runs ablation-manifest-check

$(filter $(BIN)/%,$(GCML_ABLATION_REPORT)): | $(BIN)/.built
	@:

# Triplets per (negative kind, seed): L1..L3 = siblings at that tree level, random = CDML's.
ablation_triplets = $(ABLATION)/triplets/$(1)-s$(2).h5
define ABLATION_TRIPLETS
$(call ablation_triplets,$(1),$(2)): $(GRAPH) $(TREE) $(SAMPLE_TRIPLETS)
	@mkdir -p $$(@D)
	$(SAMPLE_TRIPLETS) --graph $(GRAPH) --tree $(TREE) --out $$@ --count $(ABLATION_TRIPLET_COUNT) --seed $(2) --threads 1 \
	  $(if $(filter random,$(1)),--strategy random,--strategy smart --level $(patsubst L%,%,$(1)))
endef

# One run's evaluation: sampled candidates and the full corpus, with the pipeline's fixed evaluation seed.
define ABLATION_EVAL
$(ablation_runs)/$(1)/retrieval.h5: $(ablation_runs)/$(1)/embeddings.h5 $(GRAPH) $(EVAL_MAP_NDCG)
	$(EVAL_MAP_NDCG) --vectors $$< --graph $(GRAPH) --out $$@ $(ABLATION_EVAL_ARGS) --seed $(SEED) --threads 1
$(ablation_runs)/$(1)/retrieval-all.h5: $(ablation_runs)/$(1)/embeddings.h5 $(GRAPH) $(EVAL_MAP_NDCG)
	$(EVAL_MAP_NDCG) --vectors $$< --graph $(GRAPH) --out $$@ --candidates all $(ABLATION_EVAL_ARGS) $(ABLATION_FULL_EVAL_ARGS) --seed $(SEED) --threads 1
ABLATION_OUTPUTS += $(ablation_runs)/$(1)/retrieval.h5 $(ablation_runs)/$(1)/retrieval-all.h5
endef

# Triplet run: $(1) negatives (L1, L2, L3, random), $(2) batch, $(3) mining (semihard, none), $(4) seed.
ablation_triplet_run = t-$(1)-b$(2)-$(3)-s$(4)
define ABLATION_TRIPLET_RUN
$(ablation_runs)/$(call ablation_triplet_run,$(1),$(2),$(3),$(4))/model.h5 $(ablation_runs)/$(call ablation_triplet_run,$(1),$(2),$(3),$(4))/embeddings.h5 &: \
    $(FEATURES) $(call ablation_triplets,$(1),$(4)) $(GRAPH) $(TRAIN_EMBED)
	@mkdir -p $$(@D)
	$(TRAIN_EMBED) --features $(FEATURES) --triplets $(call ablation_triplets,$(1),$(4)) --out $$(@D)/model.h5 --embeddings $$(@D)/embeddings.h5 \
	  --validate $(GRAPH) --validate-seed $(SEED) --batch-size $(2) --steps $(ABLATION_STEPS) --mining $(3) $(ABLATION_TRAIN_ARGS) --threads 1 --seed $(4)
$(call ABLATION_EVAL,$(call ablation_triplet_run,$(1),$(2),$(3),$(4)))
endef

# Classification run: $(1) tree level, $(2) sampled or full softmax, $(3) seed.
ablation_cluster_run = c-L$(1)-$(2)-s$(3)
define ABLATION_CLUSTER_RUN
$(ablation_runs)/$(call ablation_cluster_run,$(1),$(2),$(3))/model.h5 $(ablation_runs)/$(call ablation_cluster_run,$(1),$(2),$(3))/embeddings.h5 &: \
    $(FEATURES) $(TREE) $(GRAPH) $(TRAIN_EMBED)
	@mkdir -p $$(@D)
	$(TRAIN_EMBED) --features $(FEATURES) --tree $(TREE) --classify-level $(1) --out $$(@D)/model.h5 --embeddings $$(@D)/embeddings.h5 \
	  --validate $(GRAPH) --validate-seed $(SEED) --batch-size $(ABLATION_CLASSIFY_BATCH) --steps $(ABLATION_STEPS) $(if $(filter sampled,$(2)),--sampled $(ABLATION_SAMPLED),) \
	  $(ABLATION_CLASSIFY_ARGS) --threads 1 --seed $(3)
$(call ABLATION_EVAL,$(call ablation_cluster_run,$(1),$(2),$(3)))
endef

# The set of distinct runs: (negatives, batch, mining) triplet configurations and (level, softmax) cluster ones.
ABLATION_TRIPLET_CONFIGS := $(sort \
  $(foreach b,$(ABLATION_BATCHES),L1:$(b):semihard random:$(b):semihard) \
  $(foreach l,$(ABLATION_LEVELS),L$(l):$(ABLATION_BATCH):semihard) random:$(ABLATION_BATCH):semihard \
  L1:$(ABLATION_BATCH):none random:$(ABLATION_BATCH):none)
ABLATION_CLUSTER_CONFIGS := $(foreach l,$(ABLATION_LEVELS),$(l):sampled $(l):full)
ABLATION_OUTPUTS :=
word_of = $(word $(2),$(subst :, ,$(1)))
$(foreach s,$(ABLATION_SEEDS),$(foreach n,$(sort $(foreach l,$(ABLATION_LEVELS),L$(l)) L1 random),\
  $(eval $(call ABLATION_TRIPLETS,$(n),$(s)))))
$(foreach s,$(ABLATION_SEEDS),$(foreach c,$(ABLATION_TRIPLET_CONFIGS),\
  $(eval $(call ABLATION_TRIPLET_RUN,$(call word_of,$(c),1),$(call word_of,$(c),2),$(call word_of,$(c),3),$(s)))))
$(foreach s,$(ABLATION_SEEDS),$(foreach c,$(ABLATION_CLUSTER_CONFIGS),\
  $(eval $(call ABLATION_CLUSTER_RUN,$(call word_of,$(c),1),$(call word_of,$(c),2),$(s)))))

# The manifest: which run belongs to which experiment, configuration and axis value; which pairs to judge.
manifest_run = printf 'run\t%s\t%s\t%s\t%s\t%s\t%s\n' '$(1)' '$(2)' '$(3)' '$(4)' '$(5)' 'runs/$(6)' >> $@.tmp;
ablation-manifest-check: ;

# Rewritten on every `make ablation` (the variables may differ), replaced only when its text changed.
$(ABLATION_MANIFEST): ablation-manifest-check
	@mkdir -p $(@D)
	@printf '# gcml ablation manifest (written by make ablation PIPELINE=$(PIPELINE))\n' > $@.tmp
	@printf 'note\t%s\n' 'Pipeline $(PIPELINE): $(ABLATION_NOTE) Seeds $(ABLATION_SEEDS) (triplet sampling and training); evaluation seed $(SEED) for every run.' >> $@.tmp
	@printf 'note\t%s\n' 'Triplet runs: $(ABLATION_TRIPLET_COUNT) triplets, train-embed $(ABLATION_TRAIN_ARGS); default batch $(ABLATION_BATCH). Classification: batch $(ABLATION_CLASSIFY_BATCH), sampled softmax with $(ABLATION_SAMPLED) candidates (the full softmax when a level has no more classes than that).' >> $@.tmp
	@printf 'axis\tbatch\tbatch size (triplets per step)\naxis\tnegatives\ttree level of the sibling negatives (random: table only)\naxis\tcluster\ttree level of the cluster labels\n' >> $@.tmp
	@$(foreach s,$(ABLATION_SEEDS),$(foreach b,$(ABLATION_BATCHES),\
	  $(call manifest_run,batch,GCML batch $(b),GCML,$(b),$(s),$(call ablation_triplet_run,L1,$(b),semihard,$(s))) \
	  $(call manifest_run,batch,CDML batch $(b),CDML,$(b),$(s),$(call ablation_triplet_run,random,$(b),semihard,$(s)))))
	@$(foreach b,$(ABLATION_BATCHES),printf 'compare\tbatch\tGCML batch $(b)\tCDML batch $(b)\n' >> $@.tmp;)
	@$(foreach s,$(ABLATION_SEEDS),$(foreach l,$(ABLATION_LEVELS),\
	  $(call manifest_run,negatives,siblings at level $(l),smart,$(l),$(s),$(call ablation_triplet_run,L$(l),$(ABLATION_BATCH),semihard,$(s)))) \
	  $(call manifest_run,negatives,random,random,-,$(s),$(call ablation_triplet_run,random,$(ABLATION_BATCH),semihard,$(s))))
	@$(foreach l,$(ABLATION_LEVELS),printf 'compare\tnegatives\tsiblings at level $(l)\trandom\n' >> $@.tmp;)
	@$(foreach s,$(ABLATION_SEEDS),\
	  $(call manifest_run,mining,GCML mining on,GCML,-,$(s),$(call ablation_triplet_run,L1,$(ABLATION_BATCH),semihard,$(s))) \
	  $(call manifest_run,mining,GCML mining off,GCML,-,$(s),$(call ablation_triplet_run,L1,$(ABLATION_BATCH),none,$(s))) \
	  $(call manifest_run,mining,CDML mining on,CDML,-,$(s),$(call ablation_triplet_run,random,$(ABLATION_BATCH),semihard,$(s))) \
	  $(call manifest_run,mining,CDML mining off,CDML,-,$(s),$(call ablation_triplet_run,random,$(ABLATION_BATCH),none,$(s))))
	@printf 'compare\tmining\tGCML mining on\tGCML mining off\ncompare\tmining\tCDML mining on\tCDML mining off\ncompare\tmining\tGCML mining off\tCDML mining off\n' >> $@.tmp
	@$(foreach s,$(ABLATION_SEEDS),$(foreach l,$(ABLATION_LEVELS),\
	  $(call manifest_run,cluster,level $(l) sampled softmax,sampled softmax,$(l),$(s),$(call ablation_cluster_run,$(l),sampled,$(s))) \
	  $(call manifest_run,cluster,level $(l) full softmax,full softmax,$(l),$(s),$(call ablation_cluster_run,$(l),full,$(s)))))
	@$(foreach l,$(ABLATION_LEVELS),printf 'compare\tcluster\tlevel $(l) sampled softmax\tlevel $(l) full softmax\n' >> $@.tmp;)
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi

ablation-runs: $(ABLATION_OUTPUTS)

$(ABLATION_REPORT): $(ABLATION_MANIFEST) $(ABLATION_OUTPUTS) $(GCML_ABLATION_REPORT)
	$(GCML_ABLATION_REPORT) --manifest $(ABLATION_MANIFEST) --out $@ --title "gcml — $(PIPELINE) ablation"
	@echo "ablation report: $@"

# Runs are independent: ABLATION_JOBS of them at a time, one BLAS thread each.
ablation: | $(BIN)/.built
	$(MAKE) -j$(ABLATION_JOBS) $(ABLATION_REPORT)
