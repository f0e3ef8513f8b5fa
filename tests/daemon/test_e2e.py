"""The daemon end to end, as real processes: ``gitops daemon`` as a subprocess, the local
cluster (simulated controllers, 20x clock), and a bare repository served over git's smart HTTP
protocol (``git http-backend``) that the test pushes to with the real ``git push``.

Latency is shown by bench/bench_daemon.py, not asserted here: these tests make the slow path
impossible instead (a one-hour poll interval, so only the webhook can deliver the change).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

import gitops
from gitops.localcluster import LocalCluster
from tests.conftest import Kubectl
from tests.daemon.harness import DaemonProcess, app_files, config_text, running
from tests.gitserver import GitHttpServer, WorkClone, git, make_repo
from tests.waiting import wait_for

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def git_server(tmp_path: Path) -> Iterator[GitHttpServer]:
    with GitHttpServer(tmp_path / "repos") as server:
        yield server


@pytest.fixture
def app_ns() -> str:
    return f"d-{uuid.uuid4().hex[:8]}"


def _deployment(cluster: LocalCluster, ns: str, name: str = "web") -> dict[str, Any] | None:
    rt = cluster.registry.by_plural("apps", "v1", "deployments")
    assert rt is not None
    try:
        return dict(cluster.api.get(rt, ns, name))
    except Exception:
        return None


def _image(cluster: LocalCluster, ns: str) -> str | None:
    d = _deployment(cluster, ns)
    if d is None:
        return None
    return str(d["spec"]["template"]["spec"]["containers"][0]["image"])


def _app(name: str, repo: str, **more: Any) -> dict[str, Any]:
    return {"name": name, "repo": repo, "revision": "main", "path": "app", **more}


def _daemon(tmp_path: Path, cluster: LocalCluster, *apps: dict[str, Any], **kwargs: Any) -> Any:
    """``gitops daemon`` for ``apps`` against ``cluster`` (a context manager; killed on exit)."""
    return running(tmp_path / "daemon", config_text(list(apps)), cluster.kubeconfig, **kwargs)


FirstSynced = Callable[..., AbstractContextManager[tuple[WorkClone, DaemonProcess]]]


@pytest.fixture
def first_synced(tmp_path: Path, live_cluster: LocalCluster, git_server: GitHttpServer) -> FirstSynced:
    """``first_synced(name, files, **app)``: a repository ``name`` holding ``files``, and
    ``gitops daemon`` for the app ``name`` that tracks its main branch (``app``: more of the
    app's settings), yielded with the work clone once its first sync is done."""

    @contextmanager
    def start(
        name: str, files: dict[str, str], *, args: Sequence[str] = (), identity: str = "", **app: Any
    ) -> Iterator[tuple[WorkClone, DaemonProcess]]:
        work = make_repo(git_server, name, files)
        with _daemon(tmp_path, live_cluster, _app(name, work.url, **app), args=args, identity=identity) as d:
            wait_for(lambda: d.synced(name, work.head), timeout=60, what="the first sync")
            yield work, d

    return start


def _election(ns: str) -> list[str]:
    """Leader election on a Lease of its own, with short timings (3 s lease, 2 s renew)."""
    return [
        "--leader-elect",
        "--lease-namespace",
        "default",
        "--lease-name",
        f"gitops-{ns}",
        "--lease-duration",
        "3",
        "--renew-deadline",
        "2",
        "--retry-period",
        "0.3",
    ]


def test_git_push_and_signed_webhook_deploy_the_pushed_commit(
    first_synced: FirstSynced, live_cluster: LocalCluster, app_ns: str
) -> None:
    # A one-hour poll: after the first sync only the webhook can deliver the change in time.
    with first_synced("shop", app_files(app_ns), interval="1h") as (work, d):
        assert _image(live_cluster, app_ns) == "nginx:1.0"
        sha = work.commit_and_push(app_files(app_ns, "nginx:1.1"), "bump web to 1.1")
        r = d.github_push(work.url, sha)
        assert r.status_code == 202, r.text
        assert r.json()["apps"] == ["shop"]
        wait_for(lambda: _image(live_cluster, app_ns) == "nginx:1.1", timeout=30, what="the new image live")
        wait_for(lambda: d.synced("shop", sha), timeout=60, what="the webhook sync to finish")
        newest = d.history_of("shop")[0]
        assert newest["trigger"] == "webhook"
        assert newest["revision"] == sha
        assert newest["result"] == "Succeeded"
        # Every log line of that sync names the app and the revision, and from the moment
        # history gave it an id (git's fetch comes after), the sync id.
        lines = [ln for ln in d.log_lines() if ln.get("trigger") == "webhook"]
        assert lines and all(ln.get("app") == "shop" and ln.get("revision") == sha[:12] for ln in lines)
        fetches = [ln for ln in lines if ln.get("logger") == "gitops.git"]
        assert fetches and all(ln.get("sync_id") == newest["id"] for ln in fetches), fetches


def test_polling_picks_up_a_push_without_a_webhook(
    first_synced: FirstSynced, live_cluster: LocalCluster, app_ns: str
) -> None:
    with first_synced("poll", app_files(app_ns), interval="1s") as (work, d):
        sha = work.commit_and_push(app_files(app_ns, "nginx:2.0"), "bump")
        wait_for(lambda: d.synced("poll", sha), timeout=60, what="the polled sync")
        assert _image(live_cluster, app_ns) == "nginx:2.0"
        assert d.history_of("poll")[0]["trigger"] == "poll"


def test_forged_unsigned_and_replayed_webhooks_trigger_nothing(
    first_synced: FirstSynced, live_cluster: LocalCluster, app_ns: str
) -> None:
    with first_synced("guarded", app_files(app_ns), interval="1h") as (work, d):
        entries = len(d.history_of("guarded"))
        sha = work.commit_and_push(app_files(app_ns, "nginx:6.6"), "unsigned change")
        forged = d.github_push(work.url, sha, secret="not-the-secret")
        unsigned = d.github_push(work.url, sha, secret="")
        assert forged.status_code == 401
        assert unsigned.status_code == 401
        assert "not-the-secret" not in forged.text + unsigned.text
        # A signed delivery syncs once; the same delivery id again is ignored.
        ok = d.github_push(work.url, sha, delivery="delivery-1")
        assert ok.status_code == 202
        wait_for(lambda: d.synced("guarded", sha), timeout=60, what="the signed delivery's sync")
        replay = d.github_push(work.url, sha, delivery="delivery-1")
        assert replay.status_code == 200
        assert replay.json().get("status") == "duplicate"
        assert len(d.history_of("guarded")) == entries + 1
        metrics = d.metrics()
        assert 'outcome="unauthorized"' in metrics and 'outcome="duplicate"' in metrics


@pytest.mark.parametrize("self_heal", [True, False])
def test_kubectl_drift_is_reverted_only_with_self_heal(
    first_synced: FirstSynced, live_cluster: LocalCluster, live_kubectl: Kubectl, app_ns: str, self_heal: bool
) -> None:
    with first_synced("heal", app_files(app_ns, replicas=2), interval="1s", selfHeal=self_heal) as (_, d):
        live_kubectl.run("-n", app_ns, "scale", "deployment/web", "--replicas=5")
        if self_heal:
            wait_for(
                lambda: (_deployment(live_cluster, app_ns) or {})["spec"]["replicas"] == 2,
                timeout=60,
                what="self-heal to revert the scale",
            )
            newest = wait_for(
                lambda: (h := d.history_of("heal")[0])["trigger"] == "self-heal" and h,
                timeout=60,
                what="the self-heal sync to be recorded",
            )
            assert newest["result"] == "Succeeded"
        else:
            wait_for(lambda: d.app("heal")["drift"] is True, timeout=60, what="the drift to be reported")
            assert (_deployment(live_cluster, app_ns) or {})["spec"]["replicas"] == 5
            assert all(e["trigger"] != "self-heal" for e in d.history_of("heal"))
            assert 'gitops_drift{app="heal"} 1.0' in d.metrics()


def test_git_host_outage_is_reported_and_recovered_from(
    first_synced: FirstSynced, live_cluster: LocalCluster, git_server: GitHttpServer, app_ns: str
) -> None:
    with first_synced("flaky", app_files(app_ns), interval="1s") as (work, d):
        git_server.down()
        status = wait_for(
            lambda: (s := d.app("flaky"))["condition"].startswith("git:") and s,
            timeout=30,
            what="a git condition",
        )
        assert "503" in status["condition"] or "unreachable" in status["condition"].lower()
        assert d.client.get("/healthz").status_code == 200
        git_server.up()
        sha = work.commit_and_push(app_files(app_ns, "nginx:3.0"), "after the outage")
        wait_for(lambda: d.synced("flaky", sha), timeout=60, what="recovery")
        assert d.app("flaky")["condition"] == ""


def test_force_push_and_deleted_branch(
    tmp_path: Path, live_cluster: LocalCluster, git_server: GitHttpServer, app_ns: str
) -> None:
    work = make_repo(git_server, "rewrite", app_files(app_ns))
    first = work.head
    second = work.commit_and_push(app_files(app_ns, "nginx:4.0"), "to be rewritten")
    with _daemon(tmp_path, live_cluster, _app("rewrite", work.url, interval="1s")) as d:
        wait_for(lambda: d.synced("rewrite", second), timeout=60, what="the first sync")
        work.force_push_reset(first)
        wait_for(lambda: d.synced("rewrite", first), timeout=60, what="the force-pushed revision")
        assert _image(live_cluster, app_ns) == "nginx:1.0"
        # A bare repository refuses to delete its current branch unless told to (git's
        # receive.denyDeleteCurrent); a Git host lets its admins do it.
        git("-C", str(work.bare), "config", "receive.denyDeleteCurrent", "ignore")
        work.git("push", "-q", "origin", ":refs/heads/main")
        wait_for(
            lambda: "no revision" in d.app("rewrite")["condition"],
            timeout=30,
            what="the deleted branch reported",
        )
        work.push()
        wait_for(lambda: d.app("rewrite")["condition"] == "", timeout=30, what="recovery")


@contextmanager
def _two_replicas(
    tmp_path: Path, live_cluster: LocalCluster, app: dict[str, Any], head: str
) -> Iterator[tuple[DaemonProcess, DaemonProcess]]:
    """Daemons "a" (the leader, its first sync done) and "b" (started after it: the standby)
    on one Lease, sharing a history file, for ``app``."""
    config = config_text([app])
    history = tmp_path / "shared-history.db"
    args = _election(f"{app['name']}-{uuid.uuid4().hex[:6]}")
    kubeconfig = live_cluster.kubeconfig
    with running(tmp_path / "a", config, kubeconfig, args=args, history=history, identity="a") as a:
        wait_for(lambda: a.synced(app["name"], head), timeout=60, what="the leader's first sync")
        with running(tmp_path / "b", config, kubeconfig, args=args, history=history, identity="b") as b:
            yield a, b


def _assert_only_writer(live_cluster: LocalCluster, since: int, identity: str) -> None:
    """The writes since ``since`` (the Lease's aside) were all the daemon ``identity``'s."""
    writers = {r.user_agent for r in live_cluster.requests.writes(since) if r.resource != "leases"}
    assert writers and all(ua.endswith(f"({identity})") for ua in writers), writers


def test_two_daemons_only_the_leader_writes_and_the_other_takes_over(
    tmp_path: Path, live_cluster: LocalCluster, git_server: GitHttpServer, app_ns: str
) -> None:
    work = make_repo(git_server, "ha", app_files(app_ns))
    with _two_replicas(tmp_path, live_cluster, _app("ha", work.url, interval="1s"), work.head) as (a, b):
        since = live_cluster.requests.last_seq
        work.commit_and_push(app_files(app_ns, "nginx:5.0"), "while a leads")
        wait_for(lambda: _image(live_cluster, app_ns) == "nginx:5.0", timeout=60, what="a's sync")
        _assert_only_writer(live_cluster, since, "a")
        a.kill()
        since = live_cluster.requests.last_seq
        sha = work.commit_and_push(app_files(app_ns, "nginx:5.1"), "after a died")
        wait_for(lambda: _image(live_cluster, app_ns) == "nginx:5.1", timeout=60, what="b to take over")
        wait_for(lambda: b.synced("ha", sha), timeout=60, what="b's sync")
        _assert_only_writer(live_cluster, since, "b")


def test_a_webhook_that_reaches_the_standby_deploys_through_the_leader(
    tmp_path: Path, live_cluster: LocalCluster, git_server: GitHttpServer, app_ns: str
) -> None:
    # A Service spreads deliveries over the replicas: the standby hands them to the leader at
    # the URL its Lease advertises, so a push deploys at once (here the poll is an hour).
    work = make_repo(git_server, "spread", app_files(app_ns))
    with _two_replicas(tmp_path, live_cluster, _app("spread", work.url, interval="1h"), work.head) as (a, b):
        since = live_cluster.requests.last_seq
        sha = work.commit_and_push(app_files(app_ns, "nginx:7.0"), "through the standby")
        r = b.github_push(work.url, sha)
        assert r.status_code == 202, r.text
        assert r.json()["apps"] == ["spread"]
        wait_for(lambda: _image(live_cluster, app_ns) == "nginx:7.0", timeout=30, what="the change live")
        wait_for(lambda: a.synced("spread", sha), timeout=60, what="the leader's webhook sync")
        newest = a.history_of("spread")[0]
        assert (newest["trigger"], newest["revision"]) == ("webhook", sha)
        _assert_only_writer(live_cluster, since, "a")
        handed = [ln for ln in b.log_lines() if "handed to the leader" in ln.get("message", "")]
        assert handed and a.url in handed[0]["message"]


def test_sigterm_stops_a_waiting_sync_at_a_safe_point_and_history_says_so(
    first_synced: FirstSynced, tmp_path: Path, live_cluster: LocalCluster, app_ns: str
) -> None:
    with first_synced("slow", app_files(app_ns), interval="1h", args=["--grace", "1"]) as (work, d):
        # A rollout whose pods take an hour (simulated) to become ready: the sync waits on it.
        slow = app_files(app_ns, "nginx:9.9", pod_annotations={"localcluster.gitops.dev/ready-after": "3600"})
        sha = work.commit_and_push(slow, "slow rollout")
        assert d.github_push(work.url, sha).status_code == 202
        wait_for(lambda: d.app("slow")["syncing"], timeout=30, what="the sync to wait on the rollout")
        assert d.terminate() == 0
    from gitops.history import History

    with History.open(tmp_path / "daemon" / "history.db") as history:
        newest = history.list("slow", limit=1)[0]
    assert newest.revision == sha
    assert newest.result.value == "Failed"
    assert "shutting down" in newest.error


def test_api_server_outage_is_reported_and_recovered_from(
    first_synced: FirstSynced, live_cluster: LocalCluster, app_ns: str
) -> None:
    from gitops.localcluster.faults import ErrorSpec, Rule

    with first_synced("outage", app_files(app_ns), interval="1s", identity="outage-daemon") as (work, d):
        # The API server answers this daemon (and only it: its user agent) with 503s.
        rule = live_cluster.faults.add(
            Rule(
                id=f"outage-{app_ns}",
                resources=("*", ""),
                user_agent=f"gitops/{gitops.__version__} (outage-daemon)",
                error=ErrorSpec(503),
            )
        )
        try:
            sha = work.commit_and_push(app_files(app_ns, "nginx:7.0"), "during the outage")
            status = wait_for(
                lambda: (s := d.app("outage"))["condition"].startswith("cluster:") and s,
                timeout=120,
                what="a cluster condition",
            )
            assert status["syncedRevision"] != sha
            assert d.client.get("/healthz").status_code == 200
            assert 'gitops_app_condition{app="outage"} 1.0' in d.metrics()
            assert 'code="503"' in d.metrics()
        finally:
            live_cluster.faults.remove(rule.id)
        wait_for(lambda: d.synced("outage", sha), timeout=120, what="recovery after the outage")
        assert d.app("outage")["condition"] == ""
        assert _image(live_cluster, app_ns) == "nginx:7.0"


def test_a_burst_of_pushes_is_one_sync(
    first_synced: FirstSynced, live_cluster: LocalCluster, app_ns: str
) -> None:
    with first_synced("burst", app_files(app_ns), interval="1h") as (work, d):
        assert d.client.get("/readyz").status_code == 200
        before = len(d.history_of("burst"))
        sha = work.commit_and_push(app_files(app_ns, "nginx:8.0"), "one change, five deliveries")
        answers = [d.github_push(work.url, sha) for _ in range(5)]  # five distinct delivery ids
        assert [a.status_code for a in answers] == [202] * 5
        wait_for(lambda: d.synced("burst", sha), timeout=60, what="the burst's sync")
        # A run queued behind the first finds the commit synced: one sync for the burst.
        assert len(d.history_of("burst")) == before + 1


def test_a_hanging_repository_does_not_delay_other_apps(
    tmp_path: Path, live_cluster: LocalCluster, git_server: GitHttpServer, app_ns: str
) -> None:
    import socket

    work = make_repo(git_server, "fast", app_files(app_ns))
    # A Git host that accepts connections and never answers (the kernel's backlog accepts them).
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        hanging = f"http://127.0.0.1:{silent.getsockname()[1]}/stuck.git"
        apps = [
            {"name": "stuck", "repo": hanging, "revision": "main", "path": "app", "interval": "1s"},
            _app("fast", work.url, interval="1s"),
        ]
        with _daemon(tmp_path, live_cluster, *apps, args=["--workers", "2"]) as d:
            wait_for(lambda: d.synced("fast", work.head), timeout=60, what="the fast app's sync")
            sha = work.commit_and_push(app_files(app_ns, "nginx:8.1"), "while stuck hangs")
            wait_for(lambda: d.synced("fast", sha), timeout=60, what="the fast app's next sync")
            stuck = d.app("stuck")
            assert stuck["syncedRevision"] == "" and stuck["trackedRevision"] == ""


def test_a_new_commit_cancels_a_waiting_rollout_and_is_synced_next(
    first_synced: FirstSynced, live_cluster: LocalCluster, app_ns: str
) -> None:
    # A 10-minute rollout timeout and a one-hour poll: only the cancellation can get the fix out
    # before the stuck rollout times out.
    with first_synced("fixme", app_files(app_ns), interval="1h", rollout={"timeout": "10m"}) as (work, d):
        stuck = work.commit_and_push(
            app_files(app_ns, "nginx:9.0", pod_annotations={"localcluster.gitops.dev/ready-after": "36000"}),
            "a rollout that never becomes ready",
        )
        assert d.github_push(work.url, stuck).status_code == 202
        wait_for(
            lambda: _image(live_cluster, app_ns) == "nginx:9.0" and d.app("fixme")["syncing"],
            timeout=30,
            what="the sync to wait on the rollout",
        )
        fix = work.commit_and_push(app_files(app_ns, "nginx:9.1"), "the fix")
        assert d.github_push(work.url, fix).status_code == 202
        wait_for(lambda: d.synced("fixme", fix), timeout=60, what="the fix to be synced")
        history = d.history_of("fixme")
        assert [(h["revision"], h["result"]) for h in history[:2]] == [(fix, "Succeeded"), (stuck, "Failed")]
        assert "cancelled" in history[1]["error"] and fix[:12] in history[1]["error"]
        assert _image(live_cluster, app_ns) == "nginx:9.1"


def test_secret_values_never_leave_the_daemon(
    first_synced: FirstSynced, tmp_path: Path, live_cluster: LocalCluster, app_ns: str
) -> None:
    import base64

    import yaml

    seeded = f"s3cr3t-{uuid.uuid4().hex}"
    files = app_files(app_ns)
    files["app/secret.yaml"] = yaml.safe_dump(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds", "namespace": app_ns},
            "stringData": {"password": seeded},
        }
    )
    with first_synced("secrets", files, interval="1s", args=["--log-level", "debug"]) as (work, d):
        # A change to the Secret, and a broken commit whose error quotes the manifests.
        files["app/secret.yaml"] = files["app/secret.yaml"].replace(seeded, seeded + "-2")
        sha = work.commit_and_push(files, "rotate")
        wait_for(lambda: d.synced("secrets", sha), timeout=60, what="the rotation")
        broken = dict(files)
        broken["app/secret.yaml"] += "  extra: [unclosed\n"
        bad = work.commit_and_push(broken, "broken")
        wait_for(
            lambda: d.app("secrets")["trackedRevision"] == bad and d.app("secrets")["result"] == "Failed",
            timeout=60,
            what="the broken commit's failure",
        )
        outputs = [
            d.log(),
            d.client.get("/api/v1/apps").text,
            d.client.get("/api/v1/apps/secrets/history").text,
            d.metrics(),
        ]
        for value in (seeded, base64.b64encode(seeded.encode()).decode()):
            for out in outputs:
                assert value not in out
        history_files = b"".join(
            p.read_bytes() for p in (tmp_path / "daemon").rglob("history.db*") if p.is_file()
        )
        assert seeded.encode() not in history_files


