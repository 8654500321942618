"""Layered layout of a computational graph (no Qt): inputs left, output right, no overlaps.

Longest-path layering (a gate sits one layer right of its furthest input; constants sit just
left of the gate that uses them), dummy nodes on edges that span several layers so they bend
around gates instead of crossing them, then barycenter sweeps to reduce crossings.
"""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Layout:
    pos: dict[int, tuple[float, float]]                 # node id -> centre (x, y)
    layer: dict[int, int]
    routes: dict[tuple[int, int], list[tuple[float, float]]] = field(default_factory=dict)
    width: float = 0.0
    height: float = 0.0


def layered_layout(nodes: list[tuple[int, tuple[int, ...], str]], dx: float = 260.0,
                   dy: float = 130.0, sweeps: int = 8, pinned: set[int] | None = None) -> Layout:
    """``nodes``: (id, parent ids, kind) in topological order.  Returns positions and edge routes.

    Leaves in ``pinned`` stay in the leftmost column; other leaves (parameters, constants) sit
    just left of the first gate that uses them, so their wires stay short.

    ``routes[(parent, child)]`` is the polyline of the edge (through dummy points), endpoints
    at the node centres.
    """
    ids = [n[0] for n in nodes]
    parents = {n[0]: tuple(p for p in n[1] if p in set(ids)) for n in nodes}
    children: dict[int, list[int]] = {i: [] for i in ids}
    for i in ids:
        for p in parents[i]:
            children[p].append(i)
    pinned = pinned or set()
    floating = {i for i in ids if not parents[i] and i not in pinned}
    layer: dict[int, int] = {}
    for i in ids:
        if i in floating:
            continue
        fixed = [p for p in parents[i] if p not in floating]
        layer[i] = 1 + max(layer[p] for p in fixed) if fixed else (1 if parents[i] else 0)
    # as late as possible: every node not pinned moves right up to just before its first user
    # (parameters sit next to their gate, the regularizer next to the total loss)
    for i in reversed(ids):
        if i in pinned or not children[i]:
            continue
        layer[i] = max(layer.get(i, 0), min(layer[c] for c in children[i]) - 1)
    # leaves that feed only late gates: keep inputs/params at layer 0 (lecture style)
    n_layers = max(layer.values()) + 1 if layer else 1
    rows: list[list] = [[] for _ in range(n_layers)]
    for i in ids:
        rows[layer[i]].append(("n", i))
    # dummy nodes for long edges
    chain: dict[tuple[int, int], list] = {}
    for c in ids:
        for p in parents[c]:
            seq = [("n", p)]
            for L in range(layer[p] + 1, layer[c]):
                d = ("d", p, c, L)
                rows[L].append(d)
                seq.append(d)
            seq.append(("n", c))
            chain[(p, c)] = seq
    up: dict = {}
    down: dict = {}
    for seq in chain.values():
        for a, b in zip(seq, seq[1:]):
            down.setdefault(a, []).append(b)
            up.setdefault(b, []).append(a)
    order = {v: k for row in rows for k, v in enumerate(row)}

    def sweep(rng, nbrs):
        for L in rng:
            row = rows[L]
            def bary(v, _k=None):
                ns = nbrs.get(v, [])
                return sum(order[u] for u in ns) / len(ns) if ns else order[v]
            row.sort(key=lambda v: (bary(v), order[v]))
            for k, v in enumerate(row):
                order[v] = k
    for _ in range(sweeps):
        sweep(range(1, n_layers), up)
        sweep(range(n_layers - 2, -1, -1), down)

    # y coordinates: place each row centred, then nudge toward neighbours' mean without overlap
    ypos: dict = {}
    for row in rows:
        h = (len(row) - 1) * dy
        for k, v in enumerate(row):
            ypos[v] = k * dy - h / 2
    for _ in range(4):
        for L in list(range(1, n_layers)) + list(range(n_layers - 2, -1, -1)):
            row = rows[L]
            want = []
            for v in row:
                ns = up.get(v, []) + down.get(v, [])
                want.append(sum(ypos[u] for u in ns) / len(ns) if ns else ypos[v])
            # keep order and minimum spacing: forward then backward pass
            placed = []
            for k, w in enumerate(want):
                gap = dy if row[k][0] == "n" and (k == 0 or row[k - 1][0] == "n") else dy * 0.85
                placed.append(w if k == 0 else max(w, placed[-1] + gap))
            shift = (sum(placed) - sum(want)) / len(placed) if placed else 0
            placed = [p - shift for p in placed]
            for k in range(1, len(placed)):
                gap = dy if row[k][0] == "n" and row[k - 1][0] == "n" else dy * 0.85
                placed[k] = max(placed[k], placed[k - 1] + gap)
            for v, p in zip(row, placed):
                ypos[v] = p
    ys = list(ypos.values()) or [0.0]
    y0 = min(ys)
    pos = {i: (layer[i] * dx, ypos[("n", i)] - y0) for i in ids}
    routes = {}
    for key, seq in chain.items():
        routes[key] = [(layer[key[0]] * dx if s[0] == "n" and s[1] == key[0] else
                        (layer[key[1]] * dx if s[0] == "n" else s[3] * dx),
                        ypos[s] - y0) for s in seq]
    return Layout(pos, layer, routes, width=(n_layers - 1) * dx, height=max(ys) - y0)
