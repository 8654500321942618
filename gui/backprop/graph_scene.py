"""The QGraphicsScene that draws a computational graph and one frame of its forward/backward pass.

Every number drawn comes from the engine's recorded :class:`engine.graph.Trace`; this module
only formats them (``engine.walkthroughs.fmt``).  Forward values are drawn ABOVE the edges in
green, gradients BELOW in red (the lecture's style).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QPainter, QPainterPath, QPen, QPolygonF
from PySide6.QtWidgets import QGraphicsItem, QGraphicsPathItem, QGraphicsScene

from engine.graph import ForwardStep, Trace
from engine.walkthroughs import Frame, build_frames, fanout_sum, fmt, shape_str

from .. import style

from .layout import layered_layout

# gui.style's sizes (pixels at scale 1, multiplied by gui.style.SCALE: Ctrl+= / Ctrl+-)
NODE_PX, CAPTION_PX, VALUE_PX, SUM_PX = (style.GRAPH_PX[k] for k in ("node", "caption", "value", "sum"))


def col(name: str) -> QColor:
    """A colour of the current theme (gui.style.THEMES: "fwd", "bwd", "edge", "graph_bg", ...)."""
    return QColor(style.color(name))


def fill(kind: str) -> QColor:
    return col("fill_" + kind) if "fill_" + kind in style.THEMES[style.THEME] else col("fill_op")


def border(kind: str) -> QColor:
    return col("border_" + kind) if "border_" + kind in style.THEMES[style.THEME] else col("edge")


def sc(v: float) -> float:
    """``v`` pixels at scale 1, at the current scale."""
    return v * style.SCALE


def _font(px: float, bold: bool = False) -> QFont:
    f = QFont(style.GRAPH_FONT)
    f.setPixelSize(max(1, int(round(px * style.SCALE))))
    f.setBold(bold)
    return f


@dataclass
class GraphSpec:
    """What the scene draws: a trace plus names.  ``tensor``: layer-sized graph (shapes, norms)."""
    trace: Trace
    labels: dict[int, str]
    gates: dict[int, str]
    describe: dict[int, str] = field(default_factory=dict)
    tensor: bool = False
    title: str = ""
    frames: list[Frame] = field(default_factory=list)

    def __post_init__(self):
        if not self.frames:
            self.frames = build_frames(self.trace)
        self.info = {n.id: n for n in self.trace.nodes}
        self.values = self.trace.values()


def _norm_text(a) -> str:
    return f"‖·‖ {fmt(np.linalg.norm(np.asarray(a, dtype=np.float64)))}"


def frame_state(spec: GraphSpec, k: int) -> dict:
    """Everything drawn at frame ``k`` as plain strings (the tests compare these)."""
    frame = spec.frames[k]
    tr = spec.trace
    known = {n.id for n in tr.nodes if not n.parents}
    edge_val: dict[tuple[int, int], str] = {}
    edge_grad: dict[tuple[int, int], str] = {}
    sums: dict[int, str] = {}
    seeded = False
    active_node = None
    active_edges: list[tuple[int, int]] = []
    last = frame.step if frame.kind in ("forward", "backward") else -1
    if frame.kind == "seed":
        last = max((i for i, s in enumerate(tr.steps) if isinstance(s, ForwardStep)), default=-1)
        seeded = True
    for i, s in enumerate(tr.steps[:last + 1]):
        if isinstance(s, ForwardStep):
            known.add(s.node)
        else:
            seeded = True
            edge_grad[(s.parent, s.node)] = (_norm_text(s.downstream) if spec.tensor and np.size(s.downstream) > 1
                                             else fmt(s.downstream))
            if s.contribution > 1:
                sums[s.parent] = ("Σ " + _norm_text(s.accumulated)) if spec.tensor and np.size(s.accumulated) > 1 \
                    else fanout_sum(tr, i)
    for n in tr.nodes:
        for p in n.parents:
            if spec.tensor:
                shape = shape_str(spec.info[p].shape)
                edge_val[(p, n.id)] = shape + (("\n" + _norm_text(spec.values[p])) if p in known
                                               and np.size(spec.values[p]) > 1 else
                                               ("\n" + fmt(spec.values[p]) if p in known else ""))
            elif p in known:
                edge_val[(p, n.id)] = fmt(spec.values[p])
    out = tr.output
    out_val = fmt(spec.values[out]) if out in known else ""
    out_grad = fmt(tr.seed) if seeded and tr.seed is not None else ""
    if frame.kind == "forward":
        s = tr.steps[frame.step]
        active_node = s.node
        active_edges = [(p, s.node) for p in s.inputs]
    elif frame.kind == "backward":
        s = tr.steps[frame.step]
        active_node = s.node
        active_edges = [(s.parent, s.node)]
    elif frame.kind == "seed":
        active_node = out
    return {"frame": k, "kind": frame.kind, "values": edge_val, "grads": edge_grad, "sums": sums,
            "out_value": out_val, "out_grad": out_grad, "active_node": active_node,
            "active_edges": active_edges, "known": sorted(known)}


# --------------------------------------------------------------------------- items

class LabelItem(QGraphicsItem):
    """Text on a rounded pill of the background colour, so numbers stay readable over edges.
    ``color``: a theme colour name ("fwd", "bwd"); ``px``: the font's pixel size at scale 1."""

    def __init__(self, color: str, px: int, bold: bool = True, parent=None):
        super().__init__(parent)
        self.color_name = color
        self.font = _font(px, bold)
        self.text = ""
        self._rect = QRectF()
        self.align = "center"   # "center" | "above" | "below"
        self.min_left = None    # a scene x the pill's left edge stays right of (the wire's start)
        self.setZValue(5)
        self.highlight = False

    def set_text(self, text: str) -> None:
        if text == self.text:
            return
        self.prepareGeometryChange()
        self.text = text
        fm = QFontMetricsF(self.font)
        lines = text.split("\n") if text else []
        w = max((fm.horizontalAdvance(l) for l in lines), default=0)
        h = fm.height() * len(lines)
        pad = sc(5)
        r = QRectF(-w / 2 - pad, 0, w + 2 * pad, h + pad + sc(2))
        if self.align == "above":
            r.moveBottom(-sc(3))
        elif self.align == "below":
            r.moveTop(sc(3))
        else:
            r.moveCenter(QPointF(0, 0))
        if self.min_left is not None and self.x() + r.left() < self.min_left:
            r.moveLeft(self.min_left - self.x())     # wide text: not over the node it leaves
        self._rect = r
        self.setVisible(bool(text))
        self.update()

    def boundingRect(self) -> QRectF:
        m = sc(2)
        return self._rect.adjusted(-m, -m, m, m)

    @property
    def color(self) -> QColor:
        return col(self.color_name)

    def paint(self, p: QPainter, option, widget=None) -> None:
        if not self.text:
            return
        p.setRenderHint(QPainter.Antialiasing)
        bg = col("pill_highlight") if self.highlight else col("pill")
        if not self.highlight:
            bg.setAlpha(235)
        p.setPen(QPen(self.color if self.highlight else QColor(0, 0, 0, 0), sc(2)))
        p.setBrush(bg)
        p.drawRoundedRect(self._rect, sc(6), sc(6))
        p.setPen(self.color)
        p.setFont(self.font)
        p.drawText(self._rect, Qt.AlignCenter, self.text)


