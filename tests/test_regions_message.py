"""The Decision regions view says why it has nothing to draw, naming the registry's 2-D sets."""
from types import SimpleNamespace

from engine.datasets.registry import dataset_names


def test_image_sets_are_pointed_to_every_toy_set():
    from gui.views.regions_view import regions_unavailable
    text = regions_unavailable(SimpleNamespace(name="digits", num_features=64))
    assert "digits has 64 features" in text
    assert all(name in text for name in dataset_names("toy"))


def test_a_toy_set_with_the_bias_trick_is_told_about_it():
    from gui.views.regions_view import regions_unavailable
    text = regions_unavailable(SimpleNamespace(name="spiral", num_features=3))
    assert "bias trick" in text and "3 features" not in text
