"""SubscriptionBook[str]: desired vs. server state, and exactly what goes on the wire."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable

import pytest

from okx_trio._codec import Ack, ErrorEvent, Op, decode, encode_request
from okx_trio._subscriptions import (
    MAX_REQUEST_BYTES,
    REJECT_CODES,
    ErrorOutcome,
    Request,
    SubscriptionBook,
)

PAIRS = ["BTC-USDT", "ETH-USDT", "SOL-USDT", "XRP-USDT", "DOGE-USDT"]


def _args(request: Request[str]) -> list[str]:
    """The instIds in the request's wire text (not its bookkeeping)."""
    obj = json.loads(request.text)
    assert obj["op"] == request.op
    assert obj["id"] == request.req_id
    assert all(a["channel"] == "tickers" for a in obj["args"])
    return [a["instId"] for a in obj["args"]]


def _ack_all(
    book: SubscriptionBook[str], requests: Iterable[Request[str]], *, with_id: bool = True
) -> None:
    for request in requests:
        for inst_id in request.inst_ids:
            book.handle_ack(Ack(request.op, inst_id, request.req_id if with_id else None))


def _connected(*pairs: str, now: float = 0.0) -> tuple[SubscriptionBook[str], list[Request[str]]]:
    book = SubscriptionBook(pairs)
    book.connection_opened()
    return book, book.next_requests(now)


def _settle(book: SubscriptionBook[str], now: float = 0.0) -> None:
    for _ in range(10):
        requests = book.next_requests(now)
        if not requests:
            return
        _ack_all(book, requests)
    raise AssertionError("book did not settle")


# -- the initial connection ---------------------------------------------------------------


def test_initial_connect_sends_one_subscribe_with_all_pairs_sorted() -> None:
    book, requests = _connected(*PAIRS, now=5.0)
    assert len(requests) == 1
    request = requests[0]
    assert request.op == "subscribe"
    assert request.inst_ids == tuple(sorted(PAIRS))
    assert _args(request) == sorted(PAIRS)
    assert request.sent_at == 5.0
    assert request.waiting == set(PAIRS)
    assert request.text == encode_request("subscribe", sorted(PAIRS), request.req_id)
    assert book.pending == (request,)
    assert book.acknowledged == frozenset()
    assert book.desired == frozenset(PAIRS)


def test_request_ids_are_distinct() -> None:
    book, first = _connected("BTC-USDT")
    book.add("ETH-USDT")
    second = book.next_requests(1.0)
    book.remove("BTC-USDT")
    _ack_all(book, first)
    third = book.next_requests(2.0)
    ids = [r.req_id for r in (*first, *second, *third)]
    assert len(ids) == 3
    assert len(set(ids)) == 3


def test_nothing_is_sent_while_disconnected() -> None:
    book = SubscriptionBook(PAIRS)
    assert book.next_requests(0.0) == []
    assert not book.has_work()
    assert not book.settled
    book.add("ADA-USDT")
    assert book.next_requests(0.0) == []
    assert book.pending == ()


def test_nothing_is_sent_when_nothing_is_desired() -> None:
    book, requests = _connected()
    assert requests == []
    assert book.settled
    assert not book.has_work()


def test_second_call_sends_nothing_while_in_flight() -> None:
    book, _ = _connected(*PAIRS)
    assert not book.has_work()
    assert book.next_requests(1.0) == []


@pytest.mark.parametrize("with_id", [True, False])
def test_acks_make_pairs_acknowledged(with_id: bool) -> None:
    book, requests = _connected(*PAIRS)
    _ack_all(book, requests, with_id=with_id)
    assert book.acknowledged == frozenset(PAIRS)
    assert book.pending == ()
    assert book.settled
    assert not book.has_work()
    assert book.oldest_pending_since() is None


def test_partial_acks_keep_the_request_pending() -> None:
    book, (request,) = _connected("BTC-USDT", "ETH-USDT")
    book.handle_ack(Ack("subscribe", "BTC-USDT", request.req_id))
    assert book.acknowledged == frozenset({"BTC-USDT"})
    assert book.pending == (request,)
    assert request.waiting == {"ETH-USDT"}
    assert not book.settled
    book.handle_ack(Ack("subscribe", "ETH-USDT", request.req_id))
    assert len(book.pending) == 0
    assert book.settled


def test_2022_capture_acks_without_id_and_repeated() -> None:
    # The 2022 session: acks carry no id and a repeated argument is acked again.
    book, (request,) = _connected("BTC-USD-220527", "UNI-USD-SWAP", "BTC-USDT")
    assert request.waiting == {"BTC-USD-220527", "UNI-USD-SWAP", "BTC-USDT"}
    for text in [
        '{"event":"subscribe","arg":{"channel":"tickers","instId":"BTC-USD-220527"}}',
        '{"event":"subscribe","arg":{"channel":"tickers","instId":"UNI-USD-SWAP"}}',
        '{"event":"subscribe","arg":{"channel":"tickers","instId":"BTC-USDT"}}',
        '{"event":"subscribe","arg":{"channel":"tickers","instId":"BTC-USDT"}}',
    ]:
        event = decode(text)
        assert isinstance(event, Ack)
        book.handle_ack(event)
    assert book.acknowledged == frozenset({"BTC-USD-220527", "UNI-USD-SWAP", "BTC-USDT"})
    assert book.settled
    assert book.next_requests(1.0) == []


def test_acks_while_disconnected_are_ignored() -> None:
    book = SubscriptionBook(["BTC-USDT"])
    book.handle_ack(Ack("subscribe", "BTC-USDT", None))
    assert book.acknowledged == frozenset()


# -- incremental changes --------------------------------------------------------------------


def test_adding_five_pairs_sends_one_subscribe_with_five_args() -> None:
    book, requests = _connected("BTC-USDT")
    _ack_all(book, requests)
    new = ["ADA-USDT", "DOT-USDT", "LTC-USDT", "TRX-USDT", "BNB-USDT"]
    for pair in new:
        book.add(pair)
    assert book.has_work()
    (request,) = book.next_requests(3.0)
    assert request.op == "subscribe"
    assert _args(request) == sorted(new)
    assert book.acknowledged == frozenset({"BTC-USDT"})
    _ack_all(book, [request])
    assert book.acknowledged == frozenset({"BTC-USDT", *new})


