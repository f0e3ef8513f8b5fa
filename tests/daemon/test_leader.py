"""Leader election on a Lease (K8S-API.md §8, client-go leaderelection.go) between electors
that reach the local cluster over HTTP, each with its own user agent so that fault rules can
single one out. Short durations: lease 1.5 s (leaseDurationSeconds 2), renew deadline 1 s,
retry period 0.2 s."""

from __future__ import annotations

import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from gitops import errors
from gitops.cluster import Cluster, ClusterOptions
from gitops.daemon.leader import LEADER_URL_ANNOTATION, LeaderElector, LeaseRecord
from gitops.localcluster import LocalCluster
from gitops.model import ResourceKey
from tests.waiting import wait_for

DURATION, RENEW, RETRY = 1.5, 1.0, 0.2
LEASE_SECONDS = 2  # leaseDurationSeconds: 1.5 s rounded up
MICRO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")


class Candidate:
    """One elector with its own connection and a log of its callbacks."""

    def __init__(
        self, cluster: LocalCluster, namespace: str, lease: str, name: str, advertise: str = ""
    ) -> None:
        self.identity = f"{name}-{uuid.uuid4().hex[:6]}"
        self.kube = Cluster.connect(
            ClusterOptions(kubeconfig=cluster.kubeconfig, backoff=0.01, user_agent=self.identity)
        )
        self.elector = LeaderElector(
            self.kube, namespace, lease, self.identity, DURATION, RENEW, RETRY, advertise=advertise
        )
        self.calls: list[str] = []
        self._lock = threading.Lock()

    def _note(self, what: str) -> Callable[[], None]:
        def note() -> None:
            with self._lock:
                self.calls.append(what)

        return note

    def start(self) -> Candidate:
        self.elector.start(self._note("started"), self._note("stopped"))
        return self

    def history(self) -> list[str]:
        with self._lock:
            return list(self.calls)


@pytest.fixture
def candidates(cluster: LocalCluster, namespace: str) -> Iterator[Callable[..., Candidate]]:
    made: list[Candidate] = []
    lease = f"lease-{uuid.uuid4().hex[:6]}"

    def make(name: str, advertise: str = "") -> Candidate:
        c = Candidate(cluster, namespace, lease, name, advertise)
        made.append(c)
        return c

    yield make
    for c in made:
        c.elector.stop(release=False)
        c.kube.close()


def _lease(c: Candidate) -> dict[str, Any]:
    got = c.kube.get(c.elector.key)
    assert got is not None
    return got


def _leaders(*cs: Candidate) -> list[Candidate]:
    return [c for c in cs if c.elector.is_leader]


def test_one_of_two_electors_leads_and_the_other_waits(candidates: Callable[..., Candidate]) -> None:
    a, b = candidates("a").start(), candidates("b").start()
    leader = wait_for(lambda: _leaders(a, b), timeout=5, what="a leader")[0]
    other = b if leader is a else a
    # Several renewals: the standby must never lead meanwhile, the leader never drop out.
    deadline = time.monotonic() + 3 * DURATION
    while time.monotonic() < deadline:
        assert _leaders(a, b) == [leader]
        time.sleep(0.02)
    assert leader.history() == ["started"] and other.history() == []
    spec = _lease(leader)["spec"]
    assert spec["holderIdentity"] == leader.identity
    assert other.elector.leader == leader.identity


def test_lease_fields_are_client_go_s(candidates: Callable[..., Candidate]) -> None:
    a = candidates("a").start()
    assert a.elector.wait_until_leader(5)
    first = _lease(a)["spec"]
    assert first["holderIdentity"] == a.identity
    assert first["leaseDurationSeconds"] == LEASE_SECONDS
    assert first["leaseTransitions"] == 0
    assert MICRO_TIME.match(first["acquireTime"]) and MICRO_TIME.match(first["renewTime"])
    renewed = wait_for(
        lambda: (s := _lease(a)["spec"])["renewTime"] != first["renewTime"] and s, timeout=5, what="a renewal"
    )
    assert renewed["acquireTime"] == first["acquireTime"]  # renewals keep the acquisition time
    assert renewed["leaseTransitions"] == 0


