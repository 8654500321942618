import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# One BLAS thread, as the application runs (gui/__init__.py): on small matrices OpenBLAS's spinning
# helper threads cost far more than they gain, and they would fight the tests' training processes.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# The GUI tests' fixtures (an isolated settings file, no dialogs, a window on a tiny problem), for
# every test module without an import in each (gui_fixtures imports no Qt at module level)
from tests.gui_fixtures import settings_env, window  # noqa: E402,F401