def test_removing_pairs_sends_one_unsubscribe() -> None:
    book, requests = _connected(*PAIRS)
    _ack_all(book, requests)
    book.remove("SOL-USDT")
    book.remove("BTC-USDT")
    book.remove("NOT-WANTED")  # never wanted: no error, nothing sent for it
    assert book.has_work()
    (request,) = book.next_requests(4.0)
    assert request.op == "unsubscribe"
    assert _args(request) == ["BTC-USDT", "SOL-USDT"]
    # Still on the server until the server says otherwise.
    assert book.acknowledged == frozenset({"DOGE-USDT", "ETH-USDT", "XRP-USDT"})
    assert not book.settled
    _ack_all(book, [request])
    assert book.acknowledged == frozenset({"DOGE-USDT", "ETH-USDT", "XRP-USDT"})
    assert book.settled


def test_add_and_remove_together_send_unsubscribe_then_subscribe() -> None:
    book, requests = _connected("BTC-USDT")
    _ack_all(book, requests)
    book.remove("BTC-USDT")
    book.add("ETH-USDT")
    requests = book.next_requests(1.0)
    assert [(r.op, _args(r)) for r in requests] == [
        ("unsubscribe", ["BTC-USDT"]),
        ("subscribe", ["ETH-USDT"]),
    ]


def test_adding_an_already_subscribed_pair_sends_nothing() -> None:
    book, requests = _connected("BTC-USDT")
    _ack_all(book, requests)
    book.add("BTC-USDT")
    assert not book.has_work()
    assert book.next_requests(1.0) == []


def test_add_remove_while_subscribe_in_flight_unsubscribes_after_the_ack() -> None:
    book, requests = _connected("BTC-USDT")
    _ack_all(book, requests)
    book.add("ETH-USDT")
    (sub,) = book.next_requests(1.0)
    assert _args(sub) == ["ETH-USDT"]
    book.remove("ETH-USDT")
    # The subscribe is in flight: an unsubscribe now could overtake it; a second subscribe
    # would be a duplicate. Nothing goes out.
    assert not book.has_work()
    assert book.next_requests(2.0) == []
    book.add("ETH-USDT")
    book.remove("ETH-USDT")
    assert book.next_requests(2.5) == []
    book.handle_ack(Ack("subscribe", "ETH-USDT", sub.req_id))
    assert book.has_work()
    (unsub,) = book.next_requests(3.0)
    assert (unsub.op, _args(unsub)) == ("unsubscribe", ["ETH-USDT"])
    book.handle_ack(Ack("unsubscribe", "ETH-USDT", unsub.req_id))
    assert book.acknowledged == frozenset({"BTC-USDT"})
    assert book.settled


def test_remove_then_add_while_unsubscribe_in_flight_resubscribes_after_the_ack() -> None:
    book, requests = _connected("BTC-USDT")
    _ack_all(book, requests)
    book.remove("BTC-USDT")
    (unsub,) = book.next_requests(1.0)
    book.add("BTC-USDT")
    assert not book.has_work()
    assert book.next_requests(2.0) == []
    assert book.acknowledged == frozenset()
    book.handle_ack(Ack("unsubscribe", "BTC-USDT", unsub.req_id))
    (sub,) = book.next_requests(3.0)
    assert (sub.op, _args(sub)) == ("subscribe", ["BTC-USDT"])
    _ack_all(book, [sub])
    assert book.settled


def test_add_remove_add_while_in_flight_ends_subscribed_once() -> None:
    book, (sub,) = _connected("BTC-USDT")
    book.remove("BTC-USDT")
    book.add("BTC-USDT")
    _ack_all(book, [sub])
    assert book.next_requests(1.0) == []
    assert book.settled


def test_late_subscribe_ack_while_unsubscribing_changes_nothing() -> None:
    book, (sub,) = _connected("BTC-USDT")
    _ack_all(book, [sub])
    book.remove("BTC-USDT")
    (unsub,) = book.next_requests(1.0)
    book.handle_ack(Ack("subscribe", "BTC-USDT", None))  # a stray duplicate ack
    assert book.pending == (unsub,)
    assert book.acknowledged == frozenset()
    assert book.next_requests(2.0) == []
    book.handle_ack(Ack("unsubscribe", "BTC-USDT", None))
    assert book.settled


def test_replace() -> None:
    book, requests = _connected("BTC-USDT", "ETH-USDT", "SOL-USDT")
    _ack_all(book, requests)
    book.replace(["ETH-USDT", "ADA-USDT", "DOT-USDT"])
    assert book.desired == frozenset({"ETH-USDT", "ADA-USDT", "DOT-USDT"})
    requests = book.next_requests(1.0)
    assert [(r.op, _args(r)) for r in requests] == [
        ("unsubscribe", ["BTC-USDT", "SOL-USDT"]),
        ("subscribe", ["ADA-USDT", "DOT-USDT"]),
    ]
    _ack_all(book, requests)
    assert book.acknowledged == frozenset({"ETH-USDT", "ADA-USDT", "DOT-USDT"})
    assert book.settled


def test_replace_with_nothing_unsubscribes_everything() -> None:
    book, requests = _connected(*PAIRS)
    _ack_all(book, requests)
    book.replace([])
    (request,) = book.next_requests(1.0)
    assert (request.op, _args(request)) == ("unsubscribe", sorted(PAIRS))


# -- validation ---------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["btc-usdt", "BTC", "BTC-USDT ", "", "BTC-USDT-"])
def test_validation_errors_leave_the_book_unchanged(bad: str) -> None:
    book, requests = _connected("BTC-USDT", "ETH-USDT")
    _ack_all(book, requests)
    book.add("SOL-USDT")
    before = (book.desired, book.acknowledged, dict(book.rejected), book.has_work())
    with pytest.raises(ValueError, match="invalid instrument id"):
        book.add(bad)
    with pytest.raises(ValueError, match="invalid instrument id"):
        book.remove(bad)
    with pytest.raises(ValueError, match="invalid instrument id"):
        book.replace(["XRP-USDT", bad, "ADA-USDT"])
    assert (book.desired, book.acknowledged, dict(book.rejected), book.has_work()) == before
    (request,) = book.next_requests(1.0)
    assert _args(request) == ["SOL-USDT"]


