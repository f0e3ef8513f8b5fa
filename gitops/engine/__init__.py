"""One sync end to end and the rollout gate; imports pure packages and I/O interfaces.

Filled by the issue that builds this layer; the layer contract in .importlinter already holds it.
"""