class NodeItem(QGraphicsItem):
    """A gate (circle with its symbol) or a leaf (rounded box with its name)."""

    def __init__(self, node_id: int, kind: str, text: str, caption: str, tensor: bool):
        super().__init__()
        self.node_id = node_id
        self.kind = kind
        self.text = text
        self.caption = caption
        self.active = False
        self.setZValue(10)
        self.setAcceptHoverEvents(True)
        self.setCursor(Qt.PointingHandCursor)
        # The shapes keep their size and grow only where the larger text needs it: the graph
        # is fitted to the view, so a layout growing with the text would shrink it back.
        fm = QFontMetricsF(_font(NODE_PX, True))
        w = fm.horizontalAdvance(text) + sc(28)
        tall = fm.height() * 1.45
        if kind == "op":
            d = max(74.0, w, tall) if not tensor else max(90.0, w, tall)
            self.size = (d, max(74.0, tall))
        else:
            self.size = (max(70.0, w), max(54.0, tall))
        self.setData(0, ("node", node_id))

    @property
    def half_width(self) -> float:
        return self.size[0] / 2

    def boundingRect(self) -> QRectF:
        w, h = self.size
        return QRectF(-w / 2 - sc(6), -h / 2 - sc(34), w + sc(12), h + sc(40))

    def shape_rect(self) -> QRectF:
        w, h = self.size
        return QRectF(-w / 2, -h / 2, w, h)

    def paint(self, p: QPainter, option, widget=None) -> None:
        p.setRenderHint(QPainter.Antialiasing)
        r = self.shape_rect()
        edge = col("active") if self.active else border(self.kind)
        p.setPen(QPen(edge, sc(6 if self.active else 3)))
        p.setBrush(col("active_fill") if self.active else fill(self.kind))
        if self.kind == "op":
            p.drawRoundedRect(r, r.height() / 2, r.height() / 2)
        else:
            p.drawRoundedRect(r, sc(10), sc(10))
        p.setPen(col("graph_text"))
        p.setFont(_font(NODE_PX, True))
        p.drawText(r, Qt.AlignCenter, self.text)
        if self.caption:
            p.setFont(_font(CAPTION_PX, False))
            p.setPen(col("graph_caption"))
            p.drawText(QRectF(r.left() - sc(60), r.top() - sc(30), r.width() + sc(120), sc(26)),
                       Qt.AlignCenter, self.caption)


