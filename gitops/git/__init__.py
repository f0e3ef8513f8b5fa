"""The only code that uses GitPython: clone cache, fetch, resolve, credentials (I/O).

Filled by the issue that builds this layer; the layer contract in .importlinter already holds it.
"""