def test_constructor_validates_pairs() -> None:
    with pytest.raises(ValueError, match="invalid instrument id 'btc-usdt'"):
        SubscriptionBook(["BTC-USDT", "btc-usdt"])


def test_constructor_rejects_a_max_request_bytes_too_small_for_one_pair() -> None:
    with pytest.raises(ValueError, match="max_request_bytes"):
        SubscriptionBook(max_request_bytes=100)
    SubscriptionBook(max_request_bytes=MAX_REQUEST_BYTES)


# -- errors ---------------------------------------------------------------------------------


def test_reject_codes() -> None:
    # "doesn't exist", "illegal request", "invalid args" at least; the rest are in _okx.
    assert frozenset({"60018", "60012", "60013"}) <= REJECT_CODES


def test_60018_naming_the_pair_rejects_only_that_pair() -> None:
    book, (request,) = _connected("BTC-USDT", "FOO-BAR", "ETH-USDT")
    text = json.dumps(
        {
            "id": request.req_id,
            "event": "error",
            "code": "60018",
            "msg": "Wrong URL or channel:tickers,instId:FOO-BAR doesn't exist",
        }
    )
    error = decode(text)
    assert isinstance(error, ErrorEvent)
    outcome = book.handle_error(error)
    reason = "60018 Wrong URL or channel:tickers,instId:FOO-BAR doesn't exist"
    assert outcome == ErrorOutcome({"FOO-BAR": reason}, request, handled=True)
    assert dict(book.rejected) == {"FOO-BAR": reason}
    assert book.desired == frozenset({"BTC-USDT", "ETH-USDT"})
    assert request.waiting == {"BTC-USDT", "ETH-USDT"}
    book.handle_ack(Ack("subscribe", "BTC-USDT", request.req_id))
    book.handle_ack(Ack("subscribe", "ETH-USDT", request.req_id))
    assert book.acknowledged == frozenset({"BTC-USDT", "ETH-USDT"})
    assert book.pending == ()
    assert book.settled
    assert book.next_requests(1.0) == []


def test_60018_without_request_id_finds_the_request_by_pair() -> None:
    book, (request,) = _connected("BTC-USDT", "FOO-BAR")
    error = decode(
        '{"event":"error","code":"60018","msg":"channel:tickers,instId:FOO-BAR doesn\'t exist"}'
    )
    assert isinstance(error, ErrorEvent)
    outcome = book.handle_error(error)
    assert outcome.handled
    assert outcome.request is request
    assert set(outcome.rejected) == {"FOO-BAR"}
    assert "FOO-BAR" not in book.desired


def test_single_arg_request_error_without_inst_id_rejects_that_arg() -> None:
    book, (request,) = _connected("FOO-BAR")
    outcome = book.handle_error(ErrorEvent("60012", "Illegal request", request.req_id, None))
    assert outcome == ErrorOutcome({"FOO-BAR": "60012 Illegal request"}, request, handled=True)
    assert book.desired == frozenset()
    assert book.pending == ()
    assert book.settled


def test_multi_arg_error_without_inst_id_resends_one_per_request() -> None:
    book, requests = _connected("AAA-USDT")
    _ack_all(book, requests)
    for pair in ("BTC-USDT", "ETH-USDT", "SOL-USDT"):
        book.add(pair)
    (request,) = book.next_requests(1.0)
    book.handle_ack(Ack("subscribe", "BTC-USDT", request.req_id))
    outcome = book.handle_error(ErrorEvent("60013", "Invalid args", request.req_id, None))
    assert outcome == ErrorOutcome({}, request, handled=True)
    assert book.rejected == {}
    assert book.pending == ()
    assert book.has_work()
    retry = book.next_requests(2.0)
    assert [(r.op, _args(r)) for r in retry] == [
        ("subscribe", ["ETH-USDT"]),
        ("subscribe", ["SOL-USDT"]),
    ]
    assert book.acknowledged == frozenset({"AAA-USDT", "BTC-USDT"})
    # Now the server can name the culprit by the request it answers.
    outcome = book.handle_error(ErrorEvent("60013", "Invalid args", retry[1].req_id, None))
    assert outcome.rejected == {"SOL-USDT": "60013 Invalid args"}
    _ack_all(book, [retry[0]])
    assert book.acknowledged == frozenset({"AAA-USDT", "BTC-USDT", "ETH-USDT"})
    assert book.settled


def test_split_pairs_are_sent_alone_only_once() -> None:
    book, (request,) = _connected("BTC-USDT", "ETH-USDT")
    book.handle_error(ErrorEvent("60013", "Invalid args", request.req_id, None))
    retry = book.next_requests(1.0)
    assert [_args(r) for r in retry] == [["BTC-USDT"], ["ETH-USDT"]]
    book.connection_lost()
    book.connection_opened()
    # A fresh connection: back to one request with everything.
    (again,) = book.next_requests(2.0)
    assert _args(again) == ["BTC-USDT", "ETH-USDT"]


def test_multi_arg_unsubscribe_error_without_inst_id_resends_one_per_request() -> None:
    book, requests = _connected("BTC-USDT", "ETH-USDT", "SOL-USDT")
    _ack_all(book, requests)
    book.replace(["SOL-USDT"])
    (unsub,) = book.next_requests(1.0)
    assert _args(unsub) == ["BTC-USDT", "ETH-USDT"]
    outcome = book.handle_error(ErrorEvent("60012", "Illegal request", unsub.req_id, None))
    assert outcome == ErrorOutcome({}, unsub, handled=True)
    retry = book.next_requests(2.0)
    assert [(r.op, _args(r)) for r in retry] == [
        ("unsubscribe", ["BTC-USDT"]),
        ("unsubscribe", ["ETH-USDT"]),
    ]


