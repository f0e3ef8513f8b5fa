"""Pair desired with live objects, order them in phases, find prune candidates (pure).

Filled by the issue that builds this layer; the layer contract in .importlinter already holds it.
"""
