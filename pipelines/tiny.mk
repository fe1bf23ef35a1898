# Tiny pipeline: ~2 000 synthetic videos, seconds end to end. Used by tests and CI.
DATA             ?= data/tiny
SYNTH_ARGS       ?= --profile tiny --quantize uint8
PCA_ARGS         ?= --dim 64
GRAPH_ARGS       ?= --window 5 --holdout-nodes 0.1 --holdout-edges 0.1
TREE_ARGS        ?= --levels 3
TRIPLET_COUNT    ?= 20000
TRIPLET_ARGS     ?= --level 1
TRAIN_ARGS       ?= --hidden 128 --audio-hidden 32 --dim 32 --batch-size 64 --steps 300 --validate-every 100 --validate-at log --validate-full-corpus --log-every 25
CLASSIFY_LEVEL   ?= 1
CLASSIFY_ARGS    ?= --hidden 128 --audio-hidden 32 --dim 32 --batch-size 128 --steps 300 --validate-every 100 --validate-at log --validate-full-corpus --log-every 25
EVAL_ARGS        ?= --k 60 --negatives 100
GAP_ARGS         ?= --epochs 20
# make ablation (ablation.mk): 60 runs of 300 steps, 3 seeds each; about 10 minutes on 2 cores.
ABLATION_BATCH          ?= 64
ABLATION_STEPS          ?= 300
ABLATION_TRAIN_ARGS     ?= --hidden 128 --audio-hidden 32 --dim 32 --validate-every 100 --validate-at log --validate-full-corpus --log-every 25
ABLATION_CLASSIFY_BATCH ?= 128
ABLATION_SAMPLED        ?= 16
ABLATION_NOTE           ?= Training as in make all (300 steps, the same model); nothing shortened.
