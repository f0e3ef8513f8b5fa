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