class EdgeItem(QGraphicsPathItem):
    def __init__(self, key, points: list[QPointF], label_t: float = 0.3):
        super().__init__()
        self.key = key
        path = QPainterPath(points[0])
        last = None
        for a, b in zip(points, points[1:]):
            # smooth horizontal S-curves between consecutive points
            mx = (a.x() + b.x()) / 2
            path.cubicTo(QPointF(mx, a.y()), QPointF(mx, b.y()), b)
            last = (a, QPointF(mx, a.y()), QPointF(mx, b.y()), b)
        self.setPath(path)
        self.start, self.end = points[0], points[-1]
        # labels sit on the last segment: near its start where wires are apart (label_t)
        t = label_t
        w = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3)
        self.label_at = QPointF(sum(c * q.x() for c, q in zip(w, last)), sum(c * q.y() for c, q in zip(w, last)))
        self.setZValue(1)
        self.setData(0, ("edge", key))
        self.set_style(col("edge"), 3)

    def set_style(self, color: QColor, width: float) -> None:
        """``width``: pixels at scale 1."""
        self.setPen(QPen(color, sc(width), Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))

    def paint(self, p: QPainter, option, widget=None) -> None:
        p.setRenderHint(QPainter.Antialiasing)
        super().paint(p, option, widget)
        # arrow head
        e = self.end
        pen = self.pen()
        p.setPen(Qt.NoPen)
        p.setBrush(pen.color())
        s = sc(8) + pen.widthF()
        p.drawPolygon(QPolygonF([e, QPointF(e.x() - s * 1.6, e.y() - s * 0.8), QPointF(e.x() - s * 1.6, e.y() + s * 0.8)]))

    def shape(self) -> QPainterPath:
        from PySide6.QtGui import QPainterPathStroker
        st = QPainterPathStroker()
        st.setWidth(sc(18))
        return st.createStroke(self.path())


