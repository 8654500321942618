#!/usr/bin/env python3
"""Time one training step (forward, backward, SGD update) of the engine against PyTorch.

Same data, float32, same thread count, both warmed up; softmax loss plus the lecture's L2
penalty on the weights.  The two are timed in alternation (a few steps of the engine, a few of
torch, ...) so that both see the same load on the machine; the ratio is the median over the
repeats of the ratio within a repeat, the times are the medians of each side.  Two networks: a 3072-100-10 MLP at batch 200
(CIFAR-10 sized, BLAS-bound) and a 2-8-8-3 MLP at batch 32 (a toy demo, overhead-bound).

    python benchmarks/bench_engine.py [--threads N] [--repeats R]

Last line: ``engine/torch step time ratio: large X.XX, small Y.YY`` (below 1: the engine is
faster).  Without torch it says so and prints the engine's own times.
"""
import argparse
import os
import sys

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--threads", type=int, default=1, help="BLAS / torch threads for both (default 1)")
parser.add_argument("--repeats", type=int, default=7)
args = parser.parse_args()
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)

import statistics  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from engine.config import LossConfig, ModelConfig  # noqa: E402
from engine.models import Network  # noqa: E402
from engine.optim import SGD  # noqa: E402

REG = 1e-3
LR = 1e-3


def time_pair(steps, inner):
    """Median seconds per step of each of ``steps`` and the median ratio ``steps[0] / steps[1]``.

    Each repeat runs ``inner`` calls of every step in chunks of ``inner // 10`` (at least 1),
    one step's chunk then the other's, so that both see the same load on the machine; the
    ratio is taken per repeat.
    """
    chunk = max(1, inner // 10)
    for step in steps:
        for _ in range(max(3, inner // 5)):
            step()
    times = [[] for _ in steps]
    clock = time.perf_counter
    for _ in range(args.repeats):
        spent = [0.0] * len(steps)
        for _ in range(inner // chunk):
            for i, step in enumerate(steps):
                t = clock()
                for _ in range(chunk):
                    step()
                spent[i] += clock() - t
        for t, s in zip(times, spent):
            t.append(s / (inner // chunk * chunk))
    ratio = statistics.median(a / b for a, b in zip(*times)) if len(steps) == 2 else None
    return [statistics.median(t) for t in times], ratio


def engine_step_fn(sizes, X, y):
    net = Network(sizes[0], sizes[-1], ModelConfig(hidden=list(sizes[1:-1]), activations=["relu"] * (len(sizes) - 2)),
                  LossConfig(loss="softmax", reg="l2", reg_strength=REG), np.random.default_rng(0))
    opt = SGD()
    params = net.param_list()

    def step():
        net.loss(X, y)
        opt.update(params, net.grad_list(), LR)
    return step, net


def torch_step_fn(torch, sizes, X, y, net):
    layers = []
    for i in range(len(sizes) - 1):
        lin = torch.nn.Linear(sizes[i], sizes[i + 1])
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(net.params[f"W{i + 1}"].T.copy()))
            lin.bias.zero_()
        layers += [lin, torch.nn.ReLU()]
    model = torch.nn.Sequential(*layers[:-1])
    weights = [m.weight for m in model if isinstance(m, torch.nn.Linear)]
    opt = torch.optim.SGD(model.parameters(), lr=LR)
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def step():
        opt.zero_grad(set_to_none=True)
        loss = torch.nn.functional.cross_entropy(model(Xt), yt) + REG * sum((w * w).sum() for w in weights)
        loss.backward()
        opt.step()
    return step


def main():
    try:
        import torch
        torch.set_num_threads(args.threads)
    except Exception as e:  # noqa: BLE001
        torch = None
        print(f"torch is not importable ({type(e).__name__}: {e}); printing the engine's own times only")
    rng = np.random.default_rng(0)
    cases = {"large": ((3072, 100, 10), 200, 20), "small": ((2, 8, 8, 3), 32, 2000)}   # inner: steps per repeat
    ratios = {}
    print(f"threads: {args.threads}, repeats: {args.repeats}, numpy {np.__version__}"
          + (f", torch {torch.__version__}" if torch else ""))
    for name, (sizes, batch, inner) in cases.items():
        X = rng.standard_normal((batch, sizes[0])).astype(np.float32)
        y = rng.integers(0, sizes[-1], batch)
        e_step, net = engine_step_fn(sizes, X, y)
        steps = [e_step] if torch is None else [e_step, torch_step_fn(torch, sizes, X, y, net)]
        (te, *tt), ratio = time_pair(steps, inner)
        line = f"{name:5s} {'-'.join(map(str, sizes))} batch {batch}: engine {te * 1e6:9.1f} us/step"
        if torch is not None:
            ratios[name] = ratio
            line += f", torch {tt[0] * 1e6:9.1f} us/step, ratio {ratio:.2f}"
        print(line, flush=True)
    if torch is not None:
        print(f"engine/torch step time ratio: large {ratios['large']:.2f}, small {ratios['small']:.2f}")
    else:
        print("engine/torch step time ratio: unavailable (torch not installed)")


if __name__ == "__main__":
    main()
