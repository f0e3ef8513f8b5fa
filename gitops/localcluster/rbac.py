"""RBAC authorization for the local cluster, as kube-apiserver's authorizer chain decides it.

Used only with ``LocalCluster(auth=True)``. Each HTTP request becomes authorizer attributes the
way ``apiserver/pkg/endpoints/request/requestinfo.go`` derives them (:func:`request_attributes`),
and is allowed when

1. the user is in ``system:masters`` (the privileged-groups authorizer that precedes RBAC,
   ``apiserver/pkg/authorization/authorizerfactory``), or
2. a rule reachable from the user's bindings allows it (``plugin/pkg/auth/authorizer/rbac/rbac.go``
   RBACAuthorizer.Authorize over ``pkg/registry/rbac/validation/rule.go`` VisitRulesFor):
   every ClusterRoleBinding that names the user, then — for a namespaced request — every
   RoleBinding of the request's namespace; a RoleBinding's ClusterRole grants only inside the
   binding's namespace. Rules match by verb (``*``), API group (``*``), resource (``*``,
   ``resource/subresource``, ``*/subresource``), resourceNames, and for non-resource requests
   nonResourceURLs (``*`` or a trailing ``*`` prefix) (``pkg/apis/rbac/v1/evaluation_helpers.go``).

Denials answer 403 with the message ``responsewriters.Forbidden`` builds (:func:`forbidden`).
The bootstrap policy every cluster has (``plugin/pkg/auth/authorizer/rbac/bootstrappolicy/
policy.go``) is created at start as real objects (:func:`bootstrap_policy`): ``cluster-admin``
for ``system:masters``, ``system:discovery``, ``system:public-info-viewer`` and
``system:basic-user`` for ``system:authenticated``, and the user-facing ``admin``, ``edit`` and
``view``. Those three are aggregated ClusterRoles: they carry an ``aggregationRule`` and no rules
of their own, and the clusterrole-aggregation controller (``controllers/clusterroleaggregation.py``)
fills their rules from ``system:aggregate-to-admin|edit|view`` and any other ClusterRole labelled
to aggregate. With ``controllers=False`` nothing fills them, as on a cluster without
kube-controller-manager: a binding to ``view`` then grants nothing.

The authorizer reads bindings from an index it keeps from store events (per type and namespace),
so a request costs the bindings of its own namespace, not a sort of every RoleBinding.

The same walk over bindings answers the review endpoints: SelfSubjectAccessReview
(:func:`access_review`, ``kubectl auth can-i VERB TYPE``) asks :meth:`Authorizer.authorize`;
SelfSubjectRulesReview (:func:`rules_review`, ``kubectl auth can-i --list``) lists every rule
the walk reaches in a namespace (:meth:`Authorizer.rules_for`, ``rbac.go`` RulesFor).

Not simulated: the escalation check on writes of Roles and bindings, impersonation.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from gitops.localcluster import errors, params
from gitops.localcluster.auth import SYSTEM_MASTERS, UserInfo, service_account_username
from gitops.localcluster.store import Event, Store, TypeKey

RBAC_GROUP = "rbac.authorization.k8s.io"
_ROLES = (RBAC_GROUP, "roles")
_CLUSTER_ROLES = (RBAC_GROUP, "clusterroles")
_ROLE_BINDINGS = (RBAC_GROUP, "rolebindings")
_CLUSTER_ROLE_BINDINGS = (RBAC_GROUP, "clusterrolebindings")

# requestinfo.go: the subresources of a namespace that do not make the path a resource of its own.
NAMESPACE_SUBRESOURCES = frozenset({"status", "finalize"})
# requestinfo.go APIPrefixes / GrouplessAPIPrefixes.
_API_PREFIXES = ("api", "apis")


@dataclass(frozen=True)
class Attributes:
    """``apiserver/pkg/authorization/authorizer.AttributesRecord``."""

    user: UserInfo
    verb: str
    resource_request: bool
    path: str = ""
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""


def _field_selector_name(selector: str) -> str:
    """The name a field selector requires exactly (``fields.Selector.RequiresExactMatch``), or ""."""
    if not selector:
        return ""
    for term in selector.split(","):
        term = term.strip()
        for op in ("==", "="):
            key, sep, value = term.partition(op)
            if sep and not key.endswith("!") and key.strip() == "metadata.name":
                return value.strip()
    return ""


def _valid_path_segment_name(name: str) -> bool:
    """``apimachinery/pkg/api/validation/path.IsValidPathSegmentName``."""
    return name not in (".", "..") and "/" not in name and "%" not in name


def request_attributes(user: UserInfo, method: str, path: str, query: dict[str, str]) -> Attributes:
    """Authorizer attributes of one HTTP request (``requestinfo.go`` NewRequestInfo).

    Resource requests are ``/api/{version}/...`` and ``/apis/{group}/{version}/...``; everything
    else (``/version``, ``/healthz``, ``/openapi/v3``, ``/api``, ``/apis``, ``/apis/{group}``) is a
    non-resource request whose verb is the lowercase HTTP method.
    """
    parts = [p for p in path.split("/") if p]
    non_resource = Attributes(user, method.lower(), False, path=path)
    if not parts or parts[0] not in _API_PREFIXES:
        return non_resource
    if parts[0] == "api":
        if len(parts) < 3:  # /api, /api/v1: discovery
            return non_resource
        group, version, rest = "", parts[1], parts[2:]
    else:
        if len(parts) < 4:  # /apis, /apis/g, /apis/g/v
            return non_resource
        group, version, rest = parts[1], parts[2], parts[3:]
    verb = {
        "POST": "create",
        "GET": "get",
        "HEAD": "get",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete",
    }.get(method.upper(), "")
    # Deprecated /watch/ prefixes are not served by the local cluster; skip that branch.
    namespace = ""
    if rest[0] == "namespaces" and len(rest) > 1:
        namespace = rest[1]
        if len(rest) > 2 and rest[2] not in NAMESPACE_SUBRESOURCES:
            rest = rest[2:]
    resource = rest[0]
    name = rest[1] if len(rest) >= 2 else ""
    subresource = rest[2] if len(rest) >= 3 else ""
    if not name and verb == "get":
        verb = "watch" if params.query_bool(query.get("watch")) else "list"
        # A list or watch narrowed to one name by a field selector authorizes as that name.
        selected = _field_selector_name(query.get("fieldSelector", ""))
        if selected and _valid_path_segment_name(selected):
            name = selected
    if not name and verb == "delete":
        verb = "deletecollection"
    return Attributes(
        user,
        verb,
        True,
        path=path,
        api_group=group,
        api_version=version,
        resource=resource,
        subresource=subresource,
        namespace=namespace,
        name=name,
    )


# ----------------------------------------------------------------------- rule evaluation
# pkg/apis/rbac/v1/evaluation_helpers.go


def _verb_matches(rule: dict[str, Any], verb: str) -> bool:
    verbs = rule.get("verbs") or []
    return "*" in verbs or verb in verbs


def _api_group_matches(rule: dict[str, Any], group: str) -> bool:
    groups = rule.get("apiGroups") or []
    return "*" in groups or group in groups


def _resource_matches(rule: dict[str, Any], combined: str, subresource: str) -> bool:
    for r in rule.get("resources") or []:
        if r == "*" or r == combined:
            return True
        if subresource and len(r) == len(subresource) + 2 and r.startswith("*/") and r.endswith(subresource):
            return True
    return False


def _resource_name_matches(rule: dict[str, Any], name: str) -> bool:
    names = rule.get("resourceNames") or []
    return not names or name in names


def _non_resource_url_matches(rule: dict[str, Any], path: str) -> bool:
    for url in rule.get("nonResourceURLs") or []:
        if url == "*" or url == path:
            return True
        if url.endswith("*") and path.startswith(url.rstrip("*")):
            return True
    return False


def rule_allows(attrs: Attributes, rule: dict[str, Any]) -> bool:
    """``rbac.go`` RuleAllows."""
    if not isinstance(rule, dict):
        return False
    if attrs.resource_request:
        combined = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
        return (
            _verb_matches(rule, attrs.verb)
            and _api_group_matches(rule, attrs.api_group)
            and _resource_matches(rule, combined, attrs.subresource)
            and _resource_name_matches(rule, attrs.name)
        )
    return _verb_matches(rule, attrs.verb) and _non_resource_url_matches(rule, attrs.path)


def _applies_to_user(user: UserInfo, subject: dict[str, Any], namespace: str) -> bool:
    """``rule.go`` appliesToUser: a ServiceAccount subject without a namespace takes the
    binding's (none for a ClusterRoleBinding, which then matches nobody)."""
    kind = subject.get("kind")
    name = subject.get("name", "")
    if kind == "User":
        return bool(user.name == name)
    if kind == "Group":
        return name in user.groups
    if kind == "ServiceAccount":
        sa_namespace = subject.get("namespace") or namespace
        if not sa_namespace:
            return False
        return bool(user.name == service_account_username(sa_namespace, name))
    return False