class GraphScene(QGraphicsScene):
    """Draws a :class:`GraphSpec` and shows one frame at a time (:meth:`show_frame`)."""

    nodeClicked = Signal(int)
    edgeClicked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackgroundBrush(col("graph_bg"))
        self.spec: GraphSpec | None = None
        self.nodes: dict[int, NodeItem] = {}
        self.edges: dict[tuple, EdgeItem] = {}
        self.val_labels: dict[tuple, LabelItem] = {}
        self.grad_labels: dict[tuple, LabelItem] = {}
        self.sum_labels: dict[int, LabelItem] = {}
        self.state: dict | None = None

    def set_spec(self, spec: GraphSpec) -> None:
        self.clear()
        self.spec = spec
        self.nodes, self.edges, self.val_labels, self.grad_labels, self.sum_labels = {}, {}, {}, {}, {}
        self.setBackgroundBrush(col("graph_bg"))
        tr = spec.trace
        # On a projector scale the text grows with SCALE, the spacing a quarter (columns) and
        # half (rows: numbers above and below each wire) as fast: the graph, fitted to the view,
        # is not shrunk back to the old text size.
        more = max(0.0, style.SCALE - 1.0)
        dx = (290.0 if spec.tensor else 225.0) * (1.0 + 0.25 * more)
        dy = (160.0 if spec.tensor else 135.0) * (1.0 + 0.5 * more)
        pinned = set() if spec.tensor else {n.id for n in tr.nodes if n.kind == "input"}
        lay = layered_layout([(n.id, n.parents, n.kind) for n in tr.nodes], dx=dx, dy=dy, pinned=pinned)
        for n in tr.nodes:
            if n.kind == "op":
                text, caption = spec.gates.get(n.id, n.symbol), spec.labels.get(n.id, n.name)
                if spec.tensor:
                    caption = f"{caption}  ({shape_str(n.shape)})"
            else:
                text, caption = spec.labels.get(n.id, n.name), ""
                if spec.tensor:
                    caption = shape_str(n.shape)
            item = NodeItem(n.id, n.kind, text, caption, spec.tensor)
            item.setPos(*lay.pos[n.id])
            self.addItem(item)
            self.nodes[n.id] = item
        for n in tr.nodes:
            for p in n.parents:
                key = (p, n.id)
                pts = [QPointF(x, y) for x, y in lay.routes[key]]
                pts[0] = QPointF(pts[0].x() + self.nodes[p].half_width, pts[0].y())
                pts[-1] = QPointF(pts[-1].x() - self.nodes[n.id].half_width - 2, pts[-1].y())
                self._add_edge(key, pts)
        # the output's own wire, to the right
        o = self.nodes[tr.output]
        start = QPointF(o.x() + o.half_width, o.y())
        self._add_edge(("out", tr.output), [start, QPointF(start.x() + dx * 0.7, start.y())])
        for nid, item in self.nodes.items():
            lab = LabelItem("bwd", SUM_PX)
            lab.align = "above"
            lab.setPos(item.x(), item.y() - item.size[1] / 2 - sc(30 if item.caption else 2))
            self.addItem(lab)
            lab.set_text("")
            self.sum_labels[nid] = lab
        self.state = None
        # room for labels that appear later (fan-out sums under leaves, numbers on the out wire)
        self.setSceneRect(self.itemsBoundingRect().adjusted(-sc(110), -sc(50), sc(60), sc(60)))

    def restyle(self) -> None:
        """Draw the same graph and frame again in the current theme and scale."""
        self.setBackgroundBrush(col("graph_bg"))
        if self.spec is not None:
            k = self.state["frame"] if self.state else 0
            self.set_spec(self.spec)
            self.show_frame(k)

    def _add_edge(self, key, pts) -> None:
        fans_out = key[0] != "out" and sum(1 for n in self.spec.trace.nodes if key[0] in n.parents) > 1
        e = EdgeItem(key, pts, 0.5 if fans_out or key[0] == "out" else 0.3)
        self.addItem(e)
        self.edges[key] = e
        for store, color, align in ((self.val_labels, "fwd", "above"), (self.grad_labels, "bwd", "below")):
            lab = LabelItem(color, VALUE_PX if not self.spec.tensor else SUM_PX)
            lab.align = align
            lab.setPos(e.label_at)
            lab.min_left = e.start.x() + sc(4)
            lab.set_text("")
            self.addItem(lab)
            store[key] = lab

    def show_frame(self, k: int) -> dict:
        spec = self.spec
        st = frame_state(spec, k)
        self.state = st
        for key, lab in self.val_labels.items():
            lab.highlight = False
            lab.set_text(st["out_value"] if key[0] == "out" else st["values"].get(key, ""))
        for key, lab in self.grad_labels.items():
            lab.highlight = False
            lab.set_text(st["out_grad"] if key[0] == "out" else st["grads"].get(key, ""))
        for nid, lab in self.sum_labels.items():
            lab.highlight = False
            lab.set_text(st["sums"].get(nid, ""))
        for nid, item in self.nodes.items():
            item.active = nid == st["active_node"]
            item.update()
        active = set(st["active_edges"])
        color = col("bwd") if st["kind"] in ("backward", "seed") else col("fwd")
        for key, e in self.edges.items():
            on = key in active or (st["kind"] in ("forward", "seed") and key[0] == "out"
                                   and st["active_node"] == spec.trace.output)
            e.set_style(color if on else col("edge"), 7 if on else 3)
            e.setZValue(2 if on else 1)
            if on:
                (self.grad_labels if st["kind"] == "backward" or key[0] == "out" and st["kind"] == "seed"
                 else self.val_labels)[key].highlight = True
        if st["kind"] == "forward":
            for key in active:
                pass
        if st["kind"] == "backward":
            s = spec.trace.steps[spec.frames[k].step]
            if s.contribution > 1:
                self.sum_labels[s.parent].highlight = True
        for lab in (*self.val_labels.values(), *self.grad_labels.values(), *self.sum_labels.values()):
            lab.update()
        return st

    def highlight_nodes(self, ids) -> None:
        """Draw these nodes as active (the parameters at the network walkthrough's SGD step)."""
        ids = set(ids)
        for nid, item in self.nodes.items():
            item.active = nid in ids
            item.update()
        for e in self.edges.values():          # no edge is the active one at this step
            e.set_style(col("edge"), 3)
            e.setZValue(1)
        for lab in (*self.val_labels.values(), *self.grad_labels.values(), *self.sum_labels.values()):
            lab.highlight = False
            lab.update()

    def mousePressEvent(self, ev) -> None:
        for item in self.items(ev.scenePos()):
            d = item.data(0)
            if isinstance(d, tuple):
                if d[0] == "node":
                    self.nodeClicked.emit(d[1])
                    break
                if d[0] == "edge" and d[1][0] != "out":
                    self.edgeClicked.emit(d[1][0], d[1][1])
                    break
        super().mousePressEvent(ev)
