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

from .layout import layered_layout

FWD = QColor("#1b7f3b")
BWD = QColor("#c62828")
EDGE = QColor("#5f6b7a")
ACTIVE = QColor("#f5b301")
FILL = {"op": QColor("#e8eef7"), "input": QColor("#dcefff"), "param": QColor("#ffe9cc"),
        "const": QColor("#eeeeee")}
BORDER = {"op": QColor("#34495e"), "input": QColor("#1f6fb2"), "param": QColor("#c77700"),
          "const": QColor("#888888")}
FONT_FAMILY = "DejaVu Sans"


def _font(px: int, bold: bool = False) -> QFont:
    f = QFont(FONT_FAMILY)
    f.setPixelSize(px)
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
    out_grad = fmt(tr._seed) if seeded and tr._seed is not None else ""
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
    """Text on a rounded white pill, so numbers stay readable over edges."""

    def __init__(self, color: QColor, px: int, bold: bool = True, parent=None):
        super().__init__(parent)
        self.color = color
        self.font = _font(px, bold)
        self.text = ""
        self._rect = QRectF()
        self.anchor = QPointF()
        self.align = "center"   # "center" | "above" | "below"
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
        pad = 5
        r = QRectF(-w / 2 - pad, 0, w + 2 * pad, h + 2 * pad / 2 + 2)
        if self.align == "above":
            r.moveBottom(-3)
        elif self.align == "below":
            r.moveTop(3)
        else:
            r.moveCenter(QPointF(0, 0))
        self._rect = r
        self.setVisible(bool(text))
        self.update()

    def boundingRect(self) -> QRectF:
        return self._rect.adjusted(-2, -2, 2, 2)

    def paint(self, p: QPainter, option, widget=None) -> None:
        if not self.text:
            return
        p.setRenderHint(QPainter.Antialiasing)
        bg = QColor(255, 248, 214) if self.highlight else QColor(255, 255, 255, 235)
        p.setPen(QPen(self.color if self.highlight else QColor(0, 0, 0, 0), 2))
        p.setBrush(bg)
        p.drawRoundedRect(self._rect, 6, 6)
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
        fm = QFontMetricsF(_font(24, True))
        w = fm.horizontalAdvance(text) + 28
        if kind == "op":
            d = max(74.0, w) if not tensor else max(90.0, w)
            self.size = (d, 74.0)
        else:
            self.size = (max(70.0, w), 54.0)
        self.setData(0, ("node", node_id))

    @property
    def half_width(self) -> float:
        return self.size[0] / 2

    def boundingRect(self) -> QRectF:
        w, h = self.size
        return QRectF(-w / 2 - 6, -h / 2 - 34, w + 12, h + 40)

    def shape_rect(self) -> QRectF:
        w, h = self.size
        return QRectF(-w / 2, -h / 2, w, h)

    def paint(self, p: QPainter, option, widget=None) -> None:
        p.setRenderHint(QPainter.Antialiasing)
        r = self.shape_rect()
        border = ACTIVE if self.active else BORDER.get(self.kind, EDGE)
        fill = QColor("#fff4c2") if self.active else FILL.get(self.kind, FILL["op"])
        p.setPen(QPen(border, 6 if self.active else 3))
        p.setBrush(fill)
        if self.kind == "op":
            p.drawRoundedRect(r, r.height() / 2, r.height() / 2)
        else:
            p.drawRoundedRect(r, 10, 10)
        p.setPen(QColor("#17202a"))
        p.setFont(_font(24, True))
        p.drawText(r, Qt.AlignCenter, self.text)
        if self.caption:
            p.setFont(_font(16, False))
            p.setPen(QColor("#4a5560"))
            p.drawText(QRectF(r.left() - 60, r.top() - 30, r.width() + 120, 26), Qt.AlignCenter, self.caption)


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
        self.end = points[-1]
        # labels sit on the last segment: near its start where wires are apart (label_t)
        t = label_t
        w = ((1 - t) ** 3, 3 * (1 - t) ** 2 * t, 3 * (1 - t) * t ** 2, t ** 3)
        self.label_at = QPointF(sum(c * q.x() for c, q in zip(w, last)), sum(c * q.y() for c, q in zip(w, last)))
        self.setZValue(1)
        self.setData(0, ("edge", key))
        self.set_style(EDGE, 3)

    def set_style(self, color: QColor, width: float) -> None:
        self.setPen(QPen(color, width, Qt.SolidLine, Qt.RoundCap, Qt.RoundJoin))

    def paint(self, p: QPainter, option, widget=None) -> None:
        p.setRenderHint(QPainter.Antialiasing)
        super().paint(p, option, widget)
        # arrow head
        e = self.end
        pen = self.pen()
        p.setPen(Qt.NoPen)
        p.setBrush(pen.color())
        s = 8 + pen.widthF()
        p.drawPolygon(QPolygonF([e, QPointF(e.x() - s * 1.6, e.y() - s * 0.8), QPointF(e.x() - s * 1.6, e.y() + s * 0.8)]))

    def shape(self) -> QPainterPath:
        from PySide6.QtGui import QPainterPathStroker
        st = QPainterPathStroker()
        st.setWidth(18)
        return st.createStroke(self.path())


class GraphScene(QGraphicsScene):
    """Draws a :class:`GraphSpec` and shows one frame at a time (:meth:`show_frame`)."""

    nodeClicked = Signal(int)
    edgeClicked = Signal(int, int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setBackgroundBrush(QColor("white"))
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
        tr = spec.trace
        dx = 290.0 if spec.tensor else 225.0
        dy = 160.0 if spec.tensor else 135.0
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
            lab = LabelItem(BWD, 19)
            lab.align = "above"
            lab.setPos(item.x(), item.y() - item.size[1] / 2 - (30 if item.caption else 2))
            self.addItem(lab)
            lab.set_text("")
            self.sum_labels[nid] = lab
        self.state = None
        # room for labels that appear later (fan-out sums under leaves, numbers on the out wire)
        self.setSceneRect(self.itemsBoundingRect().adjusted(-110, -50, 60, 60))

    def _add_edge(self, key, pts) -> None:
        fans_out = key[0] != "out" and sum(1 for n in self.spec.trace.nodes if key[0] in n.parents) > 1
        e = EdgeItem(key, pts, 0.5 if fans_out or key[0] == "out" else 0.3)
        self.addItem(e)
        self.edges[key] = e
        for store, color, align in ((self.val_labels, FWD, "above"), (self.grad_labels, BWD, "below")):
            lab = LabelItem(color, 20 if not self.spec.tensor else 19)
            lab.align = align
            lab.setPos(e.label_at)
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
        color = BWD if st["kind"] in ("backward", "seed") else FWD
        for key, e in self.edges.items():
            on = key in active or (st["kind"] in ("forward", "seed") and key[0] == "out"
                                   and st["active_node"] == spec.trace.output)
            e.set_style(color if on else EDGE, 7 if on else 3)
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
