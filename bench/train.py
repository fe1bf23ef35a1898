#!/usr/bin/env python3
"""PyTorch CPU peer of gcml's train-embed bench (Sources/gcml-bench/TrainBench.swift).

Same model (visual 1500-1024-256, audio 128-256-256, product, L2 normalise), same batch
sizes, Adam. Prints 'RESULT <job> <steps/s>' lines that the Swift bench turns into ratios.
"""
import argparse
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class TwoTower(nn.Module):
    def __init__(self, kv=1500, hv=1024, ka=128, ha=256, dim=256):
        super().__init__()
        self.v1, self.v2 = nn.Linear(kv, hv), nn.Linear(hv, dim)
        self.a1, self.a2 = nn.Linear(ka, ha), nn.Linear(ha, dim)

    def forward(self, xv, xa):
        v = self.v2(F.relu(self.v1(xv)))
        a = self.a2(F.relu(self.a1(xa)))
        return F.normalize(v * a, dim=1)


def semihard_loss(z, b, margin=0.2):
    # rows 0..b anchors, b..2b positives, 2b..3b given negatives
    a = z[:b]
    d = 2 - 2 * a @ z.t()                                   # [b, 3b] squared distances on the sphere
    idx = torch.arange(b)
    dap = d[idx, idx + b]
    invalid = torch.zeros_like(d, dtype=torch.bool)
    invalid[idx, idx] = True
    invalid[idx, idx + b] = True
    farther = (d > dap[:, None]) & ~invalid
    big = torch.full_like(d, float("inf"))
    semi = torch.where(farther, d, big).min(dim=1)
    closest = torch.where(~invalid, d, big).min(dim=1)
    dan = torch.where(torch.isfinite(semi.values), semi.values, closest.values)
    return F.relu(dap - dan + margin).mean()


def timed(step, steps):
    """Steps/s after 3 warm-up steps; also prints CPU ms/step (steadier on a shared machine)."""
    for _ in range(3):
        step()
    start, cpu = time.perf_counter(), time.process_time()
    for _ in range(steps):
        step()
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    print(f"  ({1000 * wall / steps:.1f} ms/step wall, {1000 * cpu / steps:.1f} ms/step CPU)")
    return steps / wall


def bench_triplet(steps, n=20000):
    model = TwoTower()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    xv, xa = torch.randn(n, 1500), torch.randn(n, 128)
    b = 256

    def step():
        rows = torch.randint(0, n, (3 * b,))
        z = model(xv[rows], xa[rows])
        loss = semihard_loss(z, b)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()

    return timed(step, steps)


def bench_sampled(steps, classes, sampled, sparse, n=20000):
    model = TwoTower()
    head_w = nn.Embedding(classes, 256, sparse=sparse)
    head_b = nn.Embedding(classes, 1, sparse=sparse)
    nn.init.zeros_(head_b.weight)
    if sparse:
        opts = [torch.optim.Adam(model.parameters(), lr=1e-3),
                torch.optim.SparseAdam(list(head_w.parameters()) + list(head_b.parameters()), lr=1e-3)]
    else:
        opts = [torch.optim.Adam(list(model.parameters()) + list(head_w.parameters()) + list(head_b.parameters()), lr=1e-3)]
    xv, xa = torch.randn(n, 1500), torch.randn(n, 128)
    labels_all = torch.randint(0, classes, (n,))
    b = 1024
    logq = torch.log(torch.tensor(sampled / classes))

    def step():
        rows = torch.randint(0, n, (b,))
        y = labels_all[rows]
        z = model(xv[rows], xa[rows])
        cand = torch.randperm(classes)[:sampled]             # uniform, distinct
        ids = torch.cat([y, cand])
        w, bias = head_w(ids), head_b(ids).squeeze(1)
        true_logit = (z * w[:b]).sum(1) + bias[:b] - logq
        logits = z @ w[b:].t() + bias[b:] - logq
        logits = logits.masked_fill(cand[None, :] == y[:, None], float("-inf"))   # accidental hits
        all_logits = torch.cat([true_logit[:, None], logits], dim=1)
        loss = F.cross_entropy(all_logits, torch.zeros(b, dtype=torch.long))
        for o in opts:
            o.zero_grad(set_to_none=True)
        loss.backward()
        for o in opts:
            o.step()

    return timed(step, steps)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--classes", type=int, default=50000)
    parser.add_argument("--sampled", type=int, default=2048)
    parser.add_argument("--jobs", default="triplet,sampled-dense,sampled-sparse",
                        help="comma-separated: triplet, sampled-dense, sampled-sparse")
    args = parser.parse_args()
    jobs = args.jobs.split(",")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"torch {torch.__version__}, {args.threads} threads")
    if "triplet" in jobs:
        rate = bench_triplet(args.steps)
        print(f"torch triplet: {rate:.2f} steps/s, {rate * 768:.0f} examples/s")
        print(f"RESULT triplet {rate:.4f}")
    for sparse in (False, True):
        name = "sampled-sparse" if sparse else "sampled-dense"
        if name not in jobs:
            continue
        rate = bench_sampled(args.steps, args.classes, args.sampled, sparse)
        print(f"torch {name}: {rate:.2f} steps/s, {rate * 1024:.0f} examples/s")
        print(f"RESULT {name} {rate:.4f}")


if __name__ == "__main__":
    main()
