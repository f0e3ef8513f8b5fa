"""Documents from a checkout and their validation before any write (I/O: files, subprocesses).

Filled by the issue that builds this layer; the layer contract in .importlinter already holds it.
"""
