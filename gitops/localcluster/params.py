"""Query parameters as the API server decodes them (metav1's ParameterCodec).

A boolean query parameter (``watch``, ``allowWatchBookmarks``, ``force``, ``orphanDependents``
...) goes through ``Convert_Slice_string_To_bool`` /
``Convert_Slice_string_To_Pointer_bool`` (apimachinery ``pkg/runtime/conversion.go``): absent
is false, ``0`` or ``false`` in any case is false, and anything else is true, the empty string
(``?watch=``) included. It is never a 400: ``?watch=yes`` watches.
"""

from __future__ import annotations


def query_bool(value: str | None) -> bool:
    """The boolean a query parameter's first value means (None: the parameter is absent)."""
    if value is None:
        return False
    return not (value == "0" or value.lower() == "false")
