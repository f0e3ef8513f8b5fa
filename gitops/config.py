"""The apps config file and CLI flags -> :class:`App`, with precise errors (pure).

A config file (``gitops.yaml``) lists apps::

    apps:
      - name: web
        repo: https://git.example.com/team/deploy.git   # or a local path / file:// URL
        revision: main                                  # branch, tag or commit
        path: apps/web
        namespace: web            # default namespace for namespaced objects without one
        prune: true               # delete what left Git (default true here, false in ad hoc CLI use)
        selfHeal: false           # the daemon re-syncs drift at the resync interval
        interval: 3m              # poll interval (s, m, h units; plain numbers are seconds)
        resync: 10m               # how often the daemon compares live with Git (default: interval)
        allowEmpty: false         # allow a sync (and prune) with no objects at all
        allowedNamespaces: [web]  # namespaces the app may write to (default: any)
        clusterScoped: true       # whether cluster-scoped objects (Namespaces, CRDs...) are allowed
        pruneKinds: []            # Namespace, CustomResourceDefinition, PersistentVolumeClaim to allow pruning
        ignoreDifferences:
          - {kind: Deployment, name: web, jsonPointers: [/spec/replicas]}
        rollout: {maxSurge: 25%, maxUnavailable: 0, maxConcurrent: 4, timeout: 10m, autoRollback: false}
        recreateOnImmutable: false  # delete and recreate objects whose immutable fields changed

Parsing is pure: callers read the file and pass its text; every error names the source and the
field path (``gitops.yaml: apps[0].interval: ...``) and raises :class:`~gitops.errors.ConfigError`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from gitops.errors import ConfigError

_NAME = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_DURATION = re.compile(r"(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m(?!s))?(?:(\d+(?:\.\d+)?)s)?")
PRUNABLE_PROTECTED_KINDS = frozenset({"Namespace", "CustomResourceDefinition", "PersistentVolumeClaim"})


def parse_duration(value: str | float | int) -> float:
    """Seconds from ``90``, ``"90s"``, ``"3m"``, ``"1h30m"``; ValueError otherwise."""
    if isinstance(value, bool):
        raise ValueError("a duration must be a number of seconds or a string like 30s, 3m, 1h")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return float(value)
    text = str(value).strip()
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    m = _DURATION.fullmatch(text)
    if not text or not m or not any(m.groups()):
        raise ValueError(f"invalid duration {text!r}: use seconds or units s, m, h (e.g. 30s, 3m, 1h30m)")
    h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return h * 3600 + mi * 60 + s


@dataclass(frozen=True)
class IgnoreDifference:
    """Fields (RFC 6901 JSON pointers) the diff and apply leave alone, for matching objects."""

    json_pointers: tuple[str, ...]
    group: str = "*"
    kind: str = "*"
    namespace: str = "*"
    name: str = "*"


@dataclass(frozen=True)
class RolloutPolicy:
    """How Deployments roll out under the engine (issue 5 enforces it)."""

    max_surge: str | int = "25%"
    max_unavailable: str | int = 0
    max_concurrent: int = 0  # 0 = no limit
    timeout: float = 600.0
    auto_rollback: bool = False


@dataclass(frozen=True)
class App:
    """One application: which Git content, where in the cluster, and how to sync it."""

    name: str
    repo: str
    revision: str = "HEAD"
    path: str = "."
    namespace: str = "default"
    prune: bool = True
    self_heal: bool = False
    interval: float = 180.0
    resync: float = 0.0  # seconds between drift checks; 0: at every poll (the interval)
    allow_empty: bool = False
    allowed_namespaces: tuple[str, ...] = ()
    cluster_scoped: bool = True
    prune_kinds: frozenset[str] = frozenset()
    ignore_differences: tuple[IgnoreDifference, ...] = ()
    rollout: RolloutPolicy = field(default_factory=RolloutPolicy)
    manager: str = "gitops"
    recreate_on_immutable: bool = False


@dataclass(frozen=True)
class Config:
    apps: tuple[App, ...]

    def app(self, name: str) -> App:
        for a in self.apps:
            if a.name == name:
                return a
        known = ", ".join(a.name for a in self.apps) or "none"
        raise ConfigError(f'no app named "{name}" in the config (apps: {known})')


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class _Ignore(_Strict):
    group: str = "*"
    kind: str = "*"
    namespace: str = "*"
    name: str = "*"
    json_pointers: list[str] = Field(alias="jsonPointers", min_length=1)

    @field_validator("json_pointers")
    @classmethod
    def _pointers(cls, v: list[str]) -> list[str]:
        for p in v:
            if not p.startswith("/"):
                raise ValueError(f"JSON pointer {p!r} must start with '/' (RFC 6901)")
        return v


class _Rollout(_Strict):
    max_surge: str | int = Field("25%", alias="maxSurge")
    max_unavailable: str | int = Field(0, alias="maxUnavailable")
    max_concurrent: int = Field(0, alias="maxConcurrent", ge=0)
    timeout: str | float = 600.0
    auto_rollback: bool = Field(False, alias="autoRollback")

    @field_validator("max_surge", "max_unavailable")
    @classmethod
    def _int_or_percent(cls, v: str | int) -> str | int:
        if isinstance(v, int):
            if v < 0:
                raise ValueError("must be 0 or more")
            return v
        if not re.fullmatch(r"\d+%", v):
            raise ValueError(f"{v!r} must be an integer or a percentage like 25%")
        if int(v[:-1]) > 100:
            raise ValueError(f"{v!r} must not exceed 100%")
        return v

    @field_validator("timeout")
    @classmethod
    def _timeout(cls, v: str | float) -> float:
        return parse_duration(v)


class _App(_Strict):
    name: str
    repo: str = Field(min_length=1)
    revision: str = "HEAD"
    path: str = "."
    namespace: str = "default"
    prune: bool = True
    self_heal: bool = Field(False, alias="selfHeal")
    interval: str | float = 180.0
    resync: str | float = 0.0
    allow_empty: bool = Field(False, alias="allowEmpty")
    allowed_namespaces: list[str] = Field(default_factory=list, alias="allowedNamespaces")
    cluster_scoped: bool = Field(True, alias="clusterScoped")
    prune_kinds: list[str] = Field(default_factory=list, alias="pruneKinds")
    ignore_differences: list[_Ignore] = Field(default_factory=list, alias="ignoreDifferences")
    rollout: _Rollout = Field(default_factory=_Rollout)  # type: ignore[arg-type]
    recreate_on_immutable: bool = Field(False, alias="recreateOnImmutable")

    @field_validator("name", "namespace")
    @classmethod
    def _dns_label(cls, v: str) -> str:
        if len(v) > 63 or not _NAME.fullmatch(v):
            raise ValueError(
                f"{v!r} must be a DNS-1123 label (lower case letters, digits and '-', at most 63)"
            )
        return v

    @field_validator("interval")
    @classmethod
    def _interval(cls, v: str | float) -> float:
        seconds = parse_duration(v)
        if seconds < 1:
            raise ValueError("the interval must be at least 1s")
        return seconds

    @field_validator("resync")
    @classmethod
    def _resync(cls, v: str | float) -> float:
        seconds = parse_duration(v)
        if 0 < seconds < 1:
            raise ValueError("the resync interval must be at least 1s (or 0: at every poll)")
        return seconds

    @field_validator("path")
    @classmethod
    def _path(cls, v: str) -> str:
        parts = [p for p in v.replace("\\", "/").split("/") if p not in ("", ".")]
        if v.startswith("/") or ".." in parts:
            raise ValueError(f"{v!r} must be a relative path inside the repository")
        return "/".join(parts) or "."

    @field_validator("prune_kinds")
    @classmethod
    def _prune_kinds(cls, v: list[str]) -> list[str]:
        for kind in v:
            if kind not in PRUNABLE_PROTECTED_KINDS:
                allowed = ", ".join(sorted(PRUNABLE_PROTECTED_KINDS))
                raise ValueError(f"{kind!r} is not a protected kind (protected kinds: {allowed})")
        return v

    def to_app(self) -> App:
        r = self.rollout
        return App(
            name=self.name,
            repo=self.repo,
            revision=self.revision,
            path=self.path,
            namespace=self.namespace,
            prune=self.prune,
            self_heal=self.self_heal,
            interval=float(self.interval),
            resync=float(self.resync),
            allow_empty=self.allow_empty,
            allowed_namespaces=tuple(self.allowed_namespaces),
            cluster_scoped=self.cluster_scoped,
            prune_kinds=frozenset(self.prune_kinds),
            ignore_differences=tuple(
                IgnoreDifference(tuple(i.json_pointers), i.group, i.kind, i.namespace, i.name)
                for i in self.ignore_differences
            ),
            rollout=RolloutPolicy(
                r.max_surge, r.max_unavailable, r.max_concurrent, float(r.timeout), r.auto_rollback
            ),
            recreate_on_immutable=self.recreate_on_immutable,
        )


def app_to_config(app: App) -> dict[str, Any]:
    """``app`` as an entry of a config file's ``apps`` (camelCase keys, durations in seconds):
    :func:`parse_config` of ``{"apps": [app_to_config(app)]}`` gives back an equal App (its
    field ``manager`` aside: no config sets it). History keeps it with each sync, so that a
    rollback without the config file still honours the app's ignoreDifferences, rollout policy
    and prune rules."""
    r = app.rollout
    return {
        "name": app.name,
        "repo": app.repo,
        "revision": app.revision,
        "path": app.path,
        "namespace": app.namespace,
        "prune": app.prune,
        "selfHeal": app.self_heal,
        "interval": app.interval,
        "resync": app.resync,
        "allowEmpty": app.allow_empty,
        "allowedNamespaces": list(app.allowed_namespaces),
        "clusterScoped": app.cluster_scoped,
        "pruneKinds": sorted(app.prune_kinds),
        "ignoreDifferences": [
            {
                "group": i.group,
                "kind": i.kind,
                "namespace": i.namespace,
                "name": i.name,
                "jsonPointers": list(i.json_pointers),
            }
            for i in app.ignore_differences
        ],
        "rollout": {
            "maxSurge": r.max_surge,
            "maxUnavailable": r.max_unavailable,
            "maxConcurrent": r.max_concurrent,
            "timeout": r.timeout,
            "autoRollback": r.auto_rollback,
        },
        "recreateOnImmutable": app.recreate_on_immutable,
    }


def app_from_config(entry: Mapping[str, Any], source: str) -> App:
    """An app entry as :func:`app_to_config` writes it -> App, checked as :func:`parse_config`
    checks a config file's entry (errors name ``source``), except the name, taken as it is: an
    ad hoc CLI app's name (``--app``) never had to be a DNS label."""
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{source}: name: expected the app's name")
    text = json.dumps({"apps": [{**entry, "name": "app"}]})
    return replace(parse_config(text, source).apps[0], name=name)


class _Config(_Strict):
    apps: list[_App] = Field(default_factory=list)


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def parse_config(text: str, source: str = "gitops.yaml", *, allow_no_apps: bool = False) -> Config:
    """The apps of a config file's text; :class:`ConfigError` lists every problem with its path.

    A config without apps is an error for a sync; the daemon accepts it (``allow_no_apps``): a
    freshly installed chart idles, ready, until apps are configured."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: expected a mapping with an 'apps' list")
    try:
        parsed = _Config.model_validate(raw)
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            where = _location(tuple(err["loc"]))
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            lines.append(f"{source}: {where}: {msg}")
        raise ConfigError("\n".join(lines)) from exc
    if not parsed.apps and not allow_no_apps:
        raise ConfigError(f"{source}: apps: List should have at least 1 item")
    names = [a.name for a in parsed.apps]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise ConfigError(f"{source}: apps: duplicate app names: {', '.join(dupes)}")
    return Config(tuple(a.to_app() for a in parsed.apps))
