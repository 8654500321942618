"""Dataset panel: every set of the registry (engine.datasets.registry: toy 2-D sets, bundled,
published sets read from a folder or downloaded, the user's own folder or file), with the
controls the chosen set uses (toy: classes, points, noise, seed; a folder, a file, the download);
split sizes, subsampling, preprocessing and the bias trick for every set; a preview (scatter
for toy points, sample images per class)."""
from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QFileDialog, QGroupBox, QHBoxLayout, QLabel,
                               QLineEdit, QProgressBar, QPushButton)

from engine.config import PREPROCESS
from engine.datasets.registry import REGISTRY, dataset_info

from .. import style
from .base import Panel, dspin, form, spin

PER_CLASS = 6


class DatasetPanel(Panel):
    def __init__(self, window, parent=None):
        super().__init__(window, parent)
        f = form()
        self.name = QComboBox()
        for i, info in enumerate(REGISTRY.values()):
            self.name.addItem(info.name)
            self.name.setItemData(i, f"{info.title}: {info.description}", Qt.ItemDataRole.ToolTipRole)
        self.name.currentTextChanged.connect(lambda t: self.edit("dataset.name", t))
        f.addRow("Dataset", self.name)
        self.outer.addLayout(f)
        self.about = QLabel("")         # the chosen set's title and description
        self.about.setObjectName("muted")
        self.about.setWordWrap(True)
        self.outer.addWidget(self.about)

        self.toy_box = QGroupBox("Toy 2-D set")
        f = form()
        self.classes = spin(2, 50)
        self.classes.valueChanged.connect(lambda v: self.edit("dataset.classes", v))
        self.samples = spin(1, 100000, 10)
        self.samples.valueChanged.connect(lambda v: self.edit("dataset.samples", v))
        self.noise = dspin(0.0, 5.0, 0.05, 2)
        self.noise.valueChanged.connect(lambda v: self.edit("dataset.noise", v))
        self.data_seed = spin(0, 2**31 - 1)
        self.data_seed.valueChanged.connect(lambda v: self.edit("dataset.seed", v))
        f.addRow("Classes", self.classes)
        f.addRow("Points per class", self.samples)
        f.addRow("Noise", self.noise)
        f.addRow("Data seed", self.data_seed)
        self.toy_box.setLayout(f)
        self.outer.addWidget(self.toy_box)

        self.src_box = QGroupBox("Source")
        f = form()
        self.data_dir = QLineEdit()
        self.data_dir.setPlaceholderText("folder (empty: the download cache)")
        self.data_dir.editingFinished.connect(lambda: self.edit("dataset.data_dir", self.data_dir.text().strip()))
        self.dir_btn = QPushButton("…")
        self.dir_btn.clicked.connect(self._choose_dir)
        row = QHBoxLayout()
        row.addWidget(self.data_dir, 1)
        row.addWidget(self.dir_btn)
        self.data_file = QLineEdit()
        self.data_file.setPlaceholderText("a .csv / .npz file")
        self.data_file.editingFinished.connect(lambda: self.edit("dataset.data_file", self.data_file.text().strip()))
        self.file_btn = QPushButton("…")
        self.file_btn.clicked.connect(self._choose_file)
        row2 = QHBoxLayout()
        row2.addWidget(self.data_file, 1)
        row2.addWidget(self.file_btn)
        self.download = QCheckBox("download into the cache if missing")
        self.download.toggled.connect(lambda on: self.edit("dataset.download", on))
        self.image_size = spin(1, 512)
        self.image_size.valueChanged.connect(lambda v: self.edit("dataset.image_size", v))
        f.addRow("Folder", row)
        f.addRow("File", row2)
        f.addRow("", self.download)
        f.addRow("Image size (folders)", self.image_size)
        self.src_box.setLayout(f)
        self.outer.addWidget(self.src_box)

        box = QGroupBox("Splits and preprocessing")
        f = form()
        self.val = dspin(0.0, 0.9, 0.05, 2)
        self.val.valueChanged.connect(lambda v: self.edit("dataset.val_fraction", v))
        self.test = dspin(0.0, 0.9, 0.05, 2)
        self.test.valueChanged.connect(lambda v: self.edit("dataset.test_fraction", v))
        self.subsample = spin(0, 10_000_000, 100, special="all")
        self.subsample.valueChanged.connect(lambda v: self.edit("dataset.subsample", v))
        self.preprocess = QComboBox()
        self.preprocess.addItems(PREPROCESS)
        self.preprocess.currentTextChanged.connect(lambda t: self.edit("dataset.preprocess", t))
        self.bias_trick = QCheckBox("bias trick (+1 feature)")
        self.bias_trick.setToolTip("Append a constant 1 to every example, so W absorbs b (the lecture's bias trick)")
        self.bias_trick.toggled.connect(lambda on: self.edit("dataset.bias_trick", on))
        f.addRow("Validation fraction", self.val)
        f.addRow("Test fraction", self.test)
        f.addRow("Training subsample", self.subsample)
        f.addRow("Preprocess", self.preprocess)
        f.addRow("", self.bias_trick)
        box.setLayout(f)
        self.outer.addWidget(box)

        row = QHBoxLayout()
        self.load_btn = QPushButton("Regenerate / load")
        self.load_btn.clicked.connect(lambda: window.load_dataset())
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(False)
        row.addWidget(self.load_btn)
        row.addWidget(self.progress, 1)
        self.outer.addLayout(row)
        self.summary = QLabel("")
        self.summary.setObjectName("muted")
        self.summary.setWordWrap(True)
        self.outer.addWidget(self.summary)
        self.preview = pg.GraphicsLayoutWidget()
        self.preview.setMinimumHeight(220)
        self.outer.addWidget(self.preview, 1)
        self._preview_for = None
        self._shown = None          # the dataset the summary and preview show
        self.scatter = None         # the preview's scatter of a 2-D set
        style.notifier().changed.connect(self.restyle)

    def restyle(self) -> None:
        """A new theme or scale: the preview drawn again (the scatter in the theme's class colours,
        the class names in its text colour, on its background)."""
        self.preview.setBackground(style.BG)
        if self._shown is not None:
            self._preview_for = None
            self._draw_preview(self._shown)

    def _choose_dir(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Choose the data folder", self.data_dir.text())
        if d:
            self.data_dir.setText(d)
            self.edit("dataset.data_dir", d)

    def _choose_file(self) -> None:
        f, _ = QFileDialog.getOpenFileName(self, "Choose a data file", self.data_file.text(),
                                           "Data (*.csv *.npz *.tar.gz);;All files (*)")
        if f:
            self.data_file.setText(f)
            self.edit("dataset.data_file", f)

    def _load(self, cfg) -> None:
        d = cfg.dataset
        info = dataset_info(d.name)
        self.name.setCurrentText(d.name)
        self.about.setText(f"{info.title}: {info.description}")
        self.toy_box.setVisible(info.is_toy)
        self.src_box.setVisible(bool(info.reads))
        for w in (self.data_dir, self.dir_btn):
            w.setEnabled(info.reads_folder)
        for w in (self.data_file, self.file_btn):
            w.setEnabled(info.reads_file)
        self.classes.setValue(d.classes)
        self.samples.setValue(d.samples)
        self.noise.setValue(d.noise)
        self.data_seed.setValue(d.seed)
        self.data_dir.setText(d.data_dir)
        self.data_file.setText(d.data_file)
        self.download.setChecked(d.download)
        self.download.setEnabled(info.downloads)
        self.image_size.setValue(d.image_size)
        self.val.setValue(d.val_fraction)
        self.test.setValue(d.test_fraction)
        self.subsample.setValue(d.subsample)
        self.preprocess.setCurrentText(d.preprocess)
        self.bias_trick.setChecked(d.bias_trick)

    def set_progress(self, frac: float, msg: str) -> None:
        self.progress.setValue(int(1000 * max(0.0, min(1.0, frac))))
        if msg:
            self.summary.setText(msg)

    def show_dataset(self, d) -> None:
        self.summary.setText(d.summary())
        self.progress.setValue(1000)
        self._shown = d
        self._draw_preview(d)

    def _draw_preview(self, d) -> None:
        if self._preview_for is d:
            return
        self._preview_for = d
        self.preview.clear()
        self.scatter = None
        if d.input_shape == (2,):       # toy points (with the bias trick, their third feature is the 1)
            p = self.preview.addPlot()
            p.setAspectLocked(True)
            p.hideAxis("left")
            p.hideAxis("bottom")
            brushes = [pg.mkBrush(style.class_color(k)) for k in d.y_train]
            self.scatter = pg.ScatterPlotItem(pos=d.X_train[:, :2], brush=brushes, size=style.line_px(7 / 3), pen=None)
            p.addItem(self.scatter)
            return
        imgs = d.raw_train
        shape = tuple(d.input_shape)
        if imgs is None and len(shape) == 3:
            X = d.X_train[:, :int(np.prod(shape))]
            imgs = X.reshape((-1, *shape))
        if imgs is None:
            self.preview.addLabel(f"{d.num_features} features per example — no image preview", color=style.FG)
            return
        ncls = min(d.num_classes, 10)
        for k in range(ncls):
            idx = np.flatnonzero(d.y_train == k)[:PER_CLASS]
            self.preview.addLabel(d.class_names[k][:10], row=k, col=0, size=f"{style.font_pt(-3):.0f}pt",
                                  color=style.FG)
            for j, i in enumerate(idx):
                vb = self.preview.addViewBox(row=k, col=j + 1, lockAspect=True, enableMouse=False)
                vb.invertY(True)
                im = np.asarray(imgs[i], dtype=np.float32)
                if im.ndim == 3 and im.shape[2] == 1:
                    im = im[:, :, 0]
                lo, hi = float(im.min()), float(im.max())
                vb.addItem(pg.ImageItem(np.ascontiguousarray(im), levels=(lo, hi if hi > lo else lo + 1)))
