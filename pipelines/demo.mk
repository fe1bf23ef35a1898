# Demo pipeline (the default of `make all`): ~20 000 synthetic videos with
# uint8 frames, the paper's sizes where they fit a 2-core machine in minutes.
DATA             ?= data/demo
SYNTH_ARGS       ?= --profile demo
PCA_ARGS         ?= --dim 1500
GRAPH_ARGS       ?= --window 5 --holdout-nodes 0.1 --holdout-edges 0.1
TREE_ARGS        ?= --levels 3
TRIPLET_COUNT    ?= 400000
TRIPLET_ARGS     ?= --level 1
TRAIN_ARGS       ?= --batch-size 256 --steps 1500 --validate-every 500 --validate-at log --validate-full-corpus --log-every 50
CLASSIFY_LEVEL   ?= 1
CLASSIFY_ARGS    ?= --batch-size 256 --steps 1500 --validate-every 500 --validate-at log --validate-full-corpus --log-every 50
EVAL_ARGS        ?= --k 60 --negatives 100
GAP_ARGS         ?= --epochs 30
# make ablation (ablation.mk): 60 runs, 3 seeds each, about an hour on 2 cores. Shortened against make all:
# 300 steps instead of 1500, and a smaller model (hidden 128, audio 32, dim 64 instead of 1024, 256, 256).
ABLATION_BATCH          ?= 256
ABLATION_STEPS          ?= 300
ABLATION_TRIPLET_COUNT  ?= 200000
ABLATION_TRAIN_ARGS     ?= --hidden 128 --audio-hidden 32 --dim 64 --validate-every 500 --validate-at log --validate-full-corpus --log-every 25
ABLATION_CLASSIFY_BATCH ?= 256
ABLATION_SAMPLED        ?= 64
ABLATION_FULL_EVAL_ARGS ?= --queries heldout-nodes
ABLATION_NOTE           ?= Training shortened to 300 steps per run (make all: 1500) with a smaller model (hidden 128, audio hidden 32, dim 64; make all: 1024, 256, 256). MAP (full corpus) is over the cold-start (held-out node) queries only (about 2 000 instead of 20 000 queries, to fit the hour).
