"""Normalize, fingerprint and explain differences; mask Secret values (pure).

Filled by the issue that builds this layer; the layer contract in .importlinter already holds it.
"""
