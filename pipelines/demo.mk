# Demo pipeline (the default of `make all`): ~20 000 synthetic videos with
# uint8 frames, the paper's sizes where they fit a 2-core machine in minutes.
DATA             ?= data/demo
SYNTH_ARGS       ?= --profile demo
PCA_ARGS         ?= --dim 1500
GRAPH_ARGS       ?= --window 5 --holdout-nodes 0.1 --holdout-edges 0.1
TREE_ARGS        ?= --levels 3
TRIPLET_COUNT    ?= 400000
TRIPLET_ARGS     ?= --level 1
TRAIN_ARGS       ?= --batch 256 --steps 1500 --validate-every 500 --validate-at log --validate-full-corpus --log-every 50
CLASSIFY_LEVEL   ?= 1
CLASSIFY_ARGS    ?= --batch 256 --steps 1500 --validate-every 500 --validate-at log --validate-full-corpus --log-every 50
EVAL_ARGS        ?= --k 60 --negatives 100
GAP_ARGS         ?= --epochs 30