def test_drift_is_checked_at_the_resync_interval_not_every_poll(
    first_synced: FirstSynced, live_cluster: LocalCluster, live_kubectl: Kubectl, app_ns: str
) -> None:
    import re

    app = {"interval": "1s", "resync": "1h", "selfHeal": True}
    with first_synced("lazy", app_files(app_ns, replicas=2), **app) as (_, d):
        live_kubectl.run("-n", app_ns, "scale", "deployment/web", "--replicas=4")

        def polls() -> int:
            m = re.search(r'gitops_git_fetch_duration_seconds_count\{app="lazy"\} (\d+)', d.metrics())
            return int(float(m.group(1))) if m else 0

        seen = polls()
        wait_for(lambda: polls() >= seen + 3, timeout=60, what="three more polls")
        # Three polls, and no drift check among them: the scale stands until the resync.
        assert (_deployment(live_cluster, app_ns) or {})["spec"]["replicas"] == 4
        assert all(e["trigger"] != "self-heal" for e in d.history_of("lazy"))
        # An explicit sync request still reconciles at once.
        r = d.client.post("/api/v1/apps/lazy/sync", headers={"Authorization": f"Bearer {d.api_token}"})
        assert r.status_code == 202
        wait_for(
            lambda: (_deployment(live_cluster, app_ns) or {})["spec"]["replicas"] == 2,
            timeout=60,
            what="the API sync",
        )


