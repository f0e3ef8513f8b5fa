"""gitops.engine.Cancel: the first reason wins; listeners hear it at once, also late ones."""

from __future__ import annotations

from gitops.engine import Cancel


def test_the_first_reason_wins_and_listeners_hear_it_once() -> None:
    cancel = Cancel()
    heard: list[str] = []
    cancel.subscribe(heard.append)
    assert not cancel.is_set() and cancel.reason == ""
    cancel.cancel("the daemon is shutting down")
    cancel.cancel("a newer revision (abc) arrived")
    assert cancel.is_set() and cancel.reason == "the daemon is shutting down"
    assert heard == ["the daemon is shutting down"]


def test_a_listener_subscribed_after_the_cancel_hears_it_at_once() -> None:
    cancel = Cancel()
    cancel.cancel()
    heard: list[str] = []
    cancel.subscribe(heard.append)
    assert heard == ["a newer revision arrived"]


def test_an_unsubscribed_listener_hears_nothing() -> None:
    cancel = Cancel()
    heard: list[str] = []
    unsubscribe = cancel.subscribe(heard.append)
    unsubscribe()
    cancel.cancel("gone")
    assert heard == []