def test_unsubscribe_rejected_forgets_the_pair_without_rejecting_it() -> None:
    book, requests = _connected("BTC-USDT", "ETH-USDT")
    _ack_all(book, requests)
    book.remove("ETH-USDT")
    (unsub,) = book.next_requests(1.0)
    outcome = book.handle_error(ErrorEvent("60018", "doesn't exist", unsub.req_id, "ETH-USDT"))
    assert outcome == ErrorOutcome({}, unsub, handled=True)
    assert book.rejected == {}
    assert book.pending == ()
    assert book.acknowledged == frozenset({"BTC-USDT"})
    assert book.settled


# 64003 (fee tier too low for a channel) does reject: that one subscription cannot be had.
@pytest.mark.parametrize("code", ["60006", "60005", "50011", "63999", ""])
def test_non_reject_codes_are_not_handled(code: str) -> None:
    book, (request,) = _connected("BTC-USDT", "ETH-USDT")
    outcome = book.handle_error(ErrorEvent(code, "nope", request.req_id, None))
    assert outcome == ErrorOutcome({}, request, handled=False)
    outcome = book.handle_error(ErrorEvent(code, "nope", None, "BTC-USDT"))
    assert outcome == ErrorOutcome({}, request, handled=False)
    assert book.pending == (request,)
    assert book.desired == frozenset({"BTC-USDT", "ETH-USDT"})
    assert book.rejected == {}


def test_error_for_no_known_request_is_not_handled() -> None:
    book, (request,) = _connected("BTC-USDT")
    assert book.handle_error(ErrorEvent("60018", "x", "999", None)) == ErrorOutcome(
        {}, None, handled=False
    )
    assert book.handle_error(ErrorEvent("60018", "x", None, None)) == ErrorOutcome(
        {}, None, handled=False
    )
    assert book.handle_error(ErrorEvent("60018", "x", None, "ZZZ-USDT")) == ErrorOutcome(
        {}, None, handled=False
    )
    assert book.pending == (request,)
    assert book.desired == frozenset({"BTC-USDT"})


def test_readding_a_rejected_pair_clears_it_and_subscribes_again() -> None:
    book, (request,) = _connected("FOO-BAR")
    book.handle_error(ErrorEvent("60018", "doesn't exist", request.req_id, "FOO-BAR"))
    assert set(book.rejected) == {"FOO-BAR"}
    book.add("FOO-BAR")
    assert book.rejected == {}
    (again,) = book.next_requests(1.0)
    assert _args(again) == ["FOO-BAR"]


def test_replace_with_a_rejected_pair_clears_it() -> None:
    book, (request,) = _connected("FOO-BAR", "BTC-USDT")
    book.handle_error(ErrorEvent("60018", "doesn't exist", request.req_id, "FOO-BAR"))
    book.replace(["FOO-BAR"])
    assert book.rejected == {}
    assert book.desired == frozenset({"FOO-BAR"})


def test_rejected_is_read_only() -> None:
    book = SubscriptionBook()
    with pytest.raises(TypeError):
        book.rejected["X-Y"] = "no"  # type: ignore[index]


def test_60012_quoting_a_multi_arg_request_does_not_reject_the_first_pair() -> None:
    book, (request,) = _connected("BTC-USDT", "ETH-USDT")
    error = decode(
        json.dumps(
            {
                "id": request.req_id,
                "event": "error",
                "code": "60012",
                "msg": f"Illegal request: {request.text}",
            }
        )
    )
    assert isinstance(error, ErrorEvent)
    outcome = book.handle_error(error)
    assert outcome.rejected == {}
    assert [_args(r) for r in book.next_requests(1.0)] == [["BTC-USDT"], ["ETH-USDT"]]


# -- the connection ------------------------------------------------------------------------


def test_connection_lost_and_opened_resubscribes_everything_desired() -> None:
    book, requests = _connected("BTC-USDT", "ETH-USDT")
    _ack_all(book, requests)
    book.add("SOL-USDT")
    book.remove("ETH-USDT")
    in_flight = book.next_requests(1.0)
    assert len(in_flight) == 2
    book.connection_lost()
    assert book.acknowledged == frozenset()
    assert book.pending == ()
    assert not book.settled
    assert not book.has_work()
    assert book.next_requests(2.0) == []
    book.add("ADA-USDT")
    book.connection_opened()
    (request,) = book.next_requests(3.0)
    assert (request.op, _args(request)) == ("subscribe", ["ADA-USDT", "BTC-USDT", "SOL-USDT"])
    assert book.oldest_pending_since() == 3.0
    _ack_all(book, [request])
    assert book.settled


def test_connection_opened_twice_starts_over() -> None:
    book, requests = _connected("BTC-USDT")
    _ack_all(book, requests)
    book.connection_opened()
    assert book.acknowledged == frozenset()
    (request,) = book.next_requests(1.0)
    assert _args(request) == ["BTC-USDT"]


def test_errors_after_connection_lost_are_not_handled() -> None:
    book, (request,) = _connected("BTC-USDT")
    book.connection_lost()
    outcome = book.handle_error(ErrorEvent("60018", "x", request.req_id, "BTC-USDT"))
    assert outcome == ErrorOutcome({}, None, handled=False)
    assert book.desired == frozenset({"BTC-USDT"})


def test_oldest_pending_since() -> None:
    book, (first,) = _connected("BTC-USDT", now=10.0)
    assert book.oldest_pending_since() == 10.0
    book.add("ETH-USDT")
    (second,) = book.next_requests(12.5)
    assert book.oldest_pending_since() == 10.0
    assert book.pending == (first, second)
    _ack_all(book, [first])
    assert book.oldest_pending_since() == 12.5
    _ack_all(book, [second])
    assert book.oldest_pending_since() is None


def test_settled_and_has_work_through_a_lifecycle() -> None:
    book = SubscriptionBook(["BTC-USDT"])
    assert (book.settled, book.has_work()) == (False, False)
    book.connection_opened()
    assert (book.settled, book.has_work()) == (False, True)
    (request,) = book.next_requests(0.0)
    assert (book.settled, book.has_work()) == (False, False)
    _ack_all(book, [request])
    assert (book.settled, book.has_work()) == (True, False)
    book.remove("BTC-USDT")
    assert (book.settled, book.has_work()) == (False, True)
    (request,) = book.next_requests(1.0)
    assert (book.settled, book.has_work()) == (False, False)
    _ack_all(book, [request])
    assert (book.settled, book.has_work()) == (True, False)


