"""``LabsWidget``: a QTabWidget of the lecture labs in the lecture's order."""
from __future__ import annotations

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QScrollArea, QTabWidget, QVBoxLayout

from ..views.base import View
from .common import big_font


def _lab_classes():
    from .score_lab import ScoreLab
    classes = [ScoreLab]
    try:
        from .linear_lab import LinearLab
        classes.append(LinearLab)
    except ImportError:
        pass
    try:
        from .loss_lab import LossLab
        classes.append(LossLab)
    except ImportError:
        pass
    try:
        from .overfit_lab import OverfitLab
        classes.append(OverfitLab)
    except ImportError:
        pass
    try:
        from .optim_lab import OptimLab
        classes.append(OptimLab)
    except ImportError:
        pass
    try:
        from .landscape_lab import LandscapeLab
        classes.append(LandscapeLab)
    except ImportError:
        pass
    try:
        from .activation_lab import ActivationLab
        classes.append(ActivationLab)
    except ImportError:
        pass
    return classes


class _FitScroll(QScrollArea):
    """Gives its widget the viewport's size, or its minimum size where that is larger (then it
    scrolls).  QScrollArea's own resizing asks a layout with word-wrapped labels for its
    *preferred* height at the width, so a lab that fits would scroll and its plots grow."""

    def __init__(self):
        super().__init__()
        self.setFrameShape(QScrollArea.NoFrame)

    def setWidget(self, w):  # noqa: N802
        super().setWidget(w)
        w.installEventFilter(self)   # a lab whose minimum size grows (a 10-row table) is refitted

    def eventFilter(self, obj, event):  # noqa: N802
        if event.type() == QEvent.LayoutRequest and obj is self.widget():
            self.fit()
        return super().eventFilter(obj, event)

    def fit(self) -> None:
        w, vp = self.widget(), self.maximumViewportSize()
        if w is not None:
            m = w.minimumSizeHint()
            w.resize(max(vp.width(), m.width()), max(vp.height(), m.height()))

    def resizeEvent(self, event):  # noqa: N802
        self.fit()
        super().resizeEvent(event)


class LabsWidget(View):
    """One sub-tab per lab.  ``set_dataset(Dataset | None)``, ``set_model(Network | None)``
    (a snapshot copy: the labs never train it), ``shutdown()`` (cancel + wait for jobs).

    A lab is built when its sub-tab is first shown (or when :attr:`labs` is asked for): building
    the six labs' fifteen plots up front slowed the main window's start, for a tab shown later if at all."""

    title = "Labs"
    uses_dataset = uses_model = True

    def __init__(self, parent=None, dataset=None, load_default: bool = True):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget()
        self.tabs.setFont(big_font(0, True))
        lay.addWidget(self.tabs)
        self._classes = _lab_classes()
        self._built: list = [None] * len(self._classes)
        for cls in self._classes:          # a low window scrolls a lab instead of overlapping its parts
            self.tabs.addTab(_FitScroll(), cls.title.replace("&", "&&"))
        self.tabs.currentChanged.connect(self._build_shown)
        self.dataset = None
        self.model = None
        if dataset is not None:
            self.set_dataset(dataset)
        elif load_default:
            self._load_default()

    def _build(self, i: int):
        lab = self._built[i]
        if lab is None:
            lab = self._built[i] = self._classes[i]()
            lab.setFont(big_font())
            scroll = self.tabs.widget(i)
            scroll.setWidget(lab)
            scroll.fit()
            if scroll.isVisible():
                lab.show()          # (a widget given to a shown scroll area is not shown by it)
            if self.dataset is not None:
                lab.set_dataset(self.dataset)
            if self.model is not None:
                lab.set_model(self.model)
        return lab

    def _build_shown(self, *_):
        if self.isVisible() and self.tabs.currentIndex() >= 0:
            self._sync_from_host()
            self._build(self.tabs.currentIndex())

    def showEvent(self, event):  # noqa: N802
        self._build_shown()
        super().showEvent(event)

    def _sync_from_host(self) -> None:
        """Take the window's dataset (and a model snapshot, if the labs have none yet) when it
        is not the one the labs have.

        The main window hands its dataset to a tab through ``set_dataset`` when the tab is shown —
        but not while training runs (so a lab is not restarted under the lecturer's hands), and
        the window creates this widget without a dataset (``load_default=False``).  Opened while
        the demo trains, every lab said "no dataset loaded".  A dataset the labs never had
        restarts nothing, so the labs ask for it themselves when they are shown."""
        host = self.window()
        if host is self or not hasattr(host, "current_dataset"):
            return
        try:
            d = host.current_dataset()
            if d is not None and d is not self.dataset:
                self._apply_dataset(d)
            if self.model is None and hasattr(host, "current_model_snapshot"):
                m = host.current_model_snapshot()
                if m is not None:
                    self.set_model(m)
        except Exception:  # noqa: BLE001  (the window's hooks will deliver them later)
            import traceback
            traceback.print_exc()

    @property
    def labs(self) -> list:
        """Every lab, in the lecture's order (building those not shown yet)."""
        return [self._build(i) for i in range(len(self._classes))]

    def lab(self, name: str):
        """The lab whose class name or title is ``name``."""
        for i, cls in enumerate(self._classes):
            if cls.__name__ == name or cls.title == name:
                return self._build(i)
        raise KeyError(name)

    @staticmethod
    def default_dataset():
        """The bundled digits (offline), or the toy spiral if digits cannot be loaded."""
        from engine.config import DatasetConfig
        from engine.datasets import DatasetError, load_dataset
        try:
            return load_dataset(DatasetConfig(name="digits"))
        except (DatasetError, ImportError, OSError):
            return load_dataset(DatasetConfig(name="spiral"))

    def _load_default(self) -> None:
        self._apply_dataset(self.default_dataset())

    def set_dataset(self, dataset) -> None:
        """The main window's dataset (an engine Dataset); None → the default dataset."""
        if dataset is None:
            self._load_default()
            return
        self._apply_dataset(dataset)

    def _apply_dataset(self, dataset) -> None:
        if dataset is self.dataset:
            return          # (already given: the labs' work is not redone)
        self.dataset = dataset
        for lab in self._built:
            if lab is not None:
                lab.set_dataset(dataset)

    def set_model(self, network) -> None:
        """A snapshot copy of the main window's Network (or None)."""
        self.model = network
        for lab in self._built:
            if lab is not None:
                lab.set_model(network)

    def shutdown(self) -> None:
        for lab in self._built:
            if lab is not None:
                lab.shutdown()

    def closeEvent(self, event):  # noqa: N802
        self.shutdown()
        super().closeEvent(event)
