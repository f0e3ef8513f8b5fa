"""The apps config file and CLI flags -> App, with precise errors (pure).

Filled by the sync-engine issue.
"""