def test_a_leader_that_loses_its_lease_stops_syncing_and_the_other_takes_over(
    tmp_path: Path, live_cluster: LocalCluster, git_server: GitHttpServer, app_ns: str
) -> None:
    from gitops.localcluster.faults import ErrorSpec, Rule

    work = make_repo(git_server, "lease", app_files(app_ns))
    config = config_text([_app("lease", work.url, interval="1s")])
    args = _election(app_ns)
    with running(tmp_path / "a", config, live_cluster.kubeconfig, args=args, identity=f"a-{app_ns}") as a:
        wait_for(lambda: a.synced("lease", work.head), timeout=60, what="a's first sync")
        with running(tmp_path / "b", config, live_cluster.kubeconfig, args=args, identity=f"b-{app_ns}") as b:
            assert "gitops_leader 1.0" in a.metrics() and "gitops_leader 0.0" in b.metrics()
            # a cannot renew any more (its lease requests fail); it is not killed.
            rule = live_cluster.faults.add(
                Rule(
                    id=f"lease-{app_ns}",
                    resources=("leases.coordination.k8s.io",),
                    user_agent=f"gitops/{gitops.__version__} (a-{app_ns})",
                    error=ErrorSpec(503),
                )
            )
            try:
                wait_for(lambda: "gitops_leader 0.0" in a.metrics(), timeout=30, what="a to stop leading")
                wait_for(lambda: "gitops_leader 1.0" in b.metrics(), timeout=30, what="b to lead")
                since = live_cluster.requests.last_seq
                sha = work.commit_and_push(app_files(app_ns, "nginx:6.0"), "after the takeover")
                wait_for(lambda: b.synced("lease", sha), timeout=60, what="b's sync")
                _assert_only_writer(live_cluster, since, f"b-{app_ns}")
                assert a.client.get("/healthz").status_code == 200  # a keeps running, as a standby
            finally:
                live_cluster.faults.remove(rule.id)
