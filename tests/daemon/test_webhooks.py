"""Push webhooks: each provider's payload and signature as the provider sends them, the HTTP
answers (401 forged/unsigned, 413, 400, duplicate), and repository URL matching.

Sample payloads (tests/daemon/payloads/) are trimmed copies of the providers' documented
examples; signatures are computed here the way each provider computes them."""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import threading
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from gitops.daemon import webhooks
from gitops.daemon.interface import Push
from gitops.daemon.metrics import Metrics
from tests.daemon.test_api import SECRET, StubController, make_client

PAYLOADS = Path(__file__).parent / "payloads"


def payload(name: str) -> bytes:
    return (PAYLOADS / name).read_bytes()


def hex_hmac(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def provider_headers(
    provider: str, body: bytes, secret: str | None = SECRET, *, event: str = "", delivery: str = "d-1"
) -> dict[str, str]:
    """Headers as each provider sends them, signed with ``secret`` (None: unsigned)."""
    h = {"Content-Type": "application/json"}
    if provider == "github":
        h |= {"X-GitHub-Event": event or "push", "X-GitHub-Delivery": delivery}
        if secret is not None:
            h["X-Hub-Signature-256"] = "sha256=" + hex_hmac(body, secret)
    elif provider in ("gitea", "forgejo"):
        # Forgejo sends both families of headers (forgejo.org/docs/latest/user/webhooks)
        h |= {"X-Gitea-Event": event or "push", "X-Gitea-Delivery": delivery}
        if provider == "forgejo":
            h |= {"X-Forgejo-Event": event or "push", "X-Forgejo-Delivery": delivery}
        if secret is not None:
            h["X-Gitea-Signature"] = hex_hmac(body, secret)
            if provider == "forgejo":
                h["X-Forgejo-Signature"] = hex_hmac(body, secret)
    elif provider == "gitlab":
        h |= {"X-Gitlab-Event": event or "Push Hook", "X-Gitlab-Event-UUID": delivery}
        if secret is not None:
            h["X-Gitlab-Token"] = secret
    elif provider == "bitbucket":
        h |= {"X-Event-Key": event or "repo:push", "X-Request-UUID": delivery, "X-Hook-UUID": "hook-1"}
        if secret is not None:
            h["X-Hub-Signature"] = "sha256=" + hex_hmac(body, secret)
    elif provider == "bitbucket-server":
        h |= {"X-Event-Key": event or "repo:refs_changed", "X-Request-Id": delivery}
        if secret is not None:
            h["X-Hub-Signature"] = "sha256=" + hex_hmac(body, secret)
    elif provider == "generic":
        h[webhooks.DELIVERY_HEADER] = delivery
        if secret is not None:
            h[webhooks.SIGNATURE_HEADER] = webhooks.sign(body, secret)
    return h


GENERIC_BODY = json.dumps(
    {"repository": "https://git.example.com/team/deploy.git", "ref": "refs/heads/main", "after": "c" * 40}
).encode()

SAMPLES: dict[str, bytes] = {
    "github": payload("github-push.json"),
    "gitlab": payload("gitlab-push.json"),
    "gitea": payload("gitea-push.json"),
    "forgejo": payload("gitea-push.json"),
    "bitbucket": payload("bitbucket-push.json"),
    "bitbucket-server": payload("bitbucket-server-refs-changed.json"),
    "generic": GENERIC_BODY,
}


# --- signatures -------------------------------------------------------------------------------


def test_sign_is_hmac_sha256_as_github_documents_it() -> None:
    # docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation
    expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
    assert webhooks.sign(b"Hello, World!", "It's a Secret to Everybody") == expected
    headers = {"X-Hub-Signature-256": expected}
    webhooks.verify("github", headers, b"Hello, World!", "It's a Secret to Everybody")


@pytest.mark.parametrize("provider", webhooks.PROVIDERS)
def test_each_provider_signature_verifies(provider: str) -> None:
    body = SAMPLES[provider]
    webhooks.verify(provider, provider_headers(provider, body), body, SECRET)


@pytest.mark.parametrize("provider", webhooks.PROVIDERS)
def test_each_provider_refuses_unsigned_forged_and_tampered(provider: str) -> None:
    body = SAMPLES[provider]
    with pytest.raises(webhooks.Unauthorized, match="missing"):
        webhooks.verify(provider, provider_headers(provider, body, None), body, SECRET)
    with pytest.raises(webhooks.Unauthorized, match="does not match"):
        webhooks.verify(provider, provider_headers(provider, body, "another-secret"), body, SECRET)
    if provider != "gitlab":  # GitLab sends its token as is: it does not sign the body
        with pytest.raises(webhooks.Unauthorized):
            webhooks.verify(provider, provider_headers(provider, body), body + b" ", SECRET)


def test_header_names_are_case_insensitive() -> None:
    body = SAMPLES["github"]
    headers = {k.lower(): v for k, v in provider_headers("github", body).items()}
    webhooks.verify("github", headers, body, SECRET)


def test_github_signature_needs_the_sha256_prefix() -> None:
    body = SAMPLES["github"]
    bare = {"X-Hub-Signature-256": hex_hmac(body, SECRET)}
    with pytest.raises(webhooks.Unauthorized, match="sha256="):
        webhooks.verify("github", bare, body, SECRET)
    sha1 = {"X-Hub-Signature-256": "sha1=" + hmac.new(SECRET.encode(), body, hashlib.sha1).hexdigest()}
    with pytest.raises(webhooks.Unauthorized):
        webhooks.verify("github", sha1, body, SECRET)


def test_forgejo_signature_header_wins_over_gitea_one() -> None:
    body = SAMPLES["forgejo"]
    headers = provider_headers("forgejo", body)
    headers["X-Forgejo-Signature"] = "0" * 64  # a good X-Gitea-Signature does not rescue it
    with pytest.raises(webhooks.Unauthorized, match="X-Forgejo-Signature"):
        webhooks.verify("forgejo", headers, body, SECRET)


def test_refusals_never_contain_the_signature_or_secret() -> None:
    body = SAMPLES["gitlab"]
    forged = provider_headers("gitlab", body, "guessed-token-123")
    with pytest.raises(webhooks.Unauthorized) as info:
        webhooks.verify("gitlab", forged, body, SECRET)
    assert "guessed-token-123" not in str(info.value) and SECRET not in str(info.value)


# --- payloads ---------------------------------------------------------------------------------


def parse(provider: str, body: bytes, **kw: str) -> webhooks.Event:
    return webhooks.parse(provider, provider_headers(provider, body, **kw), body)


def test_github_push() -> None:
    event = parse("github", SAMPLES["github"], delivery="72d3162e-cc78-11e3-81ab-4c9367dc0958")
    assert event.kind is webhooks.EventKind.PUSH
    assert event.pushes == (
        Push(
            "github",
            (
                "https://github.com/Team/Deploy.git",
                "git@github.com:Team/Deploy.git",
                "git://github.com/Team/Deploy.git",
                "https://github.com/Team/Deploy",
            ),
            "refs/heads/main",
            "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c",
            "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        ),
    )


def test_github_ping_and_other_events() -> None:
    assert parse("github", payload("github-ping.json"), event="ping").kind is webhooks.EventKind.PING
    issues = parse("github", b'{"action": "opened"}', event="issues")
    assert issues.kind is webhooks.EventKind.IGNORED
    assert "issues" in issues.reason


def test_github_form_encoded_push() -> None:
    body = urllib.parse.urlencode({"payload": SAMPLES["github"].decode()}).encode()
    headers = provider_headers("github", body) | {"Content-Type": "application/x-www-form-urlencoded"}
    webhooks.verify("github", headers, body, SECRET)
    event = webhooks.parse("github", headers, body)
    assert event.pushes[0].after == "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c"


def test_gitlab_push_and_tag_push() -> None:
    push = parse("gitlab", SAMPLES["gitlab"], delivery="e2d6b1c5")
    assert push.pushes[0].ref == "refs/heads/main"
    assert push.pushes[0].after == "da1560886d4f094c3e6c9ef40349f7d38b5d27d7"
    assert push.pushes[0].delivery == "e2d6b1c5"
    assert set(push.pushes[0].repo_urls) == {
        "https://gitlab.example.com/team/deploy.git",
        "git@gitlab.example.com:team/deploy.git",
        "https://gitlab.example.com/team/deploy",
    }
    tag = parse("gitlab", payload("gitlab-tag-push.json"), event="Tag Push Hook")
    assert tag.pushes[0].ref == "refs/tags/v1.0.0"
    assert parse("gitlab", b'{"object_kind": "note"}', event="Note Hook").kind is webhooks.EventKind.IGNORED


def test_gitlab_delivery_falls_back_to_idempotency_key() -> None:
    assert webhooks.delivery_id("gitlab", {"Idempotency-Key": "k-1"}) == "k-1"
    assert webhooks.delivery_id("gitlab", {"Idempotency-Key": "k-1", "X-Gitlab-Event-UUID": "u-1"}) == "u-1"


@pytest.mark.parametrize("provider", ["gitea", "forgejo"])
def test_gitea_and_forgejo_push(provider: str) -> None:
    event = parse(provider, SAMPLES[provider], delivery="f6266f16")
    (push,) = event.pushes
    assert push.provider == provider
    assert push.repo_urls == (
        "https://git.example.com/team/deploy.git",
        "ssh://git@git.example.com:2222/team/deploy.git",
        "https://git.example.com/team/deploy",
    )
    assert (push.ref, push.after, push.delivery) == (
        "refs/heads/main",
        "bffeb74224043ba2feb48d137756c8a9331c449a",
        "f6266f16",
    )


def test_bitbucket_cloud_push_has_one_push_per_moved_ref_and_skips_deleted() -> None:
    event = parse("bitbucket", SAMPLES["bitbucket"], delivery="req-1")
    assert [(p.ref, p.after) for p in event.pushes] == [
        ("refs/heads/main", "709d658dc5b6d6afcd46049c2f332ee3f515a67d"),
        ("refs/tags/v1.0.0", "709d658dc5b6d6afcd46049c2f332ee3f515a67d"),
    ]
    urls = event.pushes[0].repo_urls
    assert "https://bitbucket.org/team/deploy" in urls
    assert "git@bitbucket.org:team/deploy.git" in urls
    assert event.pushes[0].delivery == "req-1"


def test_bitbucket_server_refs_changed() -> None:
    event = parse("bitbucket-server", SAMPLES["bitbucket-server"], delivery="req-2")
    assert event.pushes == (
        Push(
            "bitbucket-server",
            (
                "ssh://git@bitbucket.example.com:7999/team/deploy.git",
                "https://bitbucket.example.com/scm/team/deploy.git",
            ),
            "refs/heads/main",
            "178864a7d521b6f5e720b386b2c2b0ef8563e0dc",
            "req-2",
        ),
    )
    assert parse("bitbucket-server", b"{}", event="diagnostics:ping").kind is webhooks.EventKind.PING


def test_generic_push_and_bare_branch() -> None:
    (push,) = parse("generic", GENERIC_BODY, delivery="n-1").pushes
    assert push == Push(
        "generic", ("https://git.example.com/team/deploy.git",), "refs/heads/main", "c" * 40, "n-1"
    )
    bare = json.dumps({"repository": "/srv/git/deploy.git", "ref": "main"}).encode()
    (push,) = parse("generic", bare).pushes
    assert (push.ref, push.after) == ("main", "")


def _deleting(provider: str) -> bytes:
    doc = json.loads(SAMPLES[provider])
    if provider == "github":
        doc |= {"deleted": True, "after": "0" * 40}
    elif provider in ("gitlab", "gitea", "forgejo", "generic"):
        doc["after"] = "0" * 40
    elif provider == "bitbucket":
        doc["push"]["changes"] = [c for c in doc["push"]["changes"] if c["new"] is None]
    elif provider == "bitbucket-server":
        doc["changes"][0] |= {"type": "DELETE", "toHash": "0" * 40}
    return json.dumps(doc).encode()


@pytest.mark.parametrize("provider", webhooks.PROVIDERS)
def test_branch_deletions_are_ignored(provider: str) -> None:
    event = parse(provider, _deleting(provider))
    assert event.kind is webhooks.EventKind.IGNORED
    assert event.pushes == ()
    assert "delete" in event.reason


@pytest.mark.parametrize(
    ("provider", "body", "message"),
    [
        ("github", b"", "empty"),
        ("github", b"{not json", "not valid JSON"),
        ("github", b"[1, 2]", "JSON object, not list"),
        ("github", b"\xff\xfe", "not UTF-8"),
        ("github", b'{"after": "abc", "repository": {"clone_url": "https://h/o/r"}}', "'ref' is missing"),
        ("github", b'{"ref": "refs/heads/main", "repository": {}}', "no usable repository URL"),
        (
            "github",
            b'{"ref": 7, "repository": {"clone_url": "https://h/o/r"}}',
            "'ref' is not a non-empty string",
        ),
        ("gitlab", b'{"object_kind": "push", "ref": "refs/heads/main"}', "no usable repository URL"),
        ("bitbucket", b'{"repository": {"full_name": "t/r"}}', "'push.changes'"),
        ("bitbucket-server", b'{"repository": {"links": {"clone": []}}, "changes": []}', "no repository URL"),
        ("generic", b'{"ref": "refs/heads/main"}', "'repository' is missing"),
        ("generic", b'{"repository": "https://h:99999/o/r", "ref": "main"}', "invalid port"),
        ("generic", b'{"repository": "/srv/r", "ref": "main", "after": 5}', "'after' must be a string"),
    ],
)
def test_malformed_payloads_name_what_is_wrong(provider: str, body: bytes, message: str) -> None:
    with pytest.raises(webhooks.BadPayload, match=message):
        parse(provider, body)


def test_missing_event_header_is_a_bad_payload() -> None:
    with pytest.raises(webhooks.BadPayload, match="X-GitHub-Event"):
        webhooks.parse("github", {}, SAMPLES["github"])


def test_unparseable_urls_are_dropped_not_fatal() -> None:
    doc = json.loads(SAMPLES["github"])
    doc["repository"]["git_url"] = "git://github.com:notaport/Team/Deploy.git"
    event = parse("github", json.dumps(doc).encode())
    assert "git://github.com:notaport/Team/Deploy.git" not in event.pushes[0].repo_urls
    assert "https://github.com/Team/Deploy.git" in event.pushes[0].repo_urls


# --- URL normalization and matching -----------------------------------------------------------

SAME = [
    "https://git.example.com/team/deploy.git",
    "https://git.example.com/team/deploy",
    "https://git.example.com/team/deploy/",
    "https://git.example.com/team/deploy.git/",
    "http://git.example.com/team/deploy.git",
    "HTTPS://Git.Example.COM/team/deploy.git",
    "https://git.example.com:443/team/deploy.git",
    "http://git.example.com:80/team/deploy",
    "https://ci:s3cret@git.example.com/team/deploy.git",
    "https://oauth2-token@git.example.com/team/deploy.git",
    "ssh://git@git.example.com/team/deploy.git",
    "ssh://git@git.example.com:22/team/deploy.git",
    "git+ssh://git@git.example.com/team/deploy.git",
    "git@git.example.com:team/deploy.git",
    "git@git.example.com:/team/deploy.git",
    "git.example.com:team/deploy",
    "git://git.example.com/team/deploy.git",
    "  https://git.example.com//team/deploy.git  ",
]

DIFFERENT = [
    "https://git.example.com/other-team/deploy.git",  # different org
    "https://git.example.org/team/deploy.git",  # different host
    "https://git.example.com/team/deploy-config.git",  # different repository
    "https://git.example.com/team/Deploy.git",  # path case matters on a self-hosted server
    "ssh://git@git.example.com:2222/team/deploy.git",  # another port is another server
    "https://git.example.com:8443/team/deploy.git",
    "https://git.example.com/team/deploy/sub.git",
    "/team/deploy.git",  # a local path
]


@pytest.mark.parametrize("url", SAME)
def test_spellings_of_one_repository_normalize_equal(url: str) -> None:
    assert webhooks.normalize_repo_url(url) == "git.example.com/team/deploy"


@pytest.mark.parametrize("url", DIFFERENT)
def test_other_repositories_do_not_match(url: str) -> None:
    assert webhooks.normalize_repo_url(url) != "git.example.com/team/deploy"
    assert webhooks.repo_key(url) != webhooks.repo_key(SAME[0])


def test_hosted_providers_ignore_path_case() -> None:
    key = webhooks.repo_key
    assert key("https://github.com/Team/Deploy.git") == key("git@github.com:team/deploy.git")
    assert key("https://bitbucket.org/Team/Deploy") == key("https://bitbucket.org/team/deploy.git")


def test_non_default_port_and_ipv6_hosts() -> None:
    assert (
        webhooks.normalize_repo_url("ssh://git@Git.Example.com:2222/team/deploy.git")
        == "git.example.com:2222/team/deploy"
    )
    assert webhooks.normalize_repo_url("http://[::1]:3000/team/deploy.git") == "[::1]:3000/team/deploy"
    assert webhooks.normalize_repo_url("git@[::1]:team/deploy.git") == "[::1]/team/deploy"


def test_local_paths_and_file_urls_resolve_to_one_absolute_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bare = tmp_path / "git" / "deploy.git"
    bare.mkdir(parents=True)
    link = tmp_path / "link"
    link.symlink_to(tmp_path / "git")
    monkeypatch.chdir(tmp_path)
    want = f"file://{bare.resolve()}"
    for spelling in (
        str(bare),
        f"{bare}/",
        f"file://{bare}",
        f"file://{bare}/",
        "git/deploy.git",
        "./git/deploy.git",
        str(link / "deploy.git"),
    ):
        assert webhooks.normalize_repo_url(spelling) == want, spelling
    # a local path keeps its .git: /srv/deploy and /srv/deploy.git are different directories
    assert webhooks.normalize_repo_url(str(tmp_path / "git" / "deploy")) != want


def test_unparseable_urls_raise_value_error() -> None:
    for bad in ("", "   ", "https:///team/deploy", "https://host:notaport/x"):
        with pytest.raises(ValueError):
            webhooks.normalize_repo_url(bad)
        assert webhooks.repo_key(bad) == ""  # names no repository: matches nothing


def test_error_messages_do_not_leak_credentials() -> None:
    with pytest.raises(ValueError) as info:
        webhooks.normalize_repo_url("https://ci:s3cret@host:bad/x")
    assert "s3cret" not in str(info.value)


def test_a_push_names_its_repository_in_every_spelling_it_carries() -> None:
    (push,) = parse("gitea", SAMPLES["gitea"]).pushes
    keys = webhooks.push_repo_keys(push)
    assert webhooks.repo_key("ssh://git@git.example.com:2222/team/deploy") in keys
    assert webhooks.repo_key("git@git.example.com:team/deploy.git") in keys  # via the https spelling
    assert webhooks.repo_key("https://git.example.com/team/deploy") in keys
    assert webhooks.repo_key("https://git.example.com/team/other") not in keys
    # an unparseable clone link beside the good ones is left out, not an error
    odd = dataclasses.replace(push, repo_urls=(*push.repo_urls, "https://git.example.com:notaport/x", ""))
    assert webhooks.push_repo_keys(odd) == keys and "" not in keys


@pytest.mark.parametrize(
    ("ref", "revision", "matches"),
    [
        ("refs/heads/main", "main", True),
        ("refs/heads/main", "refs/heads/main", True),
        ("main", "main", True),
        ("main", "refs/heads/main", True),
        ("refs/tags/v1", "v1", True),
        ("refs/tags/v1", "refs/tags/v1", True),
        ("refs/heads/main", "develop", False),
        ("refs/heads/main-2", "main", False),
        ("refs/tags/main", "refs/heads/main", False),
        ("refs/heads/main", "a" * 40, False),
        ("", "main", False),
    ],
)
def test_ref_matches(ref: str, revision: str, matches: bool) -> None:
    assert webhooks.ref_matches(ref, revision) is matches


# --- replay protection ------------------------------------------------------------------------


def test_dedupe_remembers_the_last_n_ids() -> None:
    d = webhooks.DeliveryDedupe(size=2)
    assert not d.seen("a") and not d.seen("b")
    assert d.seen("a")  # refreshes a: b is now the oldest
    assert not d.seen("c")  # evicts b
    assert d.seen("a") and d.seen("c")
    assert not d.seen("b")
    assert len(d) == 2
    assert not d.seen("") and not d.seen("")  # no id: never a duplicate
    d.forget("c")
    assert not d.seen("c")


def test_dedupe_lets_exactly_one_of_concurrent_replays_through() -> None:
    d = webhooks.DeliveryDedupe()
    firsts: list[bool] = []
    barrier = threading.Barrier(16)

    def deliver() -> None:
        barrier.wait()
        firsts.append(not d.seen("same-delivery"))

    threads = [threading.Thread(target=deliver) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert firsts.count(True) == 1


# --- over HTTP --------------------------------------------------------------------------------


@pytest.fixture
def controller() -> StubController:
    return StubController(matches=["web"])


@pytest.fixture
def metrics() -> Metrics:
    return Metrics()


@pytest.fixture
def client(controller: StubController, metrics: Metrics) -> Iterator[TestClient]:
    with make_client(controller, metrics, max_body_bytes=64 * 1024) as c:
        yield c


def outcomes(metrics: Metrics) -> dict[tuple[str, str], float]:
    body, _ = metrics.render()
    counts: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(body.decode()):
        if family.name == "gitops_webhook_deliveries":
            for s in family.samples:
                if s.name.endswith("_total") and s.value:
                    counts[(s.labels["provider"], s.labels["outcome"])] = s.value
    return counts


@pytest.mark.parametrize("provider", webhooks.PROVIDERS)
def test_signed_push_is_accepted_and_reaches_the_controller(
    provider: str, client: TestClient, controller: StubController, metrics: Metrics
) -> None:
    answer = client.post(
        f"/webhooks/{provider}",
        content=SAMPLES[provider],
        headers=provider_headers(provider, SAMPLES[provider]),
    )
    assert answer.status_code == 202, answer.text
    assert answer.json() == {"status": "accepted", "apps": ["web"], "message": ""}
    assert controller.pushes and all(p.provider == provider for p in controller.pushes)
    assert outcomes(metrics) == {(provider, "accepted"): 1.0}


@pytest.mark.parametrize("provider", webhooks.PROVIDERS)
def test_forged_and_unsigned_deliveries_are_401_and_trigger_nothing(
    provider: str, client: TestClient, controller: StubController, metrics: Metrics
) -> None:
    body = SAMPLES[provider]
    forged = client.post(
        f"/webhooks/{provider}", content=body, headers=provider_headers(provider, body, "forged-secret")
    )
    unsigned = client.post(
        f"/webhooks/{provider}", content=body, headers=provider_headers(provider, body, None)
    )
    assert (forged.status_code, unsigned.status_code) == (401, 401)
    assert "forged-secret" not in forged.text and SECRET not in forged.text + unsigned.text
    assert controller.pushes == []
    assert outcomes(metrics) == {(provider, "unauthorized"): 2.0}
    # a forged delivery does not poison the dedupe: the genuine one with its id still goes through
    genuine = client.post(f"/webhooks/{provider}", content=body, headers=provider_headers(provider, body))
    assert genuine.status_code == 202


def test_a_replayed_delivery_is_ignored(
    client: TestClient, controller: StubController, metrics: Metrics
) -> None:
    body = SAMPLES["github"]
    first = client.post(
        "/webhooks/github", content=body, headers=provider_headers("github", body, delivery="abc")
    )
    replay = client.post(
        "/webhooks/github", content=body, headers=provider_headers("github", body, delivery="abc")
    )
    assert first.status_code == 202
    assert replay.status_code == 200
    assert replay.json()["status"] == "duplicate"
    assert len(controller.pushes) == 1
    other = client.post(
        "/webhooks/github", content=body, headers=provider_headers("github", body, delivery="abd")
    )
    assert other.status_code == 202
    assert outcomes(metrics) == {("github", "accepted"): 2.0, ("github", "duplicate"): 1.0}


def test_same_delivery_id_from_another_provider_is_not_a_replay(client: TestClient) -> None:
    for provider in ("github", "gitea"):
        body = SAMPLES[provider]
        answer = client.post(
            f"/webhooks/{provider}", content=body, headers=provider_headers(provider, body, delivery="1")
        )
        assert answer.status_code == 202


def test_oversize_body_is_413_before_verification(
    client: TestClient, controller: StubController, metrics: Metrics
) -> None:
    big = b'{"pad": "' + b"x" * (64 * 1024) + b'"}'
    answer = client.post("/webhooks/github", content=big, headers=provider_headers("github", big))
    assert answer.status_code == 413
    assert "limit" in answer.json()["error"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit holds while streaming
        for _ in range(80):
            yield b"x" * 1024

    streamed = client.post("/webhooks/github", content=chunks(), headers={"X-GitHub-Event": "push"})
    assert streamed.status_code == 413
    assert controller.pushes == []
    assert outcomes(metrics) == {("github", "too_large"): 2.0}


def test_ping_is_acknowledged_without_a_sync(
    client: TestClient, controller: StubController, metrics: Metrics
) -> None:
    body = payload("github-ping.json")
    answer = client.post(
        "/webhooks/github", content=body, headers=provider_headers("github", body, event="ping")
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "pong"
    assert controller.pushes == []
    assert outcomes(metrics) == {("github", "ignored"): 1.0}


def test_non_push_events_and_deletions_are_200_ignored(
    client: TestClient, controller: StubController
) -> None:
    body = b'{"object_kind": "merge_request"}'
    answer = client.post(
        "/webhooks/gitlab", content=body, headers=provider_headers("gitlab", body, event="Merge Request Hook")
    )
    assert (answer.status_code, answer.json()["status"]) == (200, "ignored")
    deleted = _deleting("github")
    answer = client.post(
        "/webhooks/github", content=deleted, headers=provider_headers("github", deleted, delivery="d-2")
    )
    assert (answer.status_code, answer.json()["status"]) == (200, "ignored")
    assert controller.pushes == []


def test_malformed_payload_is_400_naming_the_field(
    client: TestClient, controller: StubController, metrics: Metrics
) -> None:
    body = b'{"repository": "https://git.example.com/team/deploy.git"}'
    answer = client.post("/webhooks/generic", content=body, headers=provider_headers("generic", body))
    assert answer.status_code == 400
    assert answer.json() == {"error": "'ref' is missing"}
    assert controller.pushes == []
    assert outcomes(metrics) == {("generic", "bad_request"): 1.0}


def test_push_no_app_tracks_is_200_no_match(
    client: TestClient, controller: StubController, metrics: Metrics
) -> None:
    controller.matches = []
    answer = client.post(
        "/webhooks/generic", content=GENERIC_BODY, headers=provider_headers("generic", GENERIC_BODY)
    )
    assert answer.status_code == 200
    assert answer.json()["status"] == "no_match" and answer.json()["apps"] == []
    assert len(controller.pushes) == 1
    assert outcomes(metrics) == {("generic", "no_match"): 1.0}


def test_bitbucket_push_of_several_refs_answers_the_union_of_apps(
    client: TestClient, controller: StubController
) -> None:
    body = SAMPLES["bitbucket"]
    answer = client.post("/webhooks/bitbucket", content=body, headers=provider_headers("bitbucket", body))
    assert answer.json()["apps"] == ["web"]
    assert [p.ref for p in controller.pushes] == ["refs/heads/main", "refs/tags/v1.0.0"]


def test_without_a_secret_webhooks_are_refused_with_how_to_fix(
    controller: StubController, metrics: Metrics
) -> None:
    client = make_client(controller, metrics, webhook_secret=None)
    answer = client.post(
        "/webhooks/generic", content=GENERIC_BODY, headers=provider_headers("generic", GENERIC_BODY)
    )
    assert answer.status_code == 401
    assert "no webhook secret" in answer.json()["error"]
    assert controller.pushes == []


def test_insecure_mode_accepts_unsigned_deliveries(controller: StubController, metrics: Metrics) -> None:
    client = make_client(controller, metrics, webhook_secret=None, webhooks_insecure=True)
    answer = client.post(
        "/webhooks/generic", content=GENERIC_BODY, headers=provider_headers("generic", GENERIC_BODY, None)
    )
    assert answer.status_code == 202
    assert len(controller.pushes) == 1


def test_with_a_secret_insecure_mode_still_verifies(controller: StubController, metrics: Metrics) -> None:
    client = make_client(controller, metrics, webhooks_insecure=True)
    answer = client.post(
        "/webhooks/generic", content=GENERIC_BODY, headers=provider_headers("generic", GENERIC_BODY, None)
    )
    assert answer.status_code == 401


def test_a_controller_failure_lets_the_retry_through(controller: StubController, metrics: Metrics) -> None:
    calls = []

    def flaky(event: Push) -> list[str]:
        calls.append(event)
        if len(calls) == 1:
            raise RuntimeError("queue closed")
        return ["web"]

    controller.push = flaky  # type: ignore[method-assign]
    client = make_client(controller, metrics)
    headers = provider_headers("generic", GENERIC_BODY, delivery="retry-me")
    assert client.post("/webhooks/generic", content=GENERIC_BODY, headers=headers).status_code == 500
    assert client.post("/webhooks/generic", content=GENERIC_BODY, headers=headers).status_code == 202


def test_every_provider_outcome_series_starts_at_zero(metrics: Metrics) -> None:
    body, _ = metrics.render()
    samples = [
        s
        for f in text_string_to_metric_families(body.decode())
        if f.name == "gitops_webhook_deliveries"
        for s in f.samples
        if s.name.endswith("_total")
    ]
    assert len(samples) == len(webhooks.PROVIDERS) * len(webhooks.Outcome)
    assert all(s.value == 0 for s in samples)
