#!/usr/bin/python3
"""SASRec in PyTorch, built to match `mdsrec train --model sasrec` step for step, for the speed
comparison of bench/torch-vs-mdsrec.sh (docs/DISTRIBUTED.md, "Against PyTorch").

The same model: item embedding (tied with the output) + learned positions, LayerNorm, dropout,
post-LN blocks (attention, GELU feed-forward of 4 d), causal attention; the same data: each
user's training part (all but the last two items) cut into windows of L inputs from the end,
every position a target; the same loss: softmax cross-entropy over all items at every real
(not padded) position; Adam lr 1e-3; batches of windows in a shuffled order. A batch is padded
on the right to its longest window (causal attention keeps padding out of the real positions).

Prints one line per epoch: the seconds of the training steps, then of the validation (full
ranking of the second-last item, HR@10 and NDCG@10 unmasked), so the two can be compared apart.
"""
import argparse
import math
import random
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


def read_sequences(path):
    seqs = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) > 1:
                seqs.append([int(x) - 1 for x in parts[1:]])  # items from 0
    return seqs


def windows_of(seqs, L):
    """(inputs, targets) of every window of every training part, as mdsrec's --windows all."""
    out = []
    for s in seqs:
        train = s[:-2]
        end = len(train) - 1  # inputs train[start:end], targets train[start+1:end+1]
        while end > 0:
            start = max(0, end - L)
            out.append((train[start:end], train[start + 1:end + 1]))
            end = start
    return out


class SASRec(nn.Module):
    def __init__(self, n_items, d, L, blocks, heads, ffn, p):
        super().__init__()
        self.item = nn.Embedding(n_items, d)
        self.pos = nn.Embedding(L, d)
        self.ln = nn.LayerNorm(d, eps=1e-12)
        self.drop = nn.Dropout(p)
        layer = nn.TransformerEncoderLayer(d, heads, ffn, p, activation="gelu", batch_first=True,
                                           norm_first=False, layer_norm_eps=1e-12)
        self.blocks = nn.TransformerEncoder(layer, blocks, enable_nested_tensor=False)
        for w in (self.item.weight, self.pos.weight):
            nn.init.normal_(w, 0, 0.02)

    def forward(self, x):
        n = x.shape[1]
        h = self.drop(self.ln(self.item(x) + self.pos.weight[:n]))
        mask = torch.triu(torch.full((n, n), float("-inf")), 1)
        return self.blocks(h, mask=mask)


def batches(wins, B, pad):
    for b0 in range(0, len(wins), B):
        part = wins[b0:b0 + B]
        n = max(len(i) for i, _ in part)
        x = torch.full((len(part), n), pad, dtype=torch.long)
        y = torch.full((len(part), n), -100, dtype=torch.long)
        for r, (i, t) in enumerate(part):
            x[r, :len(i)] = torch.tensor(i)
            y[r, :len(t)] = torch.tensor(t)
        yield x, y


def validate(model, seqs, L, n_items):
    model.eval()
    hr = ndcg = 0.0
    with torch.no_grad():
        for b0 in range(0, len(seqs), 256):
            part = seqs[b0:b0 + 256]
            hist = [s[:-2][-L:] for s in part]
            n = max(len(h) for h in hist)
            x = torch.zeros((len(part), n), dtype=torch.long)
            last = torch.tensor([len(h) - 1 for h in hist])
            for r, h in enumerate(hist):
                x[r, :len(h)] = torch.tensor(h)
            u = model(x)[torch.arange(len(part)), last]
            scores = u @ model.item.weight.T
            target = torch.tensor([s[-2] for s in part])
            ts = scores[torch.arange(len(part)), target]
            rank = (scores >= ts[:, None]).sum(1)  # ties count against, as mdsrec's metrics
            hit = rank <= 10
            hr += hit.sum().item()
            ndcg += (hit.float() / torch.log2(rank.float() + 1)).sum().item()
    model.train()
    return hr / len(seqs), ndcg / len(seqs)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--max-len", type=int, default=50)
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--heads", type=int, default=2)
    ap.add_argument("--dropout", type=float, default=0.5)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    random.seed(a.seed)
    seqs = [s for s in read_sequences(a.data) if len(s) >= 3]
    n_items = max(max(s) for s in seqs) + 1
    wins = windows_of(seqs, a.max_len)
    positions = sum(len(t) for _, t in wins)
    model = SASRec(n_items, a.dim, a.max_len, a.blocks, a.heads, 4 * a.dim, a.dropout)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads: {n_items} items, {len(seqs)} sequences, "
          f"{len(wins)} windows, {positions} positions, "
          f"{sum(p.numel() for p in model.parameters())} parameters", flush=True)
    for e in range(1, a.epochs + 1):
        random.shuffle(wins)
        t0 = time.perf_counter()
        total = 0.0
        nb = 0
        for x, y in batches(wins, a.batch, 0):
            h = model(x)
            keep = y.reshape(-1) >= 0
            logits = h.reshape(-1, a.dim)[keep] @ model.item.weight.T  # real positions only
            loss = F.cross_entropy(logits, y.reshape(-1)[keep])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total += loss.item()
            nb += 1
        t_train = time.perf_counter() - t0
        t1 = time.perf_counter()
        hr, ndcg = validate(model, seqs, a.max_len, n_items)
        t_valid = time.perf_counter() - t1
        print(f"torch epoch {e}: loss {total / nb:.4f}  train {t_train:.2f} s  valid {t_valid:.2f} s "
              f"(HR@10 {hr:.4f} NDCG@10 {ndcg:.4f})  {positions / t_train:.0f} positions/s", flush=True)


if __name__ == "__main__":
    main()
