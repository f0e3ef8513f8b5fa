"""The three PATCH bodies of the Kubernetes API, applied to plain JSON objects (pure, no I/O).

Each function takes the stored object and the decoded request body and returns a new object;
neither input is changed. Failures raise :class:`PatchError` carrying the HTTP code and message a
kube-apiserver 1.32 answers with (``k8s.io/apiserver/pkg/endpoints/handlers/patch.go``).

- :func:`apply_json_patch`, ``application/json-patch+json``: RFC 6902 via the ``jsonpatch`` library.
- :func:`apply_merge_patch`, ``application/merge-patch+json``: RFC 7386 as the server's
  ``gopkg.in/evanphx/json-patch.v4`` ``MergePatch`` does it.
- :func:`apply_strategic_merge_patch`, ``application/strategic-merge-patch+json``: a port of the
  apply half of ``k8s.io/apimachinery/pkg/util/strategicpatch/patch.go`` (Kubernetes 1.32) with the
  options the server uses (``StrategicMergeMapPatch``: ``MergeParallelList`` and
  ``IgnoreUnmatchedNulls``). Go function names are cited beside their ports. Merge keys and
  strategies come from the :class:`~gitops.localcluster.schema.TypeNode` (the
  ``x-kubernetes-patch-*`` OpenAPI annotations), never from field names.

Two things the Go code gets from its surroundings are reproduced on purpose:

- Go slices share backing arrays. Deleting list items and then appending new ones writes through
  to the caller's view of the original list, and ``$setElementOrder`` sorts by that view (upstream
  test "add map and delete map from merging list with conflict" depends on it). ``_merge_slice``
  writes to ``original`` exactly where Go would.
- The server converts the merged map to a typed object, which silently drops ``null`` fields and
  leftover directive keys. Values taken whole from the patch therefore go through ``_clean``
  (Go's ``discardNullValuesFromPatch`` plus ``removeDirectives``) so no directive key or null is
  ever stored.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import jsonpatch

from gitops.localcluster import schema

# k8s.io/apiserver handlers/patch.go: maxJSONPatchOperations.
MAX_JSON_PATCH_OPERATIONS = 10000

_DIRECTIVE = "$patch"
_RETAIN_KEYS = "$retainKeys"
_DELETE_PREFIX = "$deleteFromPrimitiveList"
_ORDER_PREFIX = "$setElementOrder"

# The message of apierrors.NewGenericServerResponse(422, ...): the cause itself is not sent.
_REJECTED = "the server rejected our request due to an error in our request"

_MISSING = object()  # a key absent from a map
_DROP = object()  # _clean's answer for a map holding $patch: the field or item goes away


class PatchError(ValueError):
    """A patch the server refuses; ``str(err)`` is the Status message, ``code`` its HTTP code.

    400 (BadRequest) for bodies that do not decode or break a documented format rule, 413 for
    JSON patches over 10000 operations, 422 (Invalid) for patches that do not apply, and 500 for
    the strategic-merge errors the real server passes through unconverted (``errors.go`` of
    ``mergepatch``; ``ErrorToAPIStatus`` turns those into a 500 with an empty reason).
    """

    _REASONS = {400: "BadRequest", 413: "RequestEntityTooLarge", 422: "Invalid"}

    def __init__(self, message: str, code: int = 400) -> None:
        super().__init__(message)
        self.code = code

    @property
    def reason(self) -> str:
        """The Status ``reason`` the server sends with this code ("" means StatusReasonUnknown)."""
        return self._REASONS.get(self.code, "")


# --- JSON patch (RFC 6902) ---------------------------------------------------------------------


def apply_json_patch(obj: dict[str, Any], ops: Any) -> dict[str, Any]:
    """Apply an RFC 6902 patch; a failing op (``test`` included) is a 422 like the real server."""
    if ops is None:  # Go decodes JSON null into an empty jsonpatch.Patch
        ops = []
    if not isinstance(ops, list):
        raise PatchError(f"json: cannot unmarshal {_json_kind(ops)} into Go value of type jsonpatch.Patch")
    for op in ops:
        if not isinstance(op, dict):
            raise PatchError(
                f"json: cannot unmarshal {_json_kind(op)} into Go value of type jsonpatch.Operation"
            )
    if len(ops) > MAX_JSON_PATCH_OPERATIONS:
        raise PatchError(
            f"The allowed maximum operations in a JSON patch is {MAX_JSON_PATCH_OPERATIONS}, got {len(ops)}",
            413,
        )
    try:
        result = jsonpatch.JsonPatch(copy.deepcopy(ops)).apply(obj)
    except (
        jsonpatch.JsonPatchException,
        jsonpatch.JsonPointerException,
        KeyError,
        IndexError,
        TypeError,
        ValueError,
    ) as err:
        raise PatchError(_REJECTED, 422) from err
    if not isinstance(result, dict):
        raise _not_an_object(result)
    return result


# --- JSON merge patch (RFC 7386, evanphx/json-patch v4 merge.go) --------------------------------


def apply_merge_patch(obj: dict[str, Any], patch: Any) -> dict[str, Any]:
    """Apply an RFC 7386 merge patch: ``null`` deletes, objects merge, anything else replaces.

    As in evanphx ``doMergePatch``: a null or scalar body is ``Invalid JSON Patch`` (400); an array
    body replaces the whole document, which the server then cannot decode as an object (422).
    Nulls inside added values are pruned (``pruneNulls``), also inside arrays' objects.
    """
    if isinstance(patch, dict):
        return _merge_docs(copy.deepcopy(obj), patch)
    if isinstance(patch, list):
        raise _not_an_object(_prune_nulls(patch))
    raise PatchError("Invalid JSON Patch")


def _merge_docs(doc: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    # evanphx mergeDocs / merge with mergeMerge=false.
    for key, value in patch.items():
        current = doc.get(key)
        if value is None:
            doc.pop(key, None)
        elif current is None:
            doc[key] = _prune_nulls(value)
        elif isinstance(current, dict) and isinstance(value, dict):
            _merge_docs(current, value)
        elif isinstance(current, dict):
            doc[key] = copy.deepcopy(value)  # merge(): a non-object patch is taken as it is
        else:
            doc[key] = _prune_nulls(value)
    return doc


def _prune_nulls(value: Any) -> Any:
    # evanphx pruneDocNulls/pruneAryNulls: null members go, null array items stay.
    if isinstance(value, dict):
        return {k: _prune_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_prune_nulls(v) for v in value]
    return value


def _not_an_object(result: Any) -> PatchError:
    # jsonPatcher.applyPatchToCurrentObject: runtime.DecodeInto fails, errors.NewInvalid(patch).
    body = json.dumps(result, separators=(",", ":"))
    return PatchError(
        f' "" is invalid: patch: Invalid value: {json.dumps(body)}: couldn\'t get version/kind; json parse '
        f"error: json: cannot unmarshal {_json_kind(result)} into Go value of type struct "
        '{ APIVersion string "json:\\"apiVersion,omitempty\\""; Kind string "json:\\"kind,omitempty\\"" }',
        422,
    )


# --- Strategic merge patch -----------------------------------------------------------------------


def apply_strategic_merge_patch(obj: dict[str, Any], patch: Any, node: schema.TypeNode) -> dict[str, Any]:
    """Apply a strategic merge patch to ``obj`` whose root type is ``node`` (StrategicMergeMapPatch)."""
    if patch is None:  # json.Unmarshal of null leaves the patch map nil: nothing to do
        return copy.deepcopy(obj)
    if not isinstance(patch, dict):
        raise PatchError(
            f"json: cannot unmarshal {_json_kind(patch)} into Go value of type map[string]interface {{}}"
        )
    return _merge_map(copy.deepcopy(obj), patch, node)


def _merge_map(original: dict[str, Any], patch: dict[str, Any], node: schema.TypeNode) -> dict[str, Any]:
    """mergeMap: merge ``patch`` into ``original`` (changed in place and returned)."""
    if _DIRECTIVE in patch:
        return _map_directive(patch)
    patch = dict(patch)  # the steps below consume directive keys, as Go deletes them from its map
    _apply_retain_keys(original, patch)
    _merge_ordered_lists(original, patch, node)
    for key, value in patch.items():
        is_delete_list = key.startswith(_DELETE_PREFIX)  # preprocessDeletionListForMerging
        if is_delete_list:
            key = _extract_key(key, _DELETE_PREFIX)
        if value is None:  # IgnoreUnmatchedNulls: a null deletes and is never stored
            original.pop(key, None)
            continue
        current = original.get(key, _MISSING)
        if current is _MISSING or type(current) is not type(value):
            if not is_delete_list:  # the patch value wins, minus nulls and directives
                cleaned = _clean(value)
                if cleaned is _DROP:
                    original.pop(key, None)
                else:
                    original[key] = cleaned
        elif isinstance(current, dict):
            child = _field(node, key)
            if _strategy(child) == "replace":  # mergeMapHandler
                original[key] = _clean(value)
            else:
                original[key] = _merge_map(current, value, child)
        elif isinstance(current, list):
            original[key] = _merge_slice_handler(current, value, _field(node, key), is_delete_list)
        else:
            original[key] = value  # same scalar type (Go does this even for a deletion list)
    return original


def _map_directive(patch: dict[str, Any]) -> dict[str, Any]:
    # handleDirectiveInMergeMap: only replace and delete exist in a map; "merge" is struct-tag only.
    directive = patch[_DIRECTIVE]
    if directive == "replace":
        replaced: dict[str, Any] = _clean({k: v for k, v in patch.items() if k != _DIRECTIVE})
        return replaced
    if directive == "delete":
        return {}
    raise _bad_patch_type(directive, patch)


def _apply_retain_keys(original: dict[str, Any], patch: dict[str, Any]) -> None:
    # applyRetainKeysDirective: keys outside the list are cleared from the original.
    if _RETAIN_KEYS not in patch:
        return
    retain = patch.pop(_RETAIN_KEYS)
    if not isinstance(retain, list):
        raise PatchError("invalid patch format of retainKeys")
    keep = {k for k in retain if isinstance(k, str)}
    for key, value in patch.items():
        if value is None or key.startswith((_DELETE_PREFIX, _ORDER_PREFIX)):
            continue
        if key not in keep:
            raise PatchError("invalid patch format of retainKeys")
    for key in [k for k in original if k not in keep]:
        del original[key]


def _merge_ordered_lists(original: dict[str, Any], patch: dict[str, Any], node: schema.TypeNode) -> None:
    """mergePatchIntoOriginal: merge each list named by a ``$setElementOrder/<field>`` and order it.

    Precedence is $setElementOrder > order in the patch list > order in the live list; the list
    and its directive are removed from ``patch`` so the main loop does not see them again.
    """
    for directive in [k for k in patch if k.startswith(_ORDER_PREFIX)]:
        order = patch.pop(directive)
        if not isinstance(order, list):
            raise _bad_arg_type(list, order)
        field = _extract_key(directive, _ORDER_PREFIX)
        original_list = original.get(field, _MISSING)
        patch_list = patch.get(field, _MISSING)
        for value in (original_list, patch_list):
            if value is not _MISSING and not isinstance(value, list):
                raise _bad_arg_type(list, value)
        child = _field(node, field)
        merge_key = child.patch_merge_key or ""
        _validate_order(patch_list if isinstance(patch_list, list) else [], order, merge_key)
        if isinstance(original_list, list) and isinstance(patch_list, list):
            # Go passes the stored list itself, so _merge_slice's writes show in original_list.
            merged = _merge_slice_handler(original_list, patch_list, child, False)
        elif isinstance(original_list, list):
            merged = original_list
        elif isinstance(patch_list, list):
            merged = _clean(patch_list)
        else:
            continue
        server_order = original_list if isinstance(original_list, list) else []
        if merge_key:
            patch_items, server_only = _partition_maps(merged, order, merge_key)
        else:
            patch_items, server_only = _partition_primitives(merged, order)
        kind = _element_kind(server_order, patch_list if isinstance(patch_list, list) else [])
        original[field] = _normalize_element_order(
            patch_items, server_only, order, server_order, merge_key, kind
        )
        patch.pop(field, None)


def _validate_order(patch_list: list[Any], order: list[Any], merge_key: str) -> None:
    # validatePatchWithSetOrderList: patch items must appear in $setElementOrder, in that order.
    if not order or not patch_list:
        return
    items = patch_list
    if merge_key:  # extractToDeleteItems
        for item in patch_list:
            if not isinstance(item, dict):
                raise _bad_arg_type(dict, item)
        items = [i for i in patch_list if not _is_delete(i)]
    p = o = 0
    while p < len(items) and o < len(order):
        if isinstance(items[p], dict) and _DIRECTIVE in items[p]:
            p += 1
            continue
        if _merge_key_equal(items[p], order[o], merge_key):
            p += 1
        o += 1
    if p < len(items) and o >= len(order):
        raise PatchError(
            f"The order in patch list:\n{_gofmt(patch_list)}\n doesn't match {_ORDER_PREFIX} list:\n{_gofmt(order)}\n",
            500,
        )


def _merge_slice_handler(
    original: list[Any], patch: list[Any], node: schema.TypeNode, is_delete_list: bool
) -> list[Any]:
    # mergeSliceHandler: delete lists apply whatever the strategy (kubernetes#110472).
    if _strategy(node) == "merge" or is_delete_list:
        return _merge_slice(original, patch, node.items(), node.patch_merge_key or "", is_delete_list)
    replaced: list[Any] = _clean(patch)  # no merge strategy: the list is replaced
    return replaced


def _merge_slice(
    original: list[Any], patch: list[Any], elem: schema.TypeNode, merge_key: str, is_delete_list: bool
) -> list[Any]:
    """mergeSlice. ``original`` is treated as the Go backing array the caller still looks at."""
    if not original and not patch:
        return original
    kind = _element_kind(original, patch)
    if kind != "map":
        if is_delete_list:  # deleteFromSlice
            return [v for v in original if not any(_same(v, d) for d in patch)]
        merged = _dedupe([*original, *patch])  # deduplicateScalars (its order is normalized below)
        server_order = original
    else:
        if not merge_key:
            raise PatchError(
                f"cannot merge lists without merge key for {elem.ref_name.rsplit('.', 1)[-1]}", 500
            )
        current, patch, shared = _merge_special_elements(original, patch, merge_key)
        server_order = list(current)  # mergeSlice's own `original` after the deletions
        merged = _merge_plain_elements(original if shared else None, current, patch, merge_key, elem)
    if merge_key:
        patch_items, server_only = _partition_maps(merged, patch, merge_key)
    else:
        patch_items, server_only = _partition_primitives(merged, patch)
    return _normalize_element_order(patch_items, server_only, patch, server_order, merge_key, kind)


def _merge_special_elements(
    original: list[Any], patch: list[Any], merge_key: str
) -> tuple[list[Any], list[Any], bool]:
    """mergeSliceWithSpecialElements: apply ``$patch`` items; returns (current, patch, shared).

    Deletions shift ``original`` in place like Go's ``append(s[:k], s[k+1:]...)``. ``shared`` is
    False after ``$patch: replace``, whose result is a fresh slice.
    """
    current = list(original)
    plain: list[Any] = []
    replace = False
    for item in patch:
        if _DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[_DIRECTIVE]
        if directive == "delete":
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
            while (index := _find(current, merge_key, item[merge_key])) is not None:
                del current[index]
                original[: len(current)] = current  # the tail slot keeps its stale value
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchError("merging lists cannot yet be specified in the patch", 500)
        else:
            raise _bad_patch_type(directive, item)
    if replace:
        return [_clean(i) for i in plain], [], False
    return current, plain, True


def _merge_plain_elements(
    backing: list[Any] | None,
    current: list[Any],
    patch: list[Any],
    merge_key: str,
    elem: schema.TypeNode,
) -> list[Any]:
    # mergeSliceWithoutSpecialElements: merge items with a known key, append the others.
    # An append lands in the backing array while it has a free slot inside the caller's length.
    current = list(current)
    for item in patch:
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        index = _find(current, merge_key, item[merge_key])
        if index is not None:
            current[index] = _merge_map(current[index], item, elem)
            continue
        if backing is not None and len(current) < len(backing):
            backing[len(current)] = item
        current.append(_clean(item))
    return current


def _normalize_element_order(
    patch_items: list[Any],
    server_only: list[Any],
    patch_order: list[Any],
    server_order: list[Any],
    merge_key: str,
    kind: str,
) -> list[Any]:
    """normalizeElementOrder: sort both parts, then interleave them by the live order.

    In mergeSortedSlice a server-only item goes before a patch item only when both are in the live
    list and it comes first there; so items new to the list land before the remaining server-only
    items (kubectl patch docs: a container added by a patch comes first).
    """
    patch_items = _normalize_slice_order(patch_items, patch_order, merge_key, kind)
    server_only = _normalize_slice_order(server_only, server_order, merge_key, kind)
    merged: list[Any] = []
    i = j = 0
    while i < len(server_only) and j < len(patch_items):
        left = _index(server_order, server_only[i], merge_key, kind)
        right = _index(server_order, patch_items[j], merge_key, kind)
        if left >= 0 and right >= 0 and left < right:
            merged.append(server_only[i])
            i += 1
        else:
            merged.append(patch_items[j])
            j += 1
    return merged + server_only[i:] + patch_items[j:]


def _normalize_slice_order(items: list[Any], order: list[Any], merge_key: str, kind: str) -> list[Any]:
    # normalizeSliceOrder: a stable sort by position in `order`, `$patch: delete` items last.
    # Every item is found in `order` on the server's paths, so Go's less() is a strict order here.
    deletes: list[Any] = []
    if kind == "map":
        for item in [*items, *order]:
            if not isinstance(item, dict):
                raise _bad_arg_type(dict, item)
            if merge_key not in item:
                raise _no_merge_key(item, merge_key)
        deletes = [i for i in items if _is_delete(i)]
        items = [i for i in items if not _is_delete(i)]

    def position(item: Any) -> int:
        index = _index(order, item, merge_key, kind)
        return index if index >= 0 else len(order)

    return sorted(items, key=position) + deletes


def _partition_maps(merged: list[Any], by: list[Any], merge_key: str) -> tuple[list[Any], list[Any]]:
    # partitionMapsByPresentInList
    inside: list[Any] = []
    outside: list[Any] = []
    for item in merged:
        if not isinstance(item, dict):
            raise _bad_arg_type(dict, item)
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
        (inside if _find(by, merge_key, item[merge_key]) is not None else outside).append(item)
    return inside, outside


def _partition_primitives(merged: list[Any], by: list[Any]) -> tuple[list[Any], list[Any]]:
    # partitionPrimitivesByPresentInList
    inside = [v for v in merged if any(_same(v, b) for b in by)]
    outside = [v for v in merged if not any(_same(v, b) for b in by)]
    return inside, outside


# --- helpers -------------------------------------------------------------------------------------


def _clean(value: Any) -> Any:
    """A copy of a value taken whole from the patch: discardNullValuesFromPatch + removeDirectives.

    A map holding ``$patch`` is dropped (``_DROP`` at the top), null members go, and leftover
    parallel-list/retainKeys keys go (the server's typed conversion drops those as unknown fields).
    """
    if isinstance(value, dict):
        if _DIRECTIVE in value:
            return _DROP
        out: dict[str, Any] = {}
        for key, item in value.items():
            if (
                item is None
                or key == _RETAIN_KEYS
                or key.startswith((_DELETE_PREFIX + "/", _ORDER_PREFIX + "/"))
            ):
                continue
            cleaned = _clean(item)
            if cleaned is not _DROP:
                out[key] = cleaned
        return out
    if isinstance(value, list):
        return [c for c in map(_clean, value) if c is not _DROP]
    return value


def _field(node: schema.TypeNode, key: str) -> schema.TypeNode:
    # LookupPatchMetadataForStruct/ForSlice; fields the schema does not know merge like JSON.
    child = node.field(key)
    return child if child is not None else schema.untyped()


def _strategy(node: schema.TypeNode) -> str:
    # extractRetainKeysPatchStrategy: retainKeys is reported separately; "" means replace lists.
    strategies = node.patch_strategy
    others = [s for s in strategies if s != "retainKeys"]
    if len(strategies) > 2 or len(others) > 1:
        raise PatchError(f"unexpected patch strategy: [{' '.join(strategies)}]", 500)
    return others[0] if others else ""


def _extract_key(key: str, prefix: str) -> str:
    # extractKey: "$setElementOrder/containers" -> "containers".
    head, slash, rest = key.partition("/")
    if not slash or head != prefix:
        what = "primitive list" if prefix == _DELETE_PREFIX else "setElementOrder list"
        raise PatchError(f"invalid patch format of {what}")
    return rest


def _element_kind(*lists: list[Any]) -> str:
    # sliceElementType: all items of one JSON type and no lists of lists; "map" or "scalar".
    types = {type(v) for values in lists for v in values}
    if not types:
        raise PatchError("no elements in any of the given slices", 500)
    if len(types) > 1:
        raise PatchError(f"list element types are not identical: {_gofmt(list(lists))}", 500)
    kind = types.pop()
    if kind is list:
        raise PatchError("lists of lists are not supported", 422)
    return "map" if kind is dict else "scalar"


def _same(a: Any, b: Any) -> bool:
    # Go's == on interface{} values: the dynamic types must match (1 != 1.0, true != 1).
    return type(a) is type(b) and bool(a == b)


def _dedupe(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if not any(_same(v, o) for o in out):
            out.append(v)
    return out


def _find(items: list[Any], key: str, value: Any) -> int | None:
    # findMapInSliceBasedOnKeyValue
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise PatchError(f"value for key {index} is not a map.", 500)
        if key in item and _same(item[key], value):
            return index
    return None


def _index(items: list[Any], value: Any, merge_key: str, kind: str) -> int:
    # index(): by merge key value for maps, by value otherwise; -1 when absent.
    def key_of(item: Any) -> Any:
        return item.get(merge_key) if isinstance(item, dict) else None

    wanted = key_of(value) if kind == "map" else value
    for i, item in enumerate(items):
        if _same(key_of(item) if kind == "map" else item, wanted):
            return i
    return -1


def _merge_key_equal(left: Any, right: Any, merge_key: str) -> bool:
    # mergeKeyValueEqual
    if not merge_key:
        return _same(left, right)
    for item in (left, right):
        if not isinstance(item, dict):
            raise _bad_arg_type(dict, item)
        if merge_key not in item:
            raise _no_merge_key(item, merge_key)
    return _same(left[merge_key], right[merge_key])


def _is_delete(item: Any) -> bool:
    return isinstance(item, dict) and item.get(_DIRECTIVE) == "delete"


# mergepatch/errors.go messages; the server passes these through as 500s.
def _no_merge_key(item: dict[str, Any], merge_key: str) -> PatchError:
    return PatchError(f"map: {_gofmt(item)} does not contain declared merge key: {merge_key}", 500)


def _bad_patch_type(directive: Any, item: dict[str, Any]) -> PatchError:
    shown = directive if isinstance(directive, str) else f"%!s({_go_type(directive)}={_gofmt(directive)})"
    return PatchError(f"unknown patch type: {shown} in map: {_gofmt(item)}", 500)


def _bad_arg_type(expected: type, actual: Any) -> PatchError:
    return PatchError(f"expected a {_go_type(expected())}, but received a {_go_type(actual)}", 500)


_GO_TYPES: dict[type, str] = {
    dict: "map[string]interface {}",
    list: "[]interface {}",
    str: "string",
    bool: "bool",
    int: "int64",
    float: "float64",
    type(None): "%!s(<nil>)",
}


def _go_type(value: Any) -> str:
    return _GO_TYPES.get(type(value), type(value).__name__)


def _gofmt(value: Any) -> str:
    """Go's ``%v`` of a decoded JSON value (maps print with sorted keys)."""
    if value is None:
        return "<nil>"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e21 else repr(value)
    if isinstance(value, dict):
        return "map[" + " ".join(f"{k}:{_gofmt(value[k])}" for k in sorted(value)) + "]"
    if isinstance(value, list):
        return "[" + " ".join(_gofmt(v) for v in value) + "]"
    return str(value)


def _json_kind(value: Any) -> str:
    # The JSON type word in encoding/json's UnmarshalTypeError.
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return "string" if isinstance(value, str) else "null"
