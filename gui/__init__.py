"""Backprop Studio's PySide6 + pyqtgraph interface (a client of engine/).

One BLAS thread per process: the training process has one core and the window the other.
OpenBLAS's helper threads keep spinning after each matrix product, so a multi-threaded product
in the window process (the decision-region grid) would take the training process's core.  This
runs before NumPy is first imported when the window is opened through main.py, and the training
process inherits it.  A variable the user has set is kept.
"""
import os

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
