"""``gitops daemon`` flags into DaemonSettings: durations written as in the config file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from gitops.cli.daemon import daemon_cmd
from gitops.daemon import runner


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> list[runner.DaemonSettings]:
    seen: list[runner.DaemonSettings] = []

    def fake_run(settings: runner.DaemonSettings, *args: Any, **kwargs: Any) -> int:
        seen.append(settings)
        return 0

    monkeypatch.setattr(runner, "run", fake_run)
    return seen


def _invoke(tmp_path: Path, *args: str) -> Any:
    return CliRunner().invoke(
        daemon_cmd, ["--config", str(tmp_path / "gitops.yaml"), "--insecure-webhooks", *args]
    )


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        # Units as the config file writes durations, or plain seconds.
        (
            [
                "--lease-duration",
                "1m",
                "--renew-deadline",
                "45",
                "--retry-period",
                "2.5s",
                "--grace",
                "1m30s",
            ],
            (60.0, 45.0, 2.5, 90.0),
        ),
        # The defaults: client-go leaderelection's usual 15 s / 10 s / 2 s, and a pod's 30 s grace.
        ([], (15.0, 10.0, 2.0, 30.0)),
    ],
)
def test_durations(
    tmp_path: Path, captured: list[runner.DaemonSettings], args: list[str], expected: tuple[float, ...]
) -> None:
    result = _invoke(tmp_path, *args)
    assert result.exit_code == 0, result.output
    (settings,) = captured
    assert (
        settings.lease_duration,
        settings.renew_deadline,
        settings.retry_period,
        settings.grace,
    ) == expected


def test_a_bad_duration_names_the_flag(tmp_path: Path, captured: list[runner.DaemonSettings]) -> None:
    result = _invoke(tmp_path, "--grace", "5 minutes")
    assert result.exit_code == 2
    assert "--grace" in result.output and "invalid duration '5 minutes'" in result.output
    assert captured == []


@pytest.mark.parametrize(
    ("listen", "environ", "flag", "expected"),
    [
        ("0.0.0.0", {"POD_IP": "10.1.2.3"}, "", "http://10.1.2.3:8080"),  # the chart's pod
        ("::", {"POD_IP": "fd00::3"}, "", "http://[fd00::3]:8080"),
        ("0.0.0.0", {}, "", ""),  # a wildcard outside a pod: nothing to advertise
        ("10.0.0.9", {"POD_IP": "10.1.2.3"}, "", "http://10.0.0.9:8080"),  # one address: that one
        ("127.0.0.1", {"POD_IP": "10.1.2.3"}, "", ""),  # loopback: no other host reaches it
        ("localhost", {}, "", ""),
        ("127.0.0.1", {}, "http://gitops-0.gitops:8080/", "http://gitops-0.gitops:8080"),  # the flag wins
    ],
)
def test_the_advertised_url(listen: str, environ: dict[str, str], flag: str, expected: str) -> None:
    settings = runner.DaemonSettings(
        config_path=Path("gitops.yaml"), host=listen, port=8080, advertise_url=flag
    )
    assert runner.advertise_url(settings, environ) == expected


def test_a_bad_advertise_url_names_the_flag(tmp_path: Path, captured: list[runner.DaemonSettings]) -> None:
    result = _invoke(tmp_path, "--advertise-url", "file:///etc/passwd")
    assert result.exit_code == 2 and "--advertise-url" in result.output and captured == []
