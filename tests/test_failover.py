"""EndpointRotation: rotation on failure, back to the first url after a healthy period."""

from __future__ import annotations

import math

import pytest

from okx_trio._config import AWS_URL as CONFIG_AWS_URL
from okx_trio._config import DEFAULT_URL
from okx_trio._failover import AWS_URL, EndpointRotation

A = "wss://a.example:8443/ws"
B = "wss://b.example:8443/ws"
C = "ws://127.0.0.1:9000"


def test_aws_url_matches_the_config() -> None:
    assert AWS_URL == "wss://wsaws.okx.com:8443/ws/v5/public"
    assert AWS_URL == CONFIG_AWS_URL


def test_starts_on_the_first_url() -> None:
    rotation = EndpointRotation([DEFAULT_URL, AWS_URL], healthy_after=30.0)
    assert rotation.urls == (DEFAULT_URL, AWS_URL)
    assert rotation.current == DEFAULT_URL
    assert rotation.healthy_after == 30.0
    assert rotation.failures() == {DEFAULT_URL: 0, AWS_URL: 0}
    assert not rotation.healthy(0.0)


def test_urls_may_be_any_sequence() -> None:
    assert EndpointRotation((A, B), 1).urls == (A, B)
    assert EndpointRotation([C], 0).urls == (C,)


def test_failed_connects_rotate_and_wrap_around() -> None:
    rotation = EndpointRotation([A, B, C], healthy_after=30.0)
    assert [rotation.ended(float(t)) for t in range(7)] == [B, C, A, B, C, A, B]
    assert rotation.current == B
    assert rotation.failures() == {A: 3, B: 2, C: 2}


def test_connection_that_ends_before_healthy_is_a_failure() -> None:
    rotation = EndpointRotation([A, B], healthy_after=30.0)
    rotation.connected(100.0)
    assert not rotation.healthy(129.999)
    assert rotation.ended(129.999) == B
    assert rotation.failures() == {A: 1, B: 0}
    assert not rotation.healthy(200.0)  # the new attempt has not opened


def test_healthy_connection_that_ends_goes_back_to_the_first_url() -> None:
    rotation = EndpointRotation([A, B, C], healthy_after=30.0)
    assert rotation.ended(0.0) == B  # A refused
    assert rotation.ended(1.0) == C  # B refused
    rotation.connected(5.0)
    assert not rotation.healthy(34.0)
    assert rotation.healthy(35.0)  # exactly healthy_after later
    assert rotation.ended(500.0) == A
    # Not a failure of C: only the refused attempts count.
    assert rotation.failures() == {A: 1, B: 1, C: 0}


def test_healthy_on_the_first_url_stays_on_it() -> None:
    rotation = EndpointRotation([A, B], healthy_after=10.0)
    rotation.connected(0.0)
    assert rotation.ended(10.0) == A
    assert rotation.failures() == {A: 0, B: 0}


def test_failover_and_back() -> None:
    rotation = EndpointRotation([DEFAULT_URL, AWS_URL], healthy_after=30.0)
    # The preferred endpoint is down: connects fail, then a short-lived connection.
    assert rotation.ended(0.0) == AWS_URL
    rotation.connected(1.0)
    assert rotation.ended(2.0) == DEFAULT_URL  # AWS dropped us quickly: rotate on
    assert rotation.ended(3.0) == AWS_URL
    rotation.connected(4.0)
    assert rotation.healthy(34.0)
    # A long healthy session on AWS ends: the next attempt tries the preferred url again.
    assert rotation.ended(4000.0) == DEFAULT_URL
    assert rotation.failures() == {DEFAULT_URL: 2, AWS_URL: 1}


def test_one_url_stays_on_it() -> None:
    rotation = EndpointRotation([A], healthy_after=5.0)
    assert rotation.ended(0.0) == A
    rotation.connected(1.0)
    assert rotation.ended(2.0) == A
    rotation.connected(3.0)
    assert rotation.ended(9.0) == A
    assert rotation.failures() == {A: 2}


def test_zero_healthy_after_means_healthy_once_connected() -> None:
    rotation = EndpointRotation([A, B], healthy_after=0)
    assert rotation.ended(0.0) == B
    rotation.connected(1.0)
    assert rotation.healthy(1.0)
    assert rotation.ended(1.0) == A
    assert rotation.failures() == {A: 1, B: 0}


def test_ended_resets_the_attempt() -> None:
    rotation = EndpointRotation([A, B], healthy_after=1.0)
    rotation.connected(0.0)
    rotation.ended(5.0)
    assert not rotation.healthy(100.0)
    # The next attempt did not connect: a failure, even much later.
    assert rotation.ended(100.0) == B
    assert rotation.failures() == {A: 1, B: 0}


def test_connected_twice_is_a_bug_in_the_caller() -> None:
    rotation = EndpointRotation([A, B], healthy_after=1.0)
    rotation.connected(0.0)
    with pytest.raises(RuntimeError, match=r"connected\(\) called twice"):
        rotation.connected(0.5)
    assert rotation.healthy(1.0)  # the first time stands


def test_failures_is_a_copy_in_urls_order() -> None:
    rotation = EndpointRotation([C, A, B], healthy_after=1.0)
    rotation.ended(0.0)
    failures = rotation.failures()
    assert list(failures) == [C, A, B]
    failures[C] = 99
    assert rotation.failures() == {C: 1, A: 0, B: 0}


def test_repr() -> None:
    rotation = EndpointRotation([A, B], healthy_after=2)
    rotation.ended(0.0)
    assert repr(rotation) == (
        f"EndpointRotation(urls=({A!r}, {B!r}), healthy_after=2.0, current={B!r})"
    )


def test_no_urls() -> None:
    with pytest.raises(ValueError, match=r"^urls must hold at least one url, got none$"):
        EndpointRotation([], healthy_after=1.0)


def test_a_bare_string_is_not_a_list_of_urls() -> None:
    with pytest.raises(ValueError, match=r"^urls must be a sequence of urls, got 'wss://"):
        EndpointRotation(A, healthy_after=1.0)
    with pytest.raises(ValueError, match=r"^urls must be a sequence of urls, got \{"):
        EndpointRotation({A}, healthy_after=1.0)  # type: ignore[arg-type]


def test_duplicate_urls() -> None:
    with pytest.raises(ValueError, match=rf"^urls must be distinct, got {A!r} twice in "):
        EndpointRotation([A, B, A], healthy_after=1.0)


@pytest.mark.parametrize("bad", ["", "https://a.example/ws", "wss://", "a.example:8443", 7, None])
def test_bad_urls(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^urls must be ws:// or wss:// urls with a host, got "):
        EndpointRotation([A, bad], healthy_after=1.0)  # type: ignore[list-item]


@pytest.mark.parametrize("bad", [-1, -0.001, math.nan, math.inf, "1", None, True])
def test_bad_healthy_after(bad: object) -> None:
    with pytest.raises(ValueError, match=r"^healthy_after must be a finite number >= 0, got "):
        EndpointRotation([A], healthy_after=bad)  # type: ignore[arg-type]