def _describe_subject(subject: dict[str, Any], binding_namespace: str) -> str:
    kind, name = subject.get("kind", ""), subject.get("name", "")
    if kind == "ServiceAccount":
        return f'{kind} "{name}/{subject.get("namespace") or binding_namespace}"'
    return f'{kind} "{name}"'


@dataclass(frozen=True)
class _BindingSource:
    """Where a rule came from: ``rule.go`` clusterRoleBindingDescriber / roleBindingDescriber."""

    binding: dict[str, Any]
    subject: dict[str, Any]
    namespace: str  # the RoleBinding's; "" for a ClusterRoleBinding

    def describe(self) -> str:
        name = str((self.binding.get("metadata") or {}).get("name", ""))
        role_ref = self.binding.get("roleRef") or {}
        role = f'{role_ref.get("kind")} "{role_ref.get("name")}"'
        subject = _describe_subject(self.subject, self.namespace)
        if self.namespace:
            return f'RoleBinding "{name}/{self.namespace}" of {role} to {subject}'
        return f'ClusterRoleBinding "{name}" of {role} to {subject}'


@dataclass(frozen=True)
class _Visit:
    """One call of a ``VisitRulesFor`` visitor: a rule and its source, or an error."""

    source: _BindingSource | None
    rule: Any
    error: str | None


