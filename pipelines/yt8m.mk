# YouTube-8M: point these at your shards and your interaction data, e.g.
#   make all PIPELINE=yt8m YT8M_SHARDS='/data/yt8m/frame/train*.tfrecord' SESSIONS=/data/cowatch/sessions.tsv
# YouTube-8M ships no co-watch data: SESSIONS (or PAIRS) must come from your own logs.
# rgb is already PCA'd to 1024 by Google, so PCA keeps 1024 dims (see README, "Running on YouTube-8M").
DATA             ?= data/yt8m
SYNTHETIC        ?= no
YT8M_SHARDS      ?= $(DATA)/frame/train*.tfrecord
SESSIONS         ?= $(DATA)/sessions.tsv
FRAMES_INPUT     ?= --tfrecord '$(YT8M_SHARDS)'
FEATURES_INPUTS  ?= $(wildcard $(YT8M_SHARDS))
PCA_ARGS         ?= --num-classes 3862
GRAPH_ARGS       ?= --window 5 --holdout-nodes 0.1 --holdout-edges 0.1 --min-weight 2
TREE_ARGS        ?= --levels 3 --max-cluster-size 100000
TRIPLET_COUNT    ?= 100000000
TRIPLET_ARGS     ?= --level-mix 0.2,0.3,0.5
TRAIN_ARGS       ?= --batch 256 --epochs 1 --validate-every 5000 --log-every 500 --checkpoint-every 5000
CLASSIFY_LEVEL   ?= 2
CLASSIFY_ARGS    ?= --batch 1024 --epochs 1 --sampled 2048 --validate-every 5000 --log-every 500 --checkpoint-every 5000
EVAL_ARGS        ?= --k 60 --negatives 100
GAP_ARGS         ?= --epochs 10
