# YouTube-8M: point these at your shards and your interaction data, e.g.
#   make all PIPELINE=yt8m YT8M_SHARDS='/data/yt8m/frame/train*.tfrecord' SESSIONS=/data/cowatch/sessions.tsv
#   make all PIPELINE=yt8m YT8M_SHARDS='/data/yt8m/frame/train*.tfrecord' PAIRS=/data/cowatch/pairs.tsv
# YouTube-8M ships no co-watch data: SESSIONS (or PAIRS) must come from your own logs.
# rgb is already PCA'd to 1024 by Google, so PCA keeps 1024 dims (see README, "Running on YouTube-8M").
# YT8M_LEVEL=video reads video-level shards (mean_rgb, mean_audio) into features.h5 as they are: no PCA.
# Tests/EndToEndTests/Yt8mPipelineTests.swift runs this file end to end on generated shards.
DATA             ?= data/yt8m
SYNTHETIC        ?= no
YT8M_LEVEL       ?= frame
YT8M_SHARDS      ?= $(DATA)/$(YT8M_LEVEL)/train*.tfrecord
YT8M_CLASSES     ?= 3862
# Other corpora of the same shape: --visual-key, --visual-size, --audio-key ... (docs/youtube8m.md).
TFRECORD_ARGS    ?=
SESSIONS         ?= $(DATA)/sessions.tsv
FRAMES_INPUT     ?= --tfrecord '$(YT8M_SHARDS)' --layout $(YT8M_LEVEL) --num-classes $(YT8M_CLASSES) $(TFRECORD_ARGS)
FEATURES_INPUTS  ?= $(wildcard $(YT8M_SHARDS))
ifeq ($(YT8M_LEVEL),video)
PCA_MODE         ?=
PCA_MODEL        ?=
endif
PCA_ARGS         ?=
GRAPH_ARGS       ?= --window 5 --holdout-nodes 0.1 --holdout-edges 0.1 --min-weight 2
TREE_ARGS        ?= --levels 3 --max-cluster-size 100000
TRIPLET_COUNT    ?= 100000000
TRIPLET_ARGS     ?= --level-mix 0.2,0.3,0.5
TRAIN_ARGS       ?= --batch-size 256 --epochs 1 --validate-every 5000 --log-every 500 --checkpoint-every 5000
CLASSIFY_LEVEL   ?= 2
CLASSIFY_ARGS    ?= --batch-size 1024 --epochs 1 --sampled 2048 --validate-every 5000 --log-every 500 --checkpoint-every 5000
EVAL_ARGS        ?= --k 60 --negatives 100
GAP_ARGS         ?= --epochs 10