def test_killed_leader_is_replaced_once_the_lease_expires(candidates: Callable[..., Candidate]) -> None:
    a = candidates("a").start()
    assert a.elector.wait_until_leader(5)
    b = candidates("b").start()
    wait_for(lambda: b.elector.leader == a.identity, timeout=5, what="b to see a's lease")
    a.elector.stop(release=False)  # as if the process were killed: the lease stays a's
    killed = time.monotonic()
    assert _lease(a)["spec"]["holderIdentity"] == a.identity
    wait_for(lambda: b.elector.is_leader, timeout=LEASE_SECONDS + 3, what="b to take over")
    waited = time.monotonic() - killed
    # b may take over only after a full leaseDurationSeconds without a change (minus the
    # retry period a's last renewal may have preceded the kill by).
    assert waited >= LEASE_SECONDS - RETRY - 0.05
    spec = _lease(b)["spec"]
    assert spec["holderIdentity"] == b.identity and spec["leaseTransitions"] == 1
    wait_for(lambda: b.history() == ["started"], timeout=2, what="b's on_started")  # its own thread


def test_released_lease_is_taken_over_at_once(candidates: Callable[..., Candidate]) -> None:
    a = candidates("a").start()
    assert a.elector.wait_until_leader(5)
    b = candidates("b").start()
    wait_for(lambda: b.elector.leader == a.identity, timeout=5, what="b to see a's lease")
    a.elector.stop(release=True)
    released = time.monotonic()
    assert a.history() == ["started", "stopped"]  # on_stopped has run when stop returns
    assert not a.elector.is_leader
    wait_for(lambda: b.elector.is_leader, timeout=LEASE_SECONDS, what="b to take over")
    assert time.monotonic() - released < LEASE_SECONDS - 0.5  # did not wait for expiry
    assert _lease(b)["spec"]["leaseTransitions"] == 1


def test_the_leader_advertises_its_url_in_the_lease_and_standbys_read_it(
    candidates: Callable[..., Candidate],
) -> None:
    a = candidates("a", advertise="http://10.0.0.1:8080").start()
    assert a.elector.wait_until_leader(5)
    b = candidates("b", advertise="http://10.0.0.2:8080").start()
    quiet = candidates("quiet").start()  # advertises nothing
    assert _lease(a)["metadata"]["annotations"] == {LEADER_URL_ANNOTATION: "http://10.0.0.1:8080"}
    wait_for(lambda: b.elector.leader_url == "http://10.0.0.1:8080", timeout=5, what="b to read a's URL")
    wait_for(lambda: quiet.elector.leader_url == "http://10.0.0.1:8080", timeout=5, what="quiet to read it")
    assert a.elector.leader_url == ""  # the leader hands nothing to itself

    a.elector.stop(release=True)
    wait_for(lambda: _leaders(b, quiet) != [], timeout=LEASE_SECONDS + 2, what="a takeover")
    (leader,) = _leaders(b, quiet)
    (standby,) = {b, quiet} - {leader}
    want = "http://10.0.0.2:8080" if leader is b else ""
    annotations = _lease(leader)["metadata"].get("annotations") or {}
    assert annotations.get(LEADER_URL_ANNOTATION, "") == want  # a's URL is gone either way
    wait_for(lambda: standby.elector.leader == leader.identity, timeout=5, what="the standby to see it")
    assert standby.elector.leader_url == want