def test_unsolicited_subscribe_ack_for_an_unwanted_pair_gets_unsubscribed() -> None:
    book, requests = _connected("BTC-USDT")
    _ack_all(book, requests)
    book.handle_ack(Ack("subscribe", "ETH-USDT", None))
    assert not book.settled
    (request,) = book.next_requests(1.0)
    assert (request.op, _args(request)) == ("unsubscribe", ["ETH-USDT"])


# -- request size ------------------------------------------------------------------------------


@pytest.mark.parametrize("limit", [152, 200, 400, 1000, 4096])
def test_splitting_under_max_request_bytes(limit: int) -> None:
    pairs = [f"C{i:03d}-USDT" for i in range(300)] + ["X" * 20 + "-" + "Y" * 20 + "-SWAP"]
    book = SubscriptionBook(pairs, max_request_bytes=limit)
    book.connection_opened()
    requests = book.next_requests(0.0)
    assert len(requests) > 1
    sent: list[str] = []
    for request in requests:
        assert len(request.text.encode()) <= limit
        assert request.op == "subscribe"
        assert _args(request) == list(request.inst_ids)
        sent.extend(_args(request))
    assert len(sent) == len(set(sent))
    assert set(sent) == set(pairs)
    assert sent == sorted(pairs)  # batches are contiguous runs of the sorted list
    _ack_all(book, requests)
    assert book.settled
    book.replace([])
    unsubs = book.next_requests(1.0)
    assert all(len(r.text.encode()) <= limit for r in unsubs)
    assert sorted(p for r in unsubs for p in _args(r)) == sorted(pairs)


def test_batches_are_full() -> None:
    # With room for exactly k args, requests carry k args (no needless splitting).
    pairs = [f"C{i:03d}-USDT" for i in range(100)]
    book = SubscriptionBook(pairs, max_request_bytes=1000)
    book.connection_opened()
    sizes = [len(r.inst_ids) for r in book.next_requests(0.0)]
    assert sum(sizes) == 100
    assert len(set(sizes[:-1])) == 1
    assert sizes[-1] <= sizes[0]
    assert sizes[0] > 1


def test_default_limit_keeps_hundreds_of_pairs_in_one_request() -> None:
    pairs = [f"C{i:03d}-USDT" for i in range(500)]
    _, requests = _connected(*pairs)
    assert len(requests) == 1
    assert len(requests[0].text) < MAX_REQUEST_BYTES


# -- model-based -----------------------------------------------------------------------------


class _Server:
    """A strict OKX: acks every argument, and records protocol violations by the client."""

    def __init__(self) -> None:
        self.subscribed: set[str] = set()
        self.inbox: list[Request[str]] = []
        self.violations: list[str] = []

    def receive(self, requests: list[Request[str]]) -> None:
        for request in requests:
            assert json.loads(request.text)["args"], "empty request"
        self.inbox.extend(requests)

    def answer(self, book: SubscriptionBook[str], rng: random.Random, count: int | None) -> None:
        n = len(self.inbox) if count is None else min(count, len(self.inbox))
        for request in self.inbox[:n]:
            with_id = rng.random() < 0.5
            for inst_id in _args(request):
                op: Op = request.op
                if op == "subscribe":
                    if inst_id in self.subscribed:
                        self.violations.append(f"duplicate subscribe {inst_id}")
                    self.subscribed.add(inst_id)
                else:
                    if inst_id not in self.subscribed:
                        self.violations.append(f"unsubscribe of unsubscribed {inst_id}")
                    self.subscribed.discard(inst_id)
                book.handle_ack(Ack(op, inst_id, request.req_id if with_id else None))
        del self.inbox[:n]

    def lose(self) -> None:
        self.subscribed.clear()
        self.inbox.clear()


UNIVERSE = [f"P{i}-USDT" for i in range(12)]


@pytest.mark.parametrize("seed", range(12))
def test_model_random_churn_converges_without_protocol_violations(seed: int) -> None:
    rng = random.Random(seed)
    book = SubscriptionBook(rng.sample(UNIVERSE, 3), max_request_bytes=300)
    server = _Server()
    book.connection_opened()
    now = 0.0
    checks = 0
    for _ in range(400):
        now += 1.0
        action = rng.random()
        if action < 0.25:
            book.add(rng.choice(UNIVERSE))
        elif action < 0.45:
            book.remove(rng.choice(UNIVERSE))
        elif action < 0.5:
            book.replace(rng.sample(UNIVERSE, rng.randint(0, 6)))
        elif action < 0.7:
            server.receive(book.next_requests(now))
        elif action < 0.85:
            server.answer(book, rng, count=1)
        elif action < 0.97:
            # The server answers everything, and the client sends what follows, until quiet.
            for _ in range(20):
                server.receive(book.next_requests(now))
                if not server.inbox:
                    break
                server.answer(book, rng, count=None)
            assert not server.inbox
            assert book.acknowledged == book.desired
            assert server.subscribed == set(book.desired)
            assert book.settled
            assert not book.has_work()
            assert book.pending == ()
            checks += 1
        else:
            book.connection_lost()
            server.lose()
            assert book.acknowledged == frozenset()
            book.connection_opened()
        assert server.violations == []
        # Between answers, the book never believes in a pair the server does not have.
        assert book.acknowledged <= server.subscribed
    assert checks > 10


