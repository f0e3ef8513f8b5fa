"""The only code that uses the kubernetes client: connection, discovery, list, apply, delete (I/O).

Filled by the issue that builds this layer; the layer contract in .importlinter already holds it.
"""