def test_leader_whose_renewals_fail_stops_within_the_renew_deadline(
    candidates: Callable[..., Candidate], cluster: LocalCluster
) -> None:
    a = candidates("a").start()
    assert a.elector.wait_until_leader(5)
    b = candidates("b").start()
    wait_for(lambda: b.elector.leader == a.identity, timeout=5, what="b to see a's lease")
    rule = cluster.faults.add(
        verbs=["update", "get", "create"],
        resources=["leases.coordination.k8s.io"],
        userAgent=a.kube.user_agent,
        error=500,
    )
    try:
        broken = time.monotonic()
        wait_for(lambda: not a.elector.is_leader, timeout=RENEW + 1, what="a to stop leading")
        # The safety property (no two leaders): it stops before its lease could expire for the
        # others, which counts from its last renewal (at or before ``broken``).
        assert time.monotonic() - broken < LEASE_SECONDS
        wait_for(lambda: a.history() == ["started", "stopped"], timeout=2, what="a's on_stopped")
        wait_for(lambda: b.elector.is_leader, timeout=LEASE_SECONDS + 3, what="b to take over")
        assert not a.elector.is_leader
    finally:
        cluster.faults.remove(rule.id)
    # a campaigns again as a standby and leaves b alone.
    wait_for(lambda: a.elector.leader == b.identity, timeout=5, what="a to see b's lease")
    assert _leaders(a, b) == [b]
    assert _lease(b)["spec"]["leaseTransitions"] == 1


def test_lease_transitions_count_takeovers(candidates: Callable[..., Candidate]) -> None:
    a = candidates("a").start()
    assert a.elector.wait_until_leader(5)
    b = candidates("b").start()
    wait_for(lambda: b.elector.leader == a.identity, timeout=5, what="b to see a's lease")
    a.elector.stop(release=True)
    assert b.elector.wait_until_leader(5)
    c = candidates("c").start()
    wait_for(lambda: c.elector.leader == b.identity, timeout=5, what="c to see b's lease")
    b.elector.stop(release=True)
    assert c.elector.wait_until_leader(5)
    assert _lease(c)["spec"]["leaseTransitions"] == 2


def test_expiry_is_judged_on_the_local_clock_not_the_lease_timestamps(
    candidates: Callable[..., Candidate],
) -> None:
    """A holder whose clock is far behind (renewTime in the past) still gets a full lease
    duration from when we first saw its record (client-go observedTime)."""
    a = candidates("a")
    ghost = LeaseRecord(
        "ghost", LEASE_SECONDS, "2000-01-01T00:00:00.000000Z", "2000-01-01T00:00:00.000000Z", 4
    )
    a.kube.create(
        {
            "apiVersion": "coordination.k8s.io/v1",
            "kind": "Lease",
            "metadata": {"name": a.elector.name, "namespace": a.elector.namespace},
            "spec": ghost.spec(),
        }
    )
    started = time.monotonic()
    a.start()
    assert a.elector.wait_until_leader(LEASE_SECONDS + 3)
    assert time.monotonic() - started >= LEASE_SECONDS - 0.05
    spec = _lease(a)["spec"]
    assert spec["holderIdentity"] == a.identity and spec["leaseTransitions"] == 5


def test_a_lost_creation_race_is_not_an_error(
    candidates: Callable[..., Candidate], cluster: LocalCluster
) -> None:
    """Two candidates that both find no lease both POST; the loser gets AlreadyExists, waits."""
    a, b = candidates("a"), candidates("b")
    a.start()
    b.start()
    leader = wait_for(lambda: _leaders(a, b), timeout=5, what="a leader")
    assert len(leader) == 1


@pytest.mark.parametrize(
    ("duration", "renew", "retry", "message"),
    [
        (10.0, 10.0, 2.0, "lease duration must be greater than the renew deadline"),
        (15.0, 2.0, 2.0, "renew deadline must be greater than the retry period"),
        (15.0, 10.0, 0.0, "greater than zero"),
    ],
)
def test_inconsistent_timings_are_refused(duration: float, renew: float, retry: float, message: str) -> None:
    with pytest.raises(errors.ConfigError, match=message):
        LeaderElector(Cluster(_NoClient()), "ns", "l", "me", duration, renew, retry)


def test_the_lease_key_names_the_namespace_and_name() -> None:
    e = LeaderElector(Cluster(_NoClient()), "ops", "gitops", "me")
    assert e.key == ResourceKey("coordination.k8s.io", "Lease", "ops", "gitops")
    assert not e.is_leader and e.leader == ""


class _NoClient:
    """Stands in for the kubernetes ApiClient where no request is made."""

    user_agent = ""