class _BindingIndex:
    """ClusterRoleBindings and RoleBindings by (type, namespace), kept from store events.

    :meth:`bindings` answers what ``store.items(type, namespace)`` would (the bindings of one
    namespace in name order) without scanning and sorting every binding of every namespace, as
    the informer-backed listers of ``rule.go`` do. The store calls :meth:`_observe` under its
    lock; it only updates two dicts. Ordered lists are built on first use and replaced, never
    mutated, so a reader holding one is never disturbed by a later write.
    """

    def __init__(self, store: Store) -> None:
        self._store = store
        self._by_ns: dict[tuple[TypeKey, str], dict[str, dict[str, Any]]] = {}
        self._ordered: dict[tuple[TypeKey, str], list[dict[str, Any]]] = {}
        with store.lock:  # seed and subscribe atomically: no write is missed or seen twice
            for tk in (_CLUSTER_ROLE_BINDINGS, _ROLE_BINDINGS):
                store.subscribe(tk, self._observe)
                for obj in store.items(tk):
                    self._put(tk, obj)

    def _put(self, tk: TypeKey, obj: dict[str, Any]) -> None:
        meta = obj.get("metadata") or {}
        slot = (tk, str(meta.get("namespace", "")))
        self._by_ns.setdefault(slot, {})[str(meta.get("name", ""))] = obj
        self._ordered.pop(slot, None)

    def _observe(self, event: Event) -> None:
        tk = (event.group, event.plural)
        if event.type != "DELETED":
            self._put(tk, event.obj)
            return
        meta = event.obj.get("metadata") or {}
        slot = (tk, str(meta.get("namespace", "")))
        bucket = self._by_ns.get(slot, {})
        bucket.pop(str(meta.get("name", "")), None)
        if not bucket:
            self._by_ns.pop(slot, None)
        self._ordered.pop(slot, None)

    def bindings(self, tk: TypeKey, namespace: str) -> list[dict[str, Any]]:
        """The bindings of ``tk`` in ``namespace`` ("" for ClusterRoleBindings), by name.

        Only namespaces that have bindings are cached, so requests naming arbitrary namespaces
        do not grow the index."""
        slot = (tk, namespace)
        ordered = self._ordered.get(slot)
        if ordered is None:
            with self._store.lock:
                bucket = self._by_ns.get(slot)
                if not bucket:
                    return []
                ordered = [bucket[name] for name in sorted(bucket)]
                self._ordered[slot] = ordered
        return ordered