class _RejectingServer(_Server):
    """Refuses the pairs in ``bad``: either by name (60018, other args acked) or by refusing
    the whole request with one anonymous error (60013 with only the request id)."""

    def __init__(self, bad: set[str]) -> None:
        super().__init__()
        self.bad = bad
        self.unhandled: list[ErrorEvent] = []

    def answer(self, book: SubscriptionBook[str], rng: random.Random, count: int | None) -> None:
        n = len(self.inbox) if count is None else min(count, len(self.inbox))
        batch, self.inbox[:n] = self.inbox[:n], []
        for request in batch:
            args = _args(request)
            bad_here = [a for a in args if a in self.bad and request.op == "subscribe"]
            if bad_here and rng.random() < 0.5:
                error = ErrorEvent("60013", "Invalid args", request.req_id, None)
                if not book.handle_error(error).handled:
                    self.unhandled.append(error)
                continue
            self.inbox.insert(0, request)
            for inst_id in bad_here:
                req_id = request.req_id if rng.random() < 0.5 else None
                msg = f"Wrong URL or channel:tickers,instId:{inst_id} doesn't exist"
                error = ErrorEvent("60018", msg, req_id, inst_id)
                if not book.handle_error(error).handled:
                    self.unhandled.append(error)
            good = [a for a in args if a not in bad_here]
            self.inbox[0] = Request(
                request.req_id,
                request.op,
                tuple(good),
                request.sent_at,
                encode_request(request.op, good, request.req_id),
            )
            if good:
                super().answer(book, rng, count=1)
            else:
                del self.inbox[0]


@pytest.mark.parametrize("seed", range(8))
def test_model_with_rejections_converges(seed: int) -> None:
    rng = random.Random(1000 + seed)
    bad = set(rng.sample(UNIVERSE, 3))
    book = SubscriptionBook(rng.sample(UNIVERSE, 4))
    server = _RejectingServer(bad)
    book.connection_opened()
    now = 0.0
    ever_rejected: set[str] = set()
    for _ in range(300):
        now += 1.0
        ever_rejected |= set(book.rejected)
        action = rng.random()
        if action < 0.3:
            book.add(rng.choice(UNIVERSE))
        elif action < 0.45:
            book.remove(rng.choice(UNIVERSE))
        elif action < 0.6:
            server.receive(book.next_requests(now))
        elif action < 0.75:
            server.answer(book, rng, count=1)
        elif action < 0.95:
            for _ in range(30):
                server.receive(book.next_requests(now))
                if not server.inbox:
                    break
                server.answer(book, rng, count=None)
            assert not server.inbox
            assert not (book.desired & bad)
            assert book.acknowledged == book.desired
            assert server.subscribed == set(book.desired)
            assert set(book.rejected) <= bad
            assert book.settled
        else:
            book.connection_lost()
            server.lose()
            book.connection_opened()
        assert server.violations == []
        assert server.unhandled == []
    assert ever_rejected == bad


# -- refresh (resubscribing a frozen pair) ----------------------------------------------------


def _ops(requests: Iterable[Request[str]]) -> list[tuple[str, list[str]]]:
    return [(r.op, _args(r)) for r in requests]


def test_refresh_unsubscribes_then_subscribes_again() -> None:
    book, requests = _connected("BTC-USDT", "ETH-USDT", "SOL-USDT")
    _ack_all(book, requests)
    assert book.refresh(["SOL-USDT", "ETH-USDT"]) == ["ETH-USDT", "SOL-USDT"]
    assert book.has_work()
    assert not book.settled
    (unsub,) = book.next_requests(1.0)
    assert (unsub.op, _args(unsub)) == ("unsubscribe", ["ETH-USDT", "SOL-USDT"])
    assert unsub.sent_at == 1.0
    assert book.acknowledged == frozenset({"BTC-USDT"})
    # Nothing more until the server confirms the unsubscribe: a subscribe now would be a
    # duplicate on the server.
    assert not book.has_work()
    assert book.next_requests(2.0) == []
    _ack_all(book, [unsub])
    assert book.desired == frozenset({"BTC-USDT", "ETH-USDT", "SOL-USDT"})
    assert book.has_work()
    (sub,) = book.next_requests(3.0)
    assert (sub.op, _args(sub)) == ("subscribe", ["ETH-USDT", "SOL-USDT"])
    _ack_all(book, [sub])
    assert book.acknowledged == frozenset({"BTC-USDT", "ETH-USDT", "SOL-USDT"})
    assert book.settled
    assert not book.has_work()
    assert book.next_requests(4.0) == []


def test_refresh_ignores_pairs_it_cannot_refresh() -> None:
    book, requests = _connected("BTC-USDT", "ETH-USDT", "FOO-BAR")
    book.handle_ack(Ack("subscribe", "BTC-USDT", requests[0].req_id))
    # ETH-USDT: its subscribe is in flight. FOO-BAR: rejected. Others: not desired,
    # never seen, malformed.
    book.handle_error(ErrorEvent("60018", "doesn't exist", requests[0].req_id, "FOO-BAR"))
    assert book.refresh(["ETH-USDT", "FOO-BAR", "XRP-USDT", "btc-usdt", ""]) == []
    assert not book.has_work()
    _ack_all(book, requests)
    book.remove("BTC-USDT")
    (unsub,) = book.next_requests(1.0)
    # BTC-USDT is being unsubscribed (not desired, in flight).
    assert book.refresh(["BTC-USDT"]) == []
    assert book.refresh([]) == []
    _ack_all(book, [unsub])
    assert book.settled


def test_refresh_while_disconnected_does_nothing() -> None:
    book, requests = _connected("BTC-USDT")
    _ack_all(book, requests)
    book.connection_lost()
    assert book.refresh(["BTC-USDT"]) == []
    assert book.next_requests(1.0) == []


def test_refresh_twice_before_sending_is_scheduled_once() -> None:
    book, requests = _connected("BTC-USDT", "ETH-USDT")
    _ack_all(book, requests)
    assert book.refresh(["BTC-USDT"]) == ["BTC-USDT"]
    assert book.refresh(["BTC-USDT", "ETH-USDT", "BTC-USDT"]) == ["ETH-USDT"]
    (unsub,) = book.next_requests(1.0)
    assert _args(unsub) == ["BTC-USDT", "ETH-USDT"]


def test_refresh_goes_out_with_the_other_changes() -> None:
    book, requests = _connected("BTC-USDT", "ETH-USDT", "SOL-USDT")
    _ack_all(book, requests)
    book.refresh(["SOL-USDT"])
    book.remove("BTC-USDT")
    book.add("ADA-USDT")
    requests = book.next_requests(1.0)
    assert _ops(requests) == [
        ("unsubscribe", ["BTC-USDT", "SOL-USDT"]),
        ("subscribe", ["ADA-USDT"]),
    ]
    _ack_all(book, requests)
    (sub,) = book.next_requests(2.0)
    assert (sub.op, _args(sub)) == ("subscribe", ["SOL-USDT"])
    _ack_all(book, [sub])
    assert book.acknowledged == frozenset({"ADA-USDT", "ETH-USDT", "SOL-USDT"})
    assert book.settled


