"""Value types shared by every layer (pure).

Filled by the issue that builds this layer; the layer contract in .importlinter already holds it.
"""
