"""The apps config: defaults, durations, and errors that name the field."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gitops.config import (
    PRUNABLE_PROTECTED_KINDS,
    App,
    IgnoreDifference,
    RolloutPolicy,
    app_from_config,
    app_to_config,
    parse_config,
    parse_duration,
)
from gitops.errors import ConfigError


def test_minimal_app_gets_documented_defaults() -> None:
    cfg = parse_config("apps:\n- name: web\n  repo: ./repo\n")
    app = cfg.app("web")
    assert app == App(name="web", repo="./repo")
    assert app.prune is True and app.interval == 180.0 and app.rollout.max_surge == "25%"


def test_full_app_is_parsed() -> None:
    cfg = parse_config(
        """
apps:
- name: shop
  repo: https://git.example.com/shop.git
  revision: v1.2.0
  path: ./apps//shop/
  namespace: shop
  prune: false
  selfHeal: true
  interval: 1m30s
  allowedNamespaces: [shop]
  clusterScoped: false
  pruneKinds: [PersistentVolumeClaim]
  ignoreDifferences:
  - {kind: Deployment, name: web, jsonPointers: [/spec/replicas]}
  rollout: {maxSurge: 1, maxUnavailable: 0, maxConcurrent: 4, timeout: 5m, autoRollback: true}
"""
    )
    app = cfg.app("shop")
    assert app.path == "apps/shop" and app.interval == 90.0 and app.self_heal
    assert app.prune_kinds == frozenset({"PersistentVolumeClaim"})
    assert app.ignore_differences[0].json_pointers == ("/spec/replicas",)
    assert app.ignore_differences[0].kind == "Deployment" and app.ignore_differences[0].namespace == "*"
    assert (app.rollout.max_concurrent, app.rollout.timeout, app.rollout.auto_rollback) == (4, 300.0, True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("apps:\n- name: Web\n  repo: r\n", "gitops.yaml: apps[0].name: 'Web' must be a DNS-1123 label"),
        (
            "apps:\n- name: w\n  repo: r\n  interval: 3x\n",
            "gitops.yaml: apps[0].interval: invalid duration '3x'",
        ),
        (
            "apps:\n- name: w\n  repo: r\n  path: ../other\n",
            "apps[0].path: '../other' must be a relative path",
        ),
        ("apps:\n- name: w\n  repo: r\n  bogus: 1\n", "gitops.yaml: apps[0].bogus: unknown field"),
        (
            "apps:\n- name: w\n  repo: r\n  rollout: {maxUnavailable: 120%}\n",
            "apps[0].rollout.maxUnavailable: '120%' must not exceed 100%",
        ),
        (
            "apps:\n- name: w\n  repo: r\n  pruneKinds: [Deployment]\n",
            "apps[0].pruneKinds: 'Deployment' is not a protected kind",
        ),
        (
            "apps:\n- name: w\n  repo: r\n  ignoreDifferences: [{jsonPointers: [spec]}]\n",
            "JSON pointer 'spec' must start with '/'",
        ),
        ("apps:\n- name: w\n  repo: r\n- name: w\n  repo: r\n", "duplicate app names: w"),
        ("apps: []\n", "gitops.yaml: apps: List should have at least 1 item"),
        ("- a\n", "expected a mapping with an 'apps' list"),
        ("apps: [\n", "not valid YAML"),
    ],
)
def test_errors_name_the_source_and_field(text: str, expected: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_config(text)
    assert expected in str(exc.value)
    assert exc.value.exit_code == 2


def test_unknown_app_lists_the_known_ones() -> None:
    with pytest.raises(ConfigError, match=r'no app named "x" in the config \(apps: a, b\)'):
        parse_config("apps:\n- {name: a, repo: r}\n- {name: b, repo: r}\n").app("x")


@pytest.mark.parametrize(
    ("raw", "seconds"), [(90, 90.0), ("45", 45.0), ("30s", 30.0), ("3m", 180.0), ("1h30m", 5400.0)]
)
def test_durations(raw: str | int, seconds: float) -> None:
    assert parse_duration(raw) == seconds


def test_a_config_without_apps_is_refused_for_a_sync_but_idles_a_daemon() -> None:
    with pytest.raises(ConfigError, match="at least 1 item"):
        parse_config("apps: []\n")
    assert parse_config("apps: []\n", allow_no_apps=True).apps == ()
    assert parse_config("{}\n", allow_no_apps=True).apps == ()


def test_resync_defaults_to_every_poll_and_takes_a_duration() -> None:
    [app] = parse_config("apps:\n- name: w\n  repo: r\n  interval: 10s\n").apps
    assert app.resync == 0.0  # the daemon then checks drift at every poll
    [app] = parse_config("apps:\n- name: w\n  repo: r\n  interval: 10s\n  resync: 5m\n").apps
    assert app.resync == 300.0
    with pytest.raises(ConfigError, match=r"apps\[0\]\.resync: the resync interval must be at least 1s"):
        parse_config("apps:\n- name: w\n  repo: r\n  resync: 0.5\n")


_label = st.from_regex(r"[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?", fullmatch=True)
_seconds = st.integers(min_value=1, max_value=86_400).map(float)
_bound = st.one_of(st.integers(0, 10), st.integers(0, 100).map(lambda n: f"{n}%"))
_ignore = st.builds(
    IgnoreDifference,
    json_pointers=st.lists(
        st.from_regex(r"/[a-z]{1,8}(/[a-z0-9]{1,8}){0,2}", fullmatch=True), min_size=1, max_size=3
    ).map(tuple),
    group=st.sampled_from(["*", "apps", ""]),
    kind=st.sampled_from(["*", "Deployment", "ConfigMap"]),
    namespace=st.one_of(st.just("*"), _label),
    name=st.one_of(st.just("*"), _label),
)
_apps = st.builds(
    App,
    name=_label,
    repo=st.sampled_from(["https://git.example.com/team/deploy.git", "/srv/git/deploy", "git@host:t/r.git"]),
    revision=st.sampled_from(["HEAD", "main", "v1.2.0", "a" * 40]),
    path=st.sampled_from([".", "apps/web", "deploy/prod/eu"]),
    namespace=_label,
    prune=st.booleans(),
    self_heal=st.booleans(),
    interval=_seconds,
    resync=st.one_of(st.just(0.0), _seconds),
    allow_empty=st.booleans(),
    allowed_namespaces=st.lists(_label, max_size=3).map(tuple),
    cluster_scoped=st.booleans(),
    prune_kinds=st.frozensets(st.sampled_from(sorted(PRUNABLE_PROTECTED_KINDS))),
    ignore_differences=st.lists(_ignore, max_size=3).map(tuple),
    rollout=st.builds(
        RolloutPolicy,
        max_surge=_bound,
        max_unavailable=_bound,
        max_concurrent=st.integers(0, 50),
        timeout=_seconds,
        auto_rollback=st.booleans(),
    ),
    recreate_on_immutable=st.booleans(),
)


@given(_apps)
def test_an_app_as_config_parses_back_to_itself(app: App) -> None:
    # What history keeps of an app for a rollback without the config file (JSON is YAML).
    text = json.dumps({"apps": [app_to_config(app)]})
    assert parse_config(text, "history").apps == (app,)


def test_settings_from_history_keep_an_ad_hoc_name_and_are_checked() -> None:
    # `gitops sync ./deploy --app My_App` never had to use a DNS label; the rest is checked.
    app = App(name="My_App", repo="/srv/deploy", prune=False)
    assert app_from_config(app_to_config(app), "history") == app
    with pytest.raises(ConfigError, match=r"^history: apps\[0\]\.interval: invalid duration 'soon'"):
        app_from_config({**app_to_config(app), "interval": "soon"}, "history")