def test_refresh_then_remove_before_sending_only_unsubscribes() -> None:
    book, requests = _connected("BTC-USDT", "ETH-USDT")
    _ack_all(book, requests)
    book.refresh(["ETH-USDT"])
    book.remove("ETH-USDT")
    (unsub,) = book.next_requests(1.0)
    assert (unsub.op, _args(unsub)) == ("unsubscribe", ["ETH-USDT"])
    _ack_all(book, [unsub])
    assert book.next_requests(2.0) == []
    assert book.acknowledged == frozenset({"BTC-USDT"})
    assert book.settled


def test_refresh_then_remove_and_add_before_sending_still_refreshes() -> None:
    book, requests = _connected("BTC-USDT")
    _ack_all(book, requests)
    book.refresh(["BTC-USDT"])
    book.remove("BTC-USDT")
    book.add("BTC-USDT")
    (unsub,) = book.next_requests(1.0)
    assert (unsub.op, _args(unsub)) == ("unsubscribe", ["BTC-USDT"])
    _ack_all(book, [unsub])
    (sub,) = book.next_requests(2.0)
    assert (sub.op, _args(sub)) == ("subscribe", ["BTC-USDT"])


def test_remove_during_refresh_is_not_resubscribed_and_add_again_subscribes() -> None:
    book, requests = _connected("BTC-USDT", "ETH-USDT")
    _ack_all(book, requests)
    book.refresh(["ETH-USDT"])
    (unsub,) = book.next_requests(1.0)
    book.remove("ETH-USDT")  # while its refresh unsubscribe is in flight
    assert not book.has_work()
    _ack_all(book, [unsub])
    assert not book.has_work()
    assert book.next_requests(2.0) == []
    assert book.settled
    assert book.acknowledged == frozenset({"BTC-USDT"})
    book.add("ETH-USDT")
    (sub,) = book.next_requests(3.0)
    assert (sub.op, _args(sub)) == ("subscribe", ["ETH-USDT"])
    _ack_all(book, [sub])
    assert book.acknowledged == frozenset({"BTC-USDT", "ETH-USDT"})
    assert book.settled


def test_remove_and_add_during_refresh_subscribes_once() -> None:
    book, requests = _connected("BTC-USDT")
    _ack_all(book, requests)
    book.refresh(["BTC-USDT"])
    (unsub,) = book.next_requests(1.0)
    book.remove("BTC-USDT")
    book.add("BTC-USDT")
    assert book.next_requests(1.5) == []
    _ack_all(book, [unsub])
    (sub,) = book.next_requests(2.0)
    assert (sub.op, _args(sub)) == ("subscribe", ["BTC-USDT"])
    _ack_all(book, [sub])
    assert book.next_requests(3.0) == []
    assert book.settled


def test_refresh_of_a_pair_refreshed_before_works_again() -> None:
    book, requests = _connected("BTC-USDT")
    _ack_all(book, requests)
    for now in (1.0, 2.0, 3.0):
        assert book.refresh(["BTC-USDT"]) == ["BTC-USDT"]
        requests = book.next_requests(now)
        assert _ops(requests) == [("unsubscribe", ["BTC-USDT"])]
        _ack_all(book, requests)
        requests = book.next_requests(now)
        assert _ops(requests) == [("subscribe", ["BTC-USDT"])]
        # While the resubscribe is in flight a refresh is ignored.
        assert book.refresh(["BTC-USDT"]) == []
        _ack_all(book, requests)
        assert book.settled


def test_refresh_unsubscribe_refused_by_name_subscribes_again() -> None:
    # OKX refuses to drop a pair it does not know: the book forgets it, and since it is
    # still desired, subscribes it, which is what the refresh was for.
    book, requests = _connected("BTC-USDT", "ETH-USDT")
    _ack_all(book, requests)
    book.refresh(["ETH-USDT", "BTC-USDT"])
    (unsub,) = book.next_requests(1.0)
    outcome = book.handle_error(ErrorEvent("60018", "doesn't exist", unsub.req_id, "ETH-USDT"))
    assert outcome == ErrorOutcome({}, unsub, handled=True)
    assert book.rejected == {}
    assert book.desired == frozenset({"BTC-USDT", "ETH-USDT"})
    assert book.has_work()
    (sub,) = book.next_requests(2.0)
    assert (sub.op, _args(sub)) == ("subscribe", ["ETH-USDT"])
    book.handle_ack(Ack("unsubscribe", "BTC-USDT", unsub.req_id))
    _ack_all(book, [sub])
    (sub2,) = book.next_requests(3.0)
    assert (sub2.op, _args(sub2)) == ("subscribe", ["BTC-USDT"])
    _ack_all(book, [sub2])
    assert book.settled


def test_refresh_unsubscribe_refused_without_a_name_is_retried_one_per_request() -> None:
    book, requests = _connected("BTC-USDT", "ETH-USDT")
    _ack_all(book, requests)
    book.refresh(["BTC-USDT", "ETH-USDT"])
    (unsub,) = book.next_requests(1.0)
    outcome = book.handle_error(ErrorEvent("60012", "Illegal request", unsub.req_id, None))
    assert outcome == ErrorOutcome({}, unsub, handled=True)
    assert book.acknowledged == frozenset({"BTC-USDT", "ETH-USDT"})
    assert book.has_work()
    retry = book.next_requests(2.0)
    assert _ops(retry) == [("unsubscribe", ["BTC-USDT"]), ("unsubscribe", ["ETH-USDT"])]
    _ack_all(book, retry)
    (sub,) = book.next_requests(3.0)
    assert (sub.op, _args(sub)) == ("subscribe", ["BTC-USDT", "ETH-USDT"])
    _ack_all(book, [sub])
    assert book.settled


