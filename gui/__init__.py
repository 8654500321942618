"""Backprop Studio's PySide6 + pyqtgraph interface (a client of engine/)."""
