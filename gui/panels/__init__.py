"""Dock panels that edit the ExperimentConfig: dataset, architecture, loss, training."""
