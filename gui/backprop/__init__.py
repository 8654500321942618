"""The animated computational-graph backprop view (issue 5).

Embed :class:`BackpropView` as a tab; :class:`BackpropWindow` shows it on its own;
:func:`create_open_walkthrough_action` makes the File > Open walkthrough action.
"""
from .view import BackpropView, create_open_walkthrough_action
from .window import BackpropWindow, show_backprop_window

__all__ = ["BackpropView", "BackpropWindow", "create_open_walkthrough_action", "show_backprop_window"]
