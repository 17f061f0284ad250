#!/usr/bin/env python3
"""The paper model of data-parallel training (docs/DISTRIBUTED.md): time per step on P nodes
as compute (split over every core) + a ring allreduce of the gradient + the work every rank
repeats (Adam and the item matrices over all parameters), and the speed-up and efficiency
against one node. Nothing is measured here: the per-core rate comes from `mdsrec train`'s
"positions ... per s per core" line, the network figures are the stated assumptions.

  python3 bench/dist_model.py --items 12101 --positions 1490 --rate 5800
"""
import argparse


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=12101, help="N, the catalogue")
    ap.add_argument("--dim", type=int, default=64)
    ap.add_argument("--other-params", type=int, default=103361,
                    help="parameters besides the N x d embedding (sasrec d 64, 2 blocks: 103361)")
    ap.add_argument("--positions", type=float, default=1490,
                    help="positions (targets) per step of the global batch (Beauty, batch 256: ~1490)")
    ap.add_argument("--per-node", action="store_true",
                    help="--positions is per node (weak scaling: the global batch grows with P)")
    ap.add_argument("--rate", type=float, default=5800,
                    help="positions per second per core, measured (Beauty sasrec: ~5,800 per CPU second)")
    ap.add_argument("--rate-items", type=int, default=12101,
                    help="the catalogue --rate was measured at: with the softmax over all items a position\n"
                         "costs ~6 N d flops plus the encoder's, so the rate is carried over to --items by flops")
    ap.add_argument("--blocks", type=int, default=2)
    ap.add_argument("--cores", type=int, default=16, help="cores per node (one rank per node, that many threads)")
    ap.add_argument("--gbps", type=float, default=10, help="network bandwidth per node, Gbit/s")
    ap.add_argument("--latency-us", type=float, default=30, help="per message latency, microseconds")
    ap.add_argument("--adam-ns", type=float, default=3, help="replicated work per parameter per step, ns")
    a = ap.parse_args()

    n_params = a.items * a.dim + a.other_params
    d = a.dim
    enc = 6 * a.blocks * (4 * d * d + 2 * d * 4 * d)  # forward + backward of the blocks' matrices
    flops = lambda n: 6 * n * d + enc
    rate = a.rate * flops(a.rate_items) / flops(a.items)  # positions/s/core at this catalogue
    size = 4.0 * n_params
    bw = a.gbps * 1e9 / 8
    rep = n_params * a.adam_ns * 1e-9
    print(f"{n_params} parameters: {size / 1e6:.1f} MB of gradient per step; {a.gbps:g} Gbit/s, "
          f"{a.latency_us:g} us latency; {a.cores} cores per node at {rate:.0f} positions/s/core ({a.rate * flops(a.rate_items) / 1e9:.1f} GFLOP/s); "
          f"{a.positions:g} positions per step{' per node' if a.per_node else ''}")
    print(f"{'nodes':>6} {'compute ms':>11} {'allreduce ms':>13} {'repeated ms':>12} {'step ms':>8} "
          f"{'positions/s':>12} {'speed-up':>9} {'efficiency':>11}")
    base = None
    for p in (1, 8, 32, 128):
        pos = a.positions * (p if a.per_node else 1)
        comp = pos / (rate * a.cores * p)
        comm = 0.0 if p == 1 else 2 * (p - 1) / p * size / bw + 2 * (p - 1) * a.latency_us * 1e-6
        step = comp + comm + rep
        thr = pos / step
        base = base or thr
        print(f"{p:>6} {comp * 1e3:>11.1f} {comm * 1e3:>13.1f} {rep * 1e3:>12.1f} {step * 1e3:>8.1f} "
              f"{thr:>12.0f} {thr / base:>9.1f} {thr / base / p:>11.2f}")


if __name__ == "__main__":
    main()
