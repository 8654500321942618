"""One exporter for every picture and table the window writes: plots (pyqtgraph items, several
side by side), whole widgets, painted frames (the Backprop view) as PNG or SVG, and curves as
CSV.  Each file is produced in memory first and written whole or not at all
(``engine.experiment.write_atomic``)."""
from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPoint, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QGraphicsView, QWidget

from engine.experiment import write_atomic

from . import style

MIN_PNG_WIDTH = 1200     # a plot exported as PNG is at least this wide (readable on a slide)
KINDS = {"png": "PNG image (*.png)", "svg": "SVG drawing (*.svg)", "csv": "CSV table (*.csv)"}


def kind_of(path) -> str:
    return "svg" if str(path).lower().endswith(".svg") else "csv" if str(path).lower().endswith(".csv") else "png"


def _png_bytes(image: QImage) -> bytes:
    buf = QBuffer()
    buf.open(QIODevice.WriteOnly)
    if not image.save(buf, "PNG"):
        raise OSError("the image could not be encoded as PNG")
    return bytes(buf.data())


def _svg_bytes(size: QSize, paint, title: str = "Backprop Studio") -> bytes:
    """``paint(QPainter)`` recorded as an SVG document of ``size``."""
    from PySide6.QtSvg import QSvgGenerator
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.WriteOnly)
    gen = QSvgGenerator()
    gen.setOutputDevice(buf)
    gen.setSize(size)
    gen.setViewBox(QRect(0, 0, size.width(), size.height()))
    gen.setTitle(title)
    p = QPainter(gen)
    try:
        paint(p)
    finally:
        p.end()
    buf.close()
    return bytes(data)


def side_by_side(images: list[QImage]) -> QImage:
    """One image of ``images`` next to each other, scaled to the same height."""
    if len(images) == 1:
        return images[0]
    h = max(im.height() for im in images)
    scaled = [im if im.height() == h else im.scaledToHeight(h, Qt.SmoothTransformation) for im in images]
    out = QImage(sum(im.width() for im in scaled), h, QImage.Format_ARGB32)
    out.fill(QColor(style.BG))
    p = QPainter(out)
    x = 0
    for im in scaled:
        p.drawImage(x, 0, im)
        x += im.width()
    p.end()
    return out


def _widgets_svg(widgets: list[QWidget]) -> bytes:
    """Widgets placed side by side, drawn as vectors (a graphics view draws its scene)."""
    width, height = sum(w.width() for w in widgets), max(w.height() for w in widgets)

    def paint(p: QPainter) -> None:
        x = 0
        for w in widgets:
            if isinstance(w, QGraphicsView):
                w.render(p, QRectF(x, 0, w.width(), w.height()))
            else:
                QWidget.render(w, p, QPoint(x, 0))
            x += w.width()
    return _svg_bytes(QSize(width, height), paint)


def export_widget(widget: QWidget, path) -> Path:
    """A whole widget as it is on screen: PNG (its pixels) or SVG (its drawing)."""
    if kind_of(path) == "svg":
        return write_atomic(path, _widgets_svg([widget]))
    return write_atomic(path, _png_bytes(widget.grab().toImage()))


def export_plots(items, path, min_width: int = MIN_PNG_WIDTH) -> Path:
    """One pyqtgraph item (a PlotItem, a layout) or a list of them shown side by side: PNG at
    least ``min_width`` pixels wide in all; SVG through pyqtgraph's exporter, or the items' views
    drawn by Qt where pyqtgraph's SVG path rewriting fails on an item."""
    import pyqtgraph.exporters as ex
    items = items if isinstance(items, list) else [items]
    if kind_of(path) == "svg":
        if len(items) == 1:
            try:
                return write_atomic(path, ex.SVGExporter(items[0]).export(toBytes=True))
            except Exception:   # e.g. "not enough values to unpack" on Qt 6's path data
                pass
        return write_atomic(path, _widgets_svg([it.scene().views()[0] for it in items]))
    widths = [max(1.0, it.sceneBoundingRect().width()) for it in items]
    scale = max(1.0, min_width / sum(widths))
    images = []
    for it, w in zip(items, widths):
        e = ex.ImageExporter(it)
        e.parameters()["width"] = int(round(w * scale))
        images.append(e.export(toBytes=True))
    return write_atomic(path, _png_bytes(side_by_side(images)))


def export_painting(path, size: QSize, paint, *, scale: float = 2.0, background=None,
                    title: str = "Backprop Studio") -> Path:
    """``paint(QPainter)`` drawing a picture of ``size``: SVG as vectors, PNG at ``scale``."""
    if kind_of(path) == "svg":
        return write_atomic(path, _svg_bytes(size, paint, title))
    img = QImage(int(size.width() * scale), int(size.height() * scale), QImage.Format_ARGB32)
    img.fill(QColor(background if background is not None else style.BG))
    p = QPainter(img)
    try:
        p.scale(scale, scale)
        paint(p)
    finally:
        p.end()
    return write_atomic(path, _png_bytes(img))


def export_text(path, text: str) -> Path:
    return write_atomic(path, text.encode("utf-8"))
