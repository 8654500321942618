"""Central views: loss curves, weight templates, decision regions, predictions."""