def test_refresh_unsubscribe_with_an_unknown_error_is_left_to_the_caller() -> None:
    book, requests = _connected("BTC-USDT")
    _ack_all(book, requests)
    book.refresh(["BTC-USDT"])
    (unsub,) = book.next_requests(1.0)
    outcome = book.handle_error(ErrorEvent("50011", "nope", unsub.req_id, None))
    assert outcome == ErrorOutcome({}, unsub, handled=False)
    assert book.pending == (unsub,)
    assert book.next_requests(2.0) == []


def test_connection_lost_drops_scheduled_refreshes() -> None:
    book, requests = _connected("BTC-USDT", "ETH-USDT")
    _ack_all(book, requests)
    book.refresh(["BTC-USDT"])
    book.connection_lost()
    assert not book.has_work()
    book.connection_opened()
    (sub,) = book.next_requests(1.0)
    assert (sub.op, _args(sub)) == ("subscribe", ["BTC-USDT", "ETH-USDT"])
    _ack_all(book, [sub])
    assert book.next_requests(2.0) == []
    assert book.settled


def test_connection_opened_drops_scheduled_refreshes() -> None:
    book, requests = _connected("BTC-USDT")
    _ack_all(book, requests)
    book.refresh(["BTC-USDT"])
    book.connection_opened()
    (sub,) = book.next_requests(1.0)
    assert (sub.op, _args(sub)) == ("subscribe", ["BTC-USDT"])
    _ack_all(book, [sub])
    assert book.next_requests(2.0) == []


def test_stray_unsubscribe_ack_before_a_refresh_is_sent_subscribes_once() -> None:
    book, requests = _connected("BTC-USDT")
    _ack_all(book, requests)
    book.refresh(["BTC-USDT"])
    book.handle_ack(Ack("unsubscribe", "BTC-USDT", None))  # the server dropped it anyway
    assert book.has_work()
    (sub,) = book.next_requests(1.0)
    assert (sub.op, _args(sub)) == ("subscribe", ["BTC-USDT"])
    _ack_all(book, [sub])
    assert not book.has_work()
    assert book.next_requests(2.0) == []
    assert book.settled


def test_refresh_of_a_bare_string_is_refused() -> None:
    book, requests = _connected("BTC-USDT")
    _ack_all(book, requests)
    with pytest.raises(ValueError, match=r"^inst_ids must be an iterable of instrument ids"):
        book.refresh("BTC-USDT")
    assert not book.has_work()


@pytest.mark.parametrize("seed", range(12))
def test_model_churn_with_refreshes_converges_without_protocol_violations(seed: int) -> None:
    rng = random.Random(500 + seed)
    book = SubscriptionBook(rng.sample(UNIVERSE, 4), max_request_bytes=300)
    server = _Server()
    book.connection_opened()
    now = 0.0
    refreshed = 0
    for _ in range(400):
        now += 1.0
        action = rng.random()
        if action < 0.15:
            book.add(rng.choice(UNIVERSE))
        elif action < 0.25:
            book.remove(rng.choice(UNIVERSE))
        elif action < 0.45:
            refreshed += len(book.refresh(rng.sample(UNIVERSE, rng.randint(1, 4))))
        elif action < 0.65:
            server.receive(book.next_requests(now))
        elif action < 0.8:
            server.answer(book, rng, count=1)
        elif action < 0.97:
            for _ in range(20):
                server.receive(book.next_requests(now))
                if not server.inbox:
                    break
                server.answer(book, rng, count=None)
            assert not server.inbox
            assert book.acknowledged == book.desired
            assert server.subscribed == set(book.desired)
            assert book.settled
            assert not book.has_work()
        else:
            book.connection_lost()
            server.lose()
            book.connection_opened()
        assert server.violations == []
        assert book.acknowledged <= server.subscribed
        # has_work is exactly "next_requests would send something".
        if book.has_work():
            assert not book.settled
        else:
            assert book.next_requests(now) == []
    assert refreshed > 10


# -- max_requests (a request budget) with refresh and split pairs ---------------------------------


def test_max_requests_caps_the_requests_unsubscribes_first() -> None:
    book, requests = _connected("BTC-USDT", "ETH-USDT")
    _ack_all(book, requests)
    book.remove("BTC-USDT")
    book.add("SOL-USDT")
    assert book.next_requests(1.0, max_requests=0) == []
    assert book.has_work()
    assert book.pending == ()
    (unsub,) = book.next_requests(1.0, max_requests=1)
    assert (unsub.op, _args(unsub)) == ("unsubscribe", ["BTC-USDT"])
    assert book.has_work()
    (sub,) = book.next_requests(2.0, max_requests=1)
    assert (sub.op, _args(sub)) == ("subscribe", ["SOL-USDT"])
    assert not book.has_work()
    _ack_all(book, [unsub, sub])
    assert book.settled


def test_max_requests_with_split_pairs_sends_the_rest_alone_later() -> None:
    book, (request,) = _connected("BTC-USDT", "ETH-USDT", "SOL-USDT")
    book.handle_error(ErrorEvent("60013", "Invalid args", request.req_id, None))
    first = book.next_requests(1.0, max_requests=2)
    assert _ops(first) == [("subscribe", ["BTC-USDT"]), ("subscribe", ["ETH-USDT"])]
    assert book.has_work()
    rest = book.next_requests(2.0, max_requests=2)
    assert _ops(rest) == [("subscribe", ["SOL-USDT"])]  # still alone
    _ack_all(book, [*first, *rest])
    assert book.settled


def test_max_requests_keeps_a_refresh_that_did_not_fit() -> None:
    book, requests = _connected("BTC-USDT", "ETH-USDT")
    _ack_all(book, requests)
    book.refresh(["ETH-USDT"])
    assert book.next_requests(1.0, max_requests=0) == []
    assert book.has_work()
    assert not book.settled
    book.remove("BTC-USDT")
    (unsub,) = book.next_requests(2.0, max_requests=1)
    assert (unsub.op, _args(unsub)) == ("unsubscribe", ["BTC-USDT", "ETH-USDT"])
    _ack_all(book, [unsub])
    (sub,) = book.next_requests(3.0, max_requests=1)
    assert (sub.op, _args(sub)) == ("subscribe", ["ETH-USDT"])
    _ack_all(book, [sub])
    assert book.settled
    assert book.next_requests(4.0, max_requests=5) == []
