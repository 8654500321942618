"""engine/ is pure NumPy + stdlib: it must import with Qt and pyqtgraph made unimportable."""
import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]

BLOCKER = r"""
import sys, importlib.abc
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in ('PySide6', 'PyQt5', 'PyQt6', 'shiboken6', 'pyqtgraph', 'gui'):
            raise ImportError('blocked for the test: ' + name)
sys.meta_path.insert(0, Block())
import engine, engine.cli, engine.graph, engine.layers, engine.models, engine.trainer, engine.optim
import engine.gradcheck, engine.expr, engine.experiment, engine.datasets
import pkgutil
for m in pkgutil.walk_packages(engine.__path__, 'engine.'):
    __import__(m.name)
bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6', 'pyqtgraph', 'gui', 'shiboken6')]
assert not bad, bad
print('ok')
"""


def test_engine_imports_without_qt():
    r = subprocess.run([sys.executable, "-c", BLOCKER], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().endswith("ok")


def test_engine_sources_do_not_mention_qt_imports():
    for path in (ROOT / "engine").rglob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            s = line.strip()
            if s.startswith(("import ", "from ")):
                assert "PySide6" not in s and "pyqtgraph" not in s and not s.startswith(("from gui", "import gui")), \
                    f"{path}: {s}"
