"""The only code that uses APScheduler: schedule, webhooks, HTTP API, metrics (I/O).

Filled by the issue that builds this layer; the layer contract in .importlinter already holds it.
"""
