"""The only code that uses sqlite3: schema, migrations, sync records (I/O).

Filled by the issue that builds this layer; the layer contract in .importlinter already holds it.
"""