class Authorizer:
    """The authorizer chain of a kubeadm cluster's apiserver (privileged groups, then RBAC)
    over the objects in one :class:`Store`."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._bindings = _BindingIndex(store)

    def _role_rules(self, role_ref: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
        """``rule.go`` GetRoleReferenceRules; errors as the listers word them."""
        kind, name = role_ref.get("kind"), str(role_ref.get("name", ""))
        if kind == "Role":
            role = self.store.get(_ROLES, (namespace, name))
            if role is None:
                raise LookupError(f'role.rbac.authorization.k8s.io "{name}" not found')
        elif kind == "ClusterRole":
            role = self.store.get(_CLUSTER_ROLES, ("", name))
            if role is None:
                raise LookupError(f'clusterrole.rbac.authorization.k8s.io "{name}" not found')
        else:
            raise LookupError(f'unsupported role reference kind: "{kind}"')
        return list(role.get("rules") or [])

    def visit_rules(self, user: UserInfo, namespace: str) -> Iterator[_Visit]:
        """``rule.go`` DefaultRuleResolver.VisitRulesFor: every ClusterRoleBinding that applies to
        ``user`` (by name), then, when ``namespace`` is set, every RoleBinding of that namespace;
        for each, the rules of its role one by one, or the error resolving the role reference.
        A consumer that stops iterating short-circuits the walk, as a visitor returning false."""
        scopes: list[tuple[TypeKey, str]] = [(_CLUSTER_ROLE_BINDINGS, "")]
        if namespace:
            scopes.append((_ROLE_BINDINGS, namespace))
        for type_key, binding_namespace in scopes:
            for binding in self._bindings.bindings(type_key, binding_namespace):
                subject = next(
                    (
                        s
                        for s in binding.get("subjects") or []
                        if isinstance(s, dict) and _applies_to_user(user, s, binding_namespace)
                    ),
                    None,
                )
                if subject is None:
                    continue
                role_ref = binding.get("roleRef") or {}
                try:
                    rules = self._role_rules(role_ref, binding_namespace)
                except LookupError as exc:
                    yield _Visit(None, None, str(exc))
                    continue
                source = _BindingSource(binding, subject, binding_namespace)
                for rule in rules:
                    yield _Visit(source, rule, None)

    def authorize(self, attrs: Attributes) -> tuple[bool, str]:
        """(allowed, reason): the privileged-groups authorizer, then ``rbac.go``
        RBACAuthorizer.Authorize (its authorizingVisitor: the first rule that allows wins, with
        ``RBAC: allowed by <source>``; a denial carries the resolution errors)."""
        if SYSTEM_MASTERS in attrs.user.groups:
            return True, ""
        failures: list[str] = []
        for visit in self.visit_rules(attrs.user, attrs.namespace):
            if visit.source is not None and visit.rule is not None and rule_allows(attrs, visit.rule):
                return True, f"RBAC: allowed by {visit.source.describe()}"
            if visit.error is not None:
                failures.append(visit.error)
        if not failures:
            return False, ""
        return False, f"RBAC: {aggregate_errors(failures)}"

    def rules_for(
        self, user: UserInfo, namespace: str
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]], bool, str]:
        """(resourceRules, nonResourceRules, incomplete, evaluationError) of ``user`` in
        ``namespace``: the rule resolvers of the chain, joined as ``union.go``
        unionAuthzRulesHandler.RulesFor joins them.

        The chain's only rule resolver is RBAC: the privileged-groups authorizer that lets
        ``system:masters`` through is not one (``pkg/kubeapiserver/authorizer/reload.go`` appends
        it to the authorizers only), so a ``system:masters`` user sees what RBAC grants it (the
        ``cluster-admin`` binding: ``*``). ``rbac.go`` RBACAuthorizer.RulesFor converts each rule
        of ``rule.go`` RulesFor: one with resources becomes a ResourceRule, one with
        nonResourceURLs a NonResourceRule (a rule with both, both), and it reports
        ``incomplete=false`` always; errors resolving role references (a binding to a missing
        Role) come back as the error, ``utilerrors.NewAggregate`` of them. (kubeadm's Node
        authorizer, not simulated, adds nothing for users that are not nodes.)
        """
        resource_rules: list[dict[str, Any]] = []
        non_resource_rules: list[dict[str, Any]] = []
        failures: list[str] = []
        for visit in self.visit_rules(user, namespace):  # rule.go ruleAccumulator
            if visit.error is not None:
                failures.append(visit.error)
            rule = visit.rule
            if not isinstance(rule, dict):
                continue
            if rule.get("resources"):
                resource_rules.append(_resource_rule(rule))
            if rule.get("nonResourceURLs"):
                non_resource_rules.append(_non_resource_rule(rule))
        return resource_rules, non_resource_rules, False, aggregate_errors(failures)


def aggregate_errors(messages: list[str]) -> str:
    """``utilerrors.NewAggregate(errs).Error()``: "" for none, one message as itself, several
    de-duplicated in order and written ``[a, b]`` (one left after de-duplication: no brackets)."""
    unique = list(dict.fromkeys(messages))
    if len(unique) <= 1:
        return unique[0] if unique else ""
    return "[" + ", ".join(unique) + "]"


def _strings(value: Any) -> list[str] | None:
    """A rule's list as the API returns it: a role is stored as protobuf, where an empty list and
    a missing one are the same nil slice, which JSON writes as null (or omits when omitempty)."""
    return [str(v) for v in value] if value else None


def _resource_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """``authorization/v1`` ResourceRule: ``verbs`` always, the others ``omitempty``."""
    out: dict[str, Any] = {"verbs": _strings(rule.get("verbs"))}
    for key in ("apiGroups", "resources", "resourceNames"):
        values = _strings(rule.get(key))
        if values:
            out[key] = values
    return out


def _non_resource_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """``authorization/v1`` NonResourceRule: ``verbs`` always, ``nonResourceURLs`` omitempty."""
    out: dict[str, Any] = {"verbs": _strings(rule.get("verbs"))}
    urls = _strings(rule.get("nonResourceURLs"))
    if urls:
        out["nonResourceURLs"] = urls
    return out


# ------------------------------------------------------------------------- 403 Forbidden


def forbidden_message(attrs: Attributes) -> str:
    """``responsewriters/errors.go`` forbiddenMessage."""
    user = attrs.user.name
    if not attrs.resource_request:
        return f'User "{user}" cannot {attrs.verb} path "{attrs.path}"'
    resource = f"{attrs.resource}/{attrs.subresource}" if attrs.subresource else attrs.resource
    if attrs.namespace:
        return (
            f'User "{user}" cannot {attrs.verb} resource "{resource}" in API group '
            f'"{attrs.api_group}" in the namespace "{attrs.namespace}"'
        )
    return (
        f'User "{user}" cannot {attrs.verb} resource "{resource}" in API group '
        f'"{attrs.api_group}" at the cluster scope'
    )


def _new_forbidden(group: str, resource: str, name: str, err: str) -> errors.StatusError:
    """``apimachinery/pkg/api/errors`` NewForbidden: details {name, group, kind: resource}."""
    if not group and not resource:
        message = f"forbidden: {err}"
    else:
        qualified = f"{resource}.{group}" if group else resource
        message = f'{qualified} "{name}" is forbidden: {err}' if name else f"{qualified} is forbidden: {err}"
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if group:
        details["group"] = group
    if resource:
        details["kind"] = resource
    return errors.StatusError(403, "Forbidden", message, details)


def forbidden(attrs: Attributes, reason: str) -> errors.StatusError:
    """``responsewriters.Forbidden``: the message, then ``: <reason>`` when the authorizer gave one."""
    msg = forbidden_message(attrs)
    err = f"{msg}: {reason}" if reason else msg
    return _new_forbidden(attrs.api_group, attrs.resource, attrs.name, err)


def forbidden_create_on_update(attrs: Attributes, reason: str) -> errors.StatusError:
    """A PATCH (apply) or PUT that would create the object needs ``create`` as well; refused,
    the error carries only the authorizer's reason (``handlers/update.go`` withAuthorization:
    ``errors.NewForbidden(gr, name, fmt.Errorf("%v", authorizerReason))``)."""
    return _new_forbidden(attrs.api_group, attrs.resource, attrs.name, reason)


# ------------------------------------------------------------------ SelfSubjectAccessReview


def access_review(authorizer: Authorizer | None, user: UserInfo, body: Any) -> dict[str, Any]:
    """``POST /apis/authorization.k8s.io/v1/selfsubjectaccessreviews``
    (``pkg/registry/authorization/selfsubjectaccessreview/rest.go``): the review with
    ``status.allowed`` (and ``reason``) for the requesting user. ``authorizer=None`` is
    ``--authorization-mode=AlwaysAllow`` (authentication off): everything is allowed."""
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be a JSON object")
    spec = body.get("spec") or {}
    if not isinstance(spec, dict):
        raise errors.bad_request("spec must be an object")
    ra, nra = spec.get("resourceAttributes"), spec.get("nonResourceAttributes")
    if (ra is None) == (nra is None):
        value = "null" if ra is None else "{...}"
        message = "exactly one of nonResourceAttributes or resourceAttributes must be specified"
        raise errors.invalid(
            "SelfSubjectAccessReview",
            "authorization.k8s.io",
            "",
            [
                {
                    "reason": "FieldValueInvalid",
                    "message": f"Invalid value: {value}: {message}",
                    "field": "spec.resourceAttributes",
                }
            ],
            f'SelfSubjectAccessReview.authorization.k8s.io "" is invalid: spec.resourceAttributes: '
            f"Invalid value: {value}: {message}",
        )
    if ra is not None:
        attrs = Attributes(
            user,
            str(ra.get("verb", "")),
            True,
            api_group=str(ra.get("group", "")),
            api_version=str(ra.get("version", "")),
            resource=str(ra.get("resource", "")),
            subresource=str(ra.get("subresource", "")),
            namespace=str(ra.get("namespace", "")),
            name=str(ra.get("name", "")),
        )
    else:
        nra = nra if isinstance(nra, dict) else {}
        attrs = Attributes(user, str(nra.get("verb", "")), False, path=str(nra.get("path", "")))
    allowed, reason = authorizer.authorize(attrs) if authorizer is not None else (True, "")
    status: dict[str, Any] = {"allowed": allowed}
    if reason:
        status["reason"] = reason
    return {
        "kind": "SelfSubjectAccessReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": spec,
        "status": status,
    }


# ------------------------------------------------------------------ SelfSubjectRulesReview

# authorizerfactory/builtin.go alwaysAllowAuthorizer.RulesFor: everything, on everything.
_ALWAYS_ALLOW_RESOURCE_RULES = [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}]
_ALWAYS_ALLOW_NON_RESOURCE_RULES = [{"verbs": ["*"], "nonResourceURLs": ["*"]}]


def rules_review(authorizer: Authorizer | None, user: UserInfo, body: Any) -> dict[str, Any]:
    """``POST /apis/authorization.k8s.io/v1/selfsubjectrulesreviews`` (``kubectl auth can-i
    --list``), as ``pkg/registry/authorization/selfsubjectrulesreview/rest.go`` REST.Create
    answers it: ``spec.namespace`` is required (400 ``no namespace on request``), then the rule
    resolver's ``RulesFor(user, namespace)`` (:meth:`Authorizer.rules_for`) fills the status;
    an evaluation error does not fail the request, it is reported in ``evaluationError``.

    The answer carries the status only: Create builds a new review (``spec`` empty) rather than
    echoing the request. ``authorizer=None`` is ``--authorization-mode=AlwaysAllow`` (auth off),
    whose rule resolver grants ``*`` on everything."""
    if not isinstance(body, dict):
        raise errors.bad_request("the request body must be a JSON object")
    spec = body.get("spec") or {}
    if not isinstance(spec, dict):
        raise errors.bad_request("spec must be an object")
    namespace = spec.get("namespace") or ""
    if not isinstance(namespace, str):
        raise errors.bad_request("spec.namespace must be a string")
    if not namespace:
        raise errors.bad_request("no namespace on request")
    if authorizer is None:
        resource_rules = _copy_rules(_ALWAYS_ALLOW_RESOURCE_RULES)
        non_resource_rules = _copy_rules(_ALWAYS_ALLOW_NON_RESOURCE_RULES)
        incomplete, evaluation_error = False, ""
    else:
        resource_rules, non_resource_rules, incomplete, evaluation_error = authorizer.rules_for(
            user, namespace
        )
    status: dict[str, Any] = {
        "resourceRules": resource_rules,
        "nonResourceRules": non_resource_rules,
        "incomplete": incomplete,
    }
    if evaluation_error:
        status["evaluationError"] = evaluation_error
    return {
        "kind": "SelfSubjectRulesReview",
        "apiVersion": "authorization.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "spec": {},
        "status": status,
    }


def self_subject_review(user: UserInfo) -> dict[str, Any]:
    """``POST /apis/authentication.k8s.io/v1/selfsubjectreviews`` (``kubectl auth whoami``)."""
    return {
        "kind": "SelfSubjectReview",
        "apiVersion": "authentication.k8s.io/v1",
        "metadata": {"creationTimestamp": None},
        "status": {"userInfo": user.to_json()},
    }


# ------------------------------------------------------------------------ bootstrap policy

_BOOTSTRAP_META = {
    "labels": {"kubernetes.io/bootstrapping": "rbac-defaults"},
    "annotations": {"rbac.authorization.kubernetes.io/autoupdate": "true"},
}
_DISCOVERY_URLS = [
    "/api",
    "/api/*",
    "/apis",
    "/apis/*",
    "/healthz",
    "/livez",
    "/openapi",
    "/openapi/*",
    "/readyz",
    "/version",
    "/version/",
]
_PUBLIC_INFO_URLS = ["/healthz", "/livez", "/readyz", "/version", "/version/"]

# The label a ClusterRole carries to be folded into admin, edit or view (policy.go).
AGGREGATE_TO_ADMIN = "rbac.authorization.k8s.io/aggregate-to-admin"
AGGREGATE_TO_EDIT = "rbac.authorization.k8s.io/aggregate-to-edit"
AGGREGATE_TO_VIEW = "rbac.authorization.k8s.io/aggregate-to-view"

# policy.go's verb sets, sorted as PolicyRuleBuilder.Rule() sorts every list of a rule.
_READ = ["get", "list", "watch"]
_WRITE = ["create", "delete", "deletecollection", "patch", "update"]
_READ_WRITE = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]


def _rule(group: str, resources: list[str], verbs: list[str]) -> dict[str, Any]:
    return {"apiGroups": [group], "resources": resources, "verbs": verbs}


# The rules of system:aggregate-to-admin|edit|view as kube-apiserver 1.32 stores them: copied from
# the rendered plugin/pkg/auth/authorizer/rbac/bootstrappolicy/testdata/cluster-roles.yaml (the
# policy.go ClusterRoles() output, lists sorted). Some resources (replicationcontrollers, the
# extensions group, ...) are not served by the local cluster; the rules name them anyway, as real
# rules name resources a given cluster may not serve.
_AGGREGATE_TO_ADMIN_RULES = [
    _rule("authorization.k8s.io", ["localsubjectaccessreviews"], ["create"]),
    _rule(RBAC_GROUP, ["rolebindings", "roles"], _READ_WRITE),
]
_AGGREGATE_TO_EDIT_RULES = [
    _rule(
        "",
        ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy", "secrets", "services/proxy"],
        _READ,
    ),
    _rule("", ["serviceaccounts"], ["impersonate"]),
    _rule("", ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"], _WRITE),
    _rule("", ["pods/eviction"], ["create"]),
    _rule(
        "",
        [
            "configmaps",
            "events",
            "persistentvolumeclaims",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "secrets",
            "serviceaccounts",
            "services",
            "services/proxy",
        ],
        _WRITE,
    ),
    _rule("", ["serviceaccounts/token"], ["create"]),
    _rule(
        "apps",
        [
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "replicasets",
            "replicasets/scale",
            "statefulsets",
            "statefulsets/scale",
        ],
        _WRITE,
    ),
    _rule("autoscaling", ["horizontalpodautoscalers"], _WRITE),
    _rule("batch", ["cronjobs", "jobs"], _WRITE),
    _rule(
        "extensions",
        [
            "daemonsets",
            "deployments",
            "deployments/rollback",
            "deployments/scale",
            "ingresses",
            "networkpolicies",
            "replicasets",
            "replicasets/scale",
            "replicationcontrollers/scale",
        ],
        _WRITE,
    ),
    _rule("policy", ["poddisruptionbudgets"], _WRITE),
    _rule("networking.k8s.io", ["ingresses", "networkpolicies"], _WRITE),
    _rule("coordination.k8s.io", ["leases"], _READ_WRITE),
]
_AGGREGATE_TO_VIEW_RULES = [
    _rule(
        "",
        [
            "configmaps",
            "endpoints",
            "persistentvolumeclaims",
            "persistentvolumeclaims/status",
            "pods",
            "replicationcontrollers",
            "replicationcontrollers/scale",
            "serviceaccounts",
            "services",
            "services/status",
        ],
        _READ,
    ),
    _rule(
        "",
        [
            "bindings",
            "events",
            "limitranges",
            "namespaces/status",
            "pods/log",
            "pods/status",
            "replicationcontrollers/status",
            "resourcequotas",
            "resourcequotas/status",
        ],
        _READ,
    ),
    # Read access to namespaces at the namespace scope means reading *this* namespace.
    _rule("", ["namespaces"], _READ),
    _rule("discovery.k8s.io", ["endpointslices"], _READ),
    _rule(
        "apps",
        [
            "controllerrevisions",
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "statefulsets",
            "statefulsets/scale",
            "statefulsets/status",
        ],
        _READ,
    ),
    _rule("autoscaling", ["horizontalpodautoscalers", "horizontalpodautoscalers/status"], _READ),
    _rule("batch", ["cronjobs", "cronjobs/status", "jobs", "jobs/status"], _READ),
    _rule(
        "extensions",
        [
            "daemonsets",
            "daemonsets/status",
            "deployments",
            "deployments/scale",
            "deployments/status",
            "ingresses",
            "ingresses/status",
            "networkpolicies",
            "replicasets",
            "replicasets/scale",
            "replicasets/status",
            "replicationcontrollers/scale",
        ],
        _READ,
    ),
    _rule("policy", ["poddisruptionbudgets", "poddisruptionbudgets/status"], _READ),
    _rule("networking.k8s.io", ["ingresses", "ingresses/status", "networkpolicies"], _READ),
]


def _copy_rules(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Fresh lists for each policy: the API's write pipeline may default a body in place."""
    return [{k: list(v) for k, v in rule.items()} for rule in rules]


