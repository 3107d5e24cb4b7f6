"""okx_trio.monitor._loglines and _figures: log lines, state words, what stats say."""

from __future__ import annotations

import okx_trio.monitor as monitor
from okx_trio import ConnectionState, StateChange

from ._monitor_helpers import AWS, OKX, make_conn, make_pool, make_stats, make_ticker

# --- log lines ----------------------------------------------------------------------------


def _line(change: StateChange, **kwargs: object) -> str:
    return monitor.state_words(change, **kwargs).line  # type: ignore[arg-type]


def test_state_lines_are_rendered_from_the_state_and_the_host() -> None:
    S = ConnectionState
    assert (
        _line(StateChange(S.CONNECTING, "connecting (attempt 1)", 0), host="ws.okx.com")
        == "[state] connecting: connecting to ws.okx.com (attempt 1)"
    )
    assert (
        _line(StateChange(S.RECONNECTING, "connection lost: heartbeat timeout", 1))
        == "[state] reconnecting: connection lost: heartbeat timeout (attempt 1)"
    )
    assert (
        _line(StateChange(S.RECONNECTING, "lost (attempt 3 of 5)", 3))
        == "[state] reconnecting: lost (attempt 3 of 5)"
    )
    # The library's wording of a connection does not matter: the state and the host do.
    for message in ("connected to OKX", "connected to ws.okx.com", "up"):
        assert (
            _line(StateChange(S.CONNECTED, message, 0), host="the demo exchange")
            == "[state] connected: connected to the demo exchange"
        )
    assert (
        _line(StateChange(S.FAILED, "max retries exceeded", 3))
        == "[state] failed: max retries exceeded"
    )


def test_a_reconnect_says_when_the_next_attempt_comes() -> None:
    change = StateChange(
        ConnectionState.RECONNECTING, "connect failed: OSError: refused", 2, delay=12.6
    )
    assert _line(change) == (
        "[state] reconnecting: connect failed: OSError: refused; next attempt in 13 s (retry 2)"
    )
    soon = StateChange(ConnectionState.RECONNECTING, "connection lost", 1, delay=0.46)
    assert _line(soon).endswith("; next attempt in 0.5 s (retry 1)")
    assert monitor.format_delay(13.0) == "13 s"


def test_a_failed_name_lookup_suggests_the_demo() -> None:
    change = StateChange(
        ConnectionState.RECONNECTING,
        "connect failed: OSError: no address (gaierror: [Errno -3] Temporary failure in "
        "name resolution)",
        1,
        delay=1.0,
    )
    line = _line(change, host="ws.okx.com")
    assert line.endswith("(cannot resolve the host: no network? try --demo for the offline demo)")
    assert monitor.network_hint("[Errno -2] Name or service not known") is not None
    assert monitor.network_hint("connection closed by server (code 1006)") is None


def test_notices_have_no_state_prefix_and_pools_a_connection_label() -> None:
    S = ConnectionState
    rejected = monitor.state_words(
        StateChange(S.CONNECTED, "instrument rejected: FAKE-USDT (60018 doesn't exist)"),
        notice=True,
    )
    assert rejected.line == "[rejected] instrument rejected: FAKE-USDT (60018 doesn't exist)"
    notice = monitor.state_words(
        StateChange(S.CONNECTED, "[connection 1] notice 64008: upgrade", connection=1),
        notice=True,
        pooled=True,
    )
    assert notice.line == "[notice] [connection 1] notice 64008: upgrade"
    pooled = _line(
        StateChange(S.CONNECTED, "[connection 2] connected to OKX", connection=2),
        host="ws.okx.com",
        pooled=True,
    )
    assert pooled == "[state] connected: [connection 2] connected to ws.okx.com"


def test_log_lines_carry_the_time_since_start() -> None:
    assert monitor.timestamped(62.257, "[tick] x") == "00:01:02.25 [tick] x"
    assert monitor.timestamped(0.0, "[state] y") == "00:00:00.00 [state] y"


def test_closing_line() -> None:
    stats = make_stats(reconnect_count=3, ticks_received=1234, quality=98)
    assert monitor.format_closing_line(65.0, stats, "quit") == (
        "[bye] ran 1m05s: 3 reconnects, 1234 ticks (0 dropped), quality 98/100; quit"
    )
    one = make_stats(reconnect_count=1)
    assert "1 reconnect," in monitor.format_closing_line(1.0, one, "quit")
    assert monitor.format_closing_line(2.0, None, "quit") == "[bye] ran 2.0s; quit"


def test_tick_lines() -> None:
    assert monitor.format_tick_line(make_ticker()) == "[tick] BTC-USDT: $46053.00 (+2.34%)"
    assert (
        monitor.format_tick_line(make_ticker("DOGE-USDT", "0.38127", "0.4"))
        == "[tick] DOGE-USDT: $0.3813 (-4.68%)"
    )
    assert (
        monitor.format_tick_line(make_ticker("NEW-USDT", "1.5", "0"))
        == "[tick] NEW-USDT: $1.50 (n/a)"
    )


