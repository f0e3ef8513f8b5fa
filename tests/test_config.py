"""The apps config: defaults, durations, and errors that name the field."""

from __future__ import annotations

import pytest

from gitops.config import App, parse_config, parse_duration
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