def bootstrap_policy() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(ClusterRoles, ClusterRoleBindings) of ``bootstrappolicy/policy.go`` that clients rely on.

    ``admin``, ``edit`` and ``view`` come with an ``aggregationRule`` and no rules (``rules:
    null``, as in ``testdata/cluster-roles.yaml``); their rules are the clusterrole-aggregation
    controller's to fill. Without controllers they stay empty, as on a real cluster without
    kube-controller-manager. The labels chain them: ``view`` aggregates into ``edit``, ``edit``
    into ``admin``.
    """

    def meta(name: str, **labels: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": name, **{k: dict(v) for k, v in _BOOTSTRAP_META.items()}}
        out["labels"].update(labels)
        return out

    def aggregated(name: str, selects: str, **labels: str) -> dict[str, Any]:
        return {
            "metadata": meta(name, **labels),
            "aggregationRule": {"clusterRoleSelectors": [{"matchLabels": {selects: "true"}}]},
        }

    roles = [
        {
            "metadata": meta("cluster-admin"),
            "rules": [
                {"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]},
                {"nonResourceURLs": ["*"], "verbs": ["*"]},
            ],
        },
        {
            "metadata": meta("system:discovery"),
            "rules": [{"nonResourceURLs": _DISCOVERY_URLS, "verbs": ["get"]}],
        },
        {
            "metadata": meta("system:public-info-viewer"),
            "rules": [{"nonResourceURLs": _PUBLIC_INFO_URLS, "verbs": ["get"]}],
        },
        {
            "metadata": meta("system:basic-user"),
            "rules": [
                {
                    "apiGroups": ["authorization.k8s.io"],
                    "resources": ["selfsubjectaccessreviews", "selfsubjectrulesreviews"],
                    "verbs": ["create"],
                },
                {
                    "apiGroups": ["authentication.k8s.io"],
                    "resources": ["selfsubjectreviews"],
                    "verbs": ["create"],
                },
            ],
        },
        aggregated("admin", AGGREGATE_TO_ADMIN),
        aggregated("edit", AGGREGATE_TO_EDIT, **{AGGREGATE_TO_ADMIN: "true"}),
        aggregated("view", AGGREGATE_TO_VIEW, **{AGGREGATE_TO_EDIT: "true"}),
        {
            "metadata": meta("system:aggregate-to-admin", **{AGGREGATE_TO_ADMIN: "true"}),
            "rules": _copy_rules(_AGGREGATE_TO_ADMIN_RULES),
        },
        {
            "metadata": meta("system:aggregate-to-edit", **{AGGREGATE_TO_EDIT: "true"}),
            "rules": _copy_rules(_AGGREGATE_TO_EDIT_RULES),
        },
        {
            "metadata": meta("system:aggregate-to-view", **{AGGREGATE_TO_VIEW: "true"}),
            "rules": _copy_rules(_AGGREGATE_TO_VIEW_RULES),
        },
    ]

    def binding(name: str, *groups: str) -> dict[str, Any]:
        return {
            "metadata": meta(name),
            "roleRef": {"apiGroup": RBAC_GROUP, "kind": "ClusterRole", "name": name},
            "subjects": [{"apiGroup": RBAC_GROUP, "kind": "Group", "name": g} for g in groups],
        }

    bindings = [
        binding("cluster-admin", SYSTEM_MASTERS),
        binding("system:discovery", "system:authenticated"),
        binding("system:public-info-viewer", "system:authenticated", "system:unauthenticated"),
        binding("system:basic-user", "system:authenticated"),
    ]
    return roles, bindings