def test_stats_line() -> None:
    assert monitor.format_stats_line(make_stats()) == (
        "[stats] state=connected reconnects=1 retry=0 subscribed=3/3 duration=12.3s "
        "last_msg=0.1s ticks=1234 dropped=0 bad=0 rejected=- quality=100 latency=- last_error=-"
    )
    line = monitor.format_stats_line(
        make_stats(
            state=ConnectionState.RECONNECTING,
            retry_count=2,
            subscribed_pairs=0,
            desired_pairs=4,
            connection_duration=0.0,
            last_message_age=None,
            last_error="connection lost:\nheartbeat timeout",
            rejected_pairs=("FAKE-USDT", "FOO-BAR"),
            quality=42,
            latency_median=0.123,
            latency_p99=0.5,
        )
    )
    assert line == (
        "[stats] state=reconnecting reconnects=1 retry=2 subscribed=0/4 duration=0.0s "
        "last_msg=- ticks=1234 dropped=0 bad=0 rejected=FAKE-USDT,FOO-BAR "
        "quality=42 latency=0.12s,p99=0.50s "
        "last_error=connection lost: heartbeat timeout"
    )


def test_stats_line_of_a_pool_has_one_part_per_connection() -> None:
    pool = make_pool(
        make_conn(0, subscribed_pairs=500, desired_pairs=500),
        make_conn(
            1,
            state=ConnectionState.RECONNECTING,
            subscribed_pairs=0,
            desired_pairs=500,
            quality=62,
        ),
        state=ConnectionState.RECONNECTING,
    )
    assert monitor.is_pooled(pool)
    assert monitor.format_pool_part(pool) == (
        "conn0 connected 500/500 q100; conn1 reconnecting 0/500 q62"
    )
    line = monitor.format_stats_line(pool)
    assert line == (
        "[stats] state=reconnecting reconnects=1 retry=0 subscribed=500/1000 duration=12.3s "
        "last_msg=0.1s ticks=300 dropped=0 bad=0 rejected=- quality=62 latency=- "
        "pool=[conn0 connected 500/500 q100; conn1 reconnecting 0/500 q62] last_error=-"
    )


def test_one_connection_is_not_a_pool() -> None:
    single = make_stats(connections=(make_conn(0),))
    assert not monitor.is_pooled(single)
    assert not monitor.is_pooled(make_stats())
    assert monitor.format_pool_part(single) == ""
    assert "pool=" not in monitor.format_stats_line(single)


def test_stats_line_shows_failover_handovers_stale_and_rate_limits_when_not_zero() -> None:
    quiet = make_stats(url_failures=((OKX, 0), (AWS, 0)), request_budget=470)
    assert monitor.format_stats_line(quiet) == monitor.format_stats_line(make_stats())
    assert monitor.notable_figures(quiet) == []
    busy = make_stats(
        url=AWS,
        url_failures=((OKX, 3), (AWS, 0)),
        handovers=2,
        stale_resubscribes=5,
        connects_delayed=4,
        requests_delayed=1,
        request_budget=0,
        last_error="connect failed",
    )
    assert monitor.failover_url(busy) == AWS
    assert monitor.url_failure_count(busy) == 3
    line = monitor.format_stats_line(busy)
    assert line.endswith(
        f"latency=- url={AWS} handovers=2 stale_resubscribes=5 connects_delayed=4 "
        "requests_delayed=1 request_budget=0 left last_error=connect failed"
    ), line
    # The budget shows once it is low, or once a request had to wait for it.
    low = make_stats(request_budget=monitor.LOW_REQUEST_BUDGET)
    assert "request_budget=48 left" in monitor.format_stats_line(low)
    waited = make_stats(request_budget=300, requests_delayed=1)
    assert "request_budget=300 left" in monitor.format_stats_line(waited)
    assert monitor.notable_figures(make_stats(request_budget=None, requests_delayed=0)) == []


def test_failover_is_judged_against_the_first_configured_url() -> None:
    assert monitor.failover_url(make_stats(url=OKX, url_failures=((OKX, 2), (AWS, 0)))) is None
    assert monitor.failover_url(make_stats(url=AWS)) is None  # no url list: nothing to judge
    assert monitor.preferred_url(make_stats(url_failures=((AWS, 0),))) == AWS
    assert monitor.url_host(AWS) == "wsaws.okx.com"
    assert monitor.url_host("ws://127.0.0.1:4000/ws") == "127.0.0.1"
    moved = make_conn(1, url=AWS, url_failures=((OKX, 1), (AWS, 0)))
    assert monitor.format_connection_part(moved) == "conn1 connected 2/2 q100 @wsaws.okx.com"


def test_tick_log_limiter_allows_one_line_per_pair_per_second() -> None:
    limiter = monitor.TickLogLimiter(1.0)
    assert limiter.should_log("BTC-USDT", 10.0)
    assert not limiter.should_log("BTC-USDT", 10.5)
    assert limiter.should_log("ETH-USDT", 10.5)
    assert not limiter.should_log("BTC-USDT", 10.999)
    assert limiter.should_log("BTC-USDT", 11.0)
    assert not limiter.should_log("BTC-USDT", 11.2)
    limiter.forget("BTC-USDT")
    assert limiter.should_log("BTC-USDT", 11.3)


def test_rate_limiter() -> None:
    limiter = monitor.RateLimiter(5.0, start=100.0)
    assert not limiter.ready(101.0)
    assert limiter.ready(105.0)
    assert not limiter.ready(106.0)
    assert limiter.ready(110.0)
    assert limiter.ready(130.0)  # after a long pause: once, not a burst
    assert not limiter.ready(131.0)
    assert limiter.ready(135.0)
