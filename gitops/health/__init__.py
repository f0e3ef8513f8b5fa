"""One health function per kind, found through a registry (pure).

Filled by the issue that builds this layer; the layer contract in .importlinter already holds it.
"""
