"""Backprop Studio's engine: pure NumPy + the standard library.

A library a student can use from a notebook::

    from engine import ExperimentConfig, load_dataset, Trainer
    cfg = ExperimentConfig()                 # spiral, 100-unit ReLU MLP, softmax, L2
    data = load_dataset(cfg.dataset)
    trainer = Trainer.from_config(cfg, data)
    trainer.fit(epochs=10)
"""
from .config import (ConfigError, DatasetConfig, ExperimentConfig, LossConfig, ModelConfig,
                     OptimConfig)
from .datasets import Dataset, DatasetError, load_dataset
from .graph import Graph, Node, Trace
from .models import LinearClassifier, Network, build_model
from .trainer import StepResult, Trainer

__all__ = ["ConfigError", "DatasetConfig", "ExperimentConfig", "LossConfig", "ModelConfig", "OptimConfig",
           "Dataset", "DatasetError", "load_dataset", "Graph", "Node", "Trace", "LinearClassifier",
           "Network", "build_model", "StepResult", "Trainer"]
