"""Bundled data and walkthroughs, installed as the package ``backprop_studio_resources``; read
through ``engine.resources.resource_path``."""
