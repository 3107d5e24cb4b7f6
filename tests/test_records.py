"""Every record against OKX's own docs sample, field by field; the records' value semantics."""

from __future__ import annotations

import json
import zlib
from decimal import Decimal
from typing import Any

import msgspec
import pytest

import okx_trio
from okx_trio import (
    BookLevel,
    BookSnapshot,
    BookUpdate,
    Candle,
    EstimatedPrice,
    FundingRate,
    IndexTicker,
    Instrument,
    InstrumentChange,
    LiquidationOrder,
    MarkPrice,
    OpenInterest,
    OptionSummary,
    PriceCandle,
    PriceLimit,
    Trade,
)
from okx_trio._decoders import RECORD_TYPES, Record, decode_data, decode_push_text
from okx_trio._okx import CHANNELS

from .conftest import CAPTURES

D = Decimal


def _samples() -> dict[str, dict[str, Any]]:
    """The docs' push samples by channel (``books``: the snapshot, then ``books:update``)."""
    out: dict[str, dict[str, Any]] = {}
    for line in (CAPTURES / "okx-docs-samples.jsonl").read_text(encoding="utf-8").splitlines():
        sample = json.loads(line)
        if sample["kind"] != "push":
            continue
        name = sample["channel"]
        if name in out:
            name += ":" + sample["message"]["action"]
        out[name] = sample["message"]
    return out


SAMPLES = _samples()


def decode(name: str) -> tuple[Record, ...]:
    """The sample's records, checked to be the same on the fast path where there is one."""
    message = SAMPLES[name]
    channel = message["arg"]["channel"]
    records = decode_data(channel, message["arg"], message)
    fast = decode_push_text(channel, json.dumps(message, separators=(",", ":")))
    assert fast is None or repr(fast) == repr(records)
    for record in records:
        assert type(record) is RECORD_TYPES[channel]
        assert isinstance(record, Record)  # the alias is a runtime union too
    return records


def nan(value: Decimal) -> bool:
    return value.is_nan()


def test_trades_sample() -> None:
    assert decode("trades") == (
        Trade(
            inst_id="BTC-USDT",
            trade_id="130639474",
            price=D("42219.9"),
            size=D("0.12060306"),
            side="buy",
            count=3,
            ts=1630048897897,
            source="0",
            seq_id=1234,
        ),
    )


def test_trades_all_sample_counts_one_fill_and_has_no_seq_id() -> None:
    (trade,) = decode("trades-all")
    assert trade == Trade(
        "BTC-USDT", "130639474", D("42219.9"), D("0.12060306"), "buy", 1, 1630048897897, "0", None
    )


def _levels(rows: list[tuple[str, str, int]]) -> tuple[BookLevel, ...]:
    return tuple(BookLevel(D(p), D(s), n) for p, s, n in rows)


BOOKS_ASKS = [
    ("8476.98", "415", 13),
    ("8477", "7", 2),
    ("8477.34", "85", 1),
    ("8477.56", "1", 1),
    ("8505.84", "8", 1),
    ("8506.37", "85", 1),
    ("8506.49", "2", 1),
    ("8506.96", "100", 2),
]
BOOKS_BIDS = [
    ("8476.97", "256", 12),
    ("8475.55", "101", 1),
    ("8475.54", "100", 1),
    ("8475.3", "1", 1),
    ("8447.32", "6", 1),
    ("8447.02", "246", 1),
    ("8446.83", "24", 1),
    ("8446", "95", 3),
]


@pytest.mark.parametrize(
    ("name", "action", "prev", "seq"),
    [("books", "snapshot", -1, 123456), ("books:update", "update", 123456, 123457)],
)
def test_books_samples(name: str, action: str, prev: int, seq: int) -> None:
    assert decode(name) == (
        BookUpdate(
            inst_id="BTC-USDT",
            channel="books",
            action=action,  # type: ignore[arg-type]
            seq_id=seq,
            prev_seq_id=prev,
            ts=1597026383085,
            bids=_levels(BOOKS_BIDS),
            asks=_levels(BOOKS_ASKS),
            checksum=0,
        ),
    )


def test_bbo_tbt_sample_takes_inst_id_from_arg() -> None:
    assert "instId" not in SAMPLES["bbo-tbt"]["data"][0]
    assert decode("bbo-tbt") == (
        BookSnapshot(
            inst_id="BCH-USDT-SWAP",
            channel="bbo-tbt",
            bids=(BookLevel(D("111.05"), D("57745"), 2),),
            asks=(BookLevel(D("111.06"), D("55154"), 2),),
            ts=1670324386802,
            seq_id=363996337,
        ),
    )


def test_books5_sample() -> None:
    (book,) = decode("books5")
    assert isinstance(book, BookSnapshot)
    assert (book.inst_id, book.channel, book.ts, book.seq_id) == (
        "BCH-USDT-SWAP",
        "books5",
        1670324386802,
        363996337,
    )
    assert book.bids == _levels(
        [
            ("111.05", "57745", 2),
            ("111.04", "57109", 2),
            ("111.03", "69563", 2),
            ("111.02", "71248", 2),
            ("111.01", "65090", 2),
        ]
    )
    assert book.asks == _levels(
        [
            ("111.06", "55154", 2),
            ("111.07", "53276", 2),
            ("111.08", "72435", 2),
            ("111.09", "70312", 2),
            ("111.1", "67272", 2),
        ]
    )


def test_candle_sample() -> None:
    assert decode("candle1D") == (
        Candle(
            inst_id="BTC-USDT",
            bar="1D",
            ts=1597026383085,
            open=D("8533.02"),
            high=D("8553.74"),
            low=D("8527.17"),
            close=D("8548.26"),
            vol=D("45247"),
            vol_ccy=D("529.5858061"),
            vol_ccy_quote=D("5529.5858061"),
            confirm=False,
        ),
    )


def test_mark_price_candle_sample_holds_two_bars_in_order() -> None:
    assert decode("mark-price-candle1D") == (
        PriceCandle(
            "BTC-USD-190628",
            "mark-price-candle1D",
            "1D",
            1597026383085,
            D("3.721"),
            D("3.743"),
            D("3.677"),
            D("3.708"),
            False,
        ),
        PriceCandle(
            "BTC-USD-190628",
            "mark-price-candle1D",
            "1D",
            1597026383085,
            D("3.731"),
            D("3.799"),
            D("3.494"),
            D("3.72"),
            True,
        ),
    )


def test_index_candle_sample() -> None:
    assert decode("index-candle30m") == (
        PriceCandle(
            "BTC-USD",
            "index-candle30m",
            "30m",
            1597026383085,
            D("3811.31"),
            D("3811.31"),
            D("3811.31"),
            D("3811.31"),
            False,
        ),
    )


def test_mark_price_sample() -> None:
    assert decode("mark-price") == (
        MarkPrice(
            inst_id="LTC-USD-190628", inst_type="FUTURES", mark_px=D("0.1"), ts=1597026383085
        ),
    )


def test_index_tickers_sample() -> None:
    assert decode("index-tickers") == (
        IndexTicker(
            inst_id="BTC-USDT",
            idx_px=D("0.1"),
            open_24h=D("0.1"),
            high_24h=D("0.5"),
            low_24h=D("0.1"),
            sod_utc0=D("0.1"),
            sod_utc8=D("0.1"),
            ts=1597026383085,
        ),
    )


def test_funding_rate_sample_has_nan_for_empty_rates() -> None:
    (rate,) = decode("funding-rate")
    assert isinstance(rate, FundingRate)
    assert (rate.inst_id, rate.inst_type, rate.method, rate.formula_type) == (
        "BTC-USD-SWAP",
        "SWAP",
        "current_period",
        "noRate",
    )
    assert rate.funding_rate == D("0.0001875391284828")
    assert nan(rate.next_funding_rate)
    assert (rate.funding_time, rate.next_funding_time) == (1700726400000, 1700755200000)
    assert rate.next_funding_time is not None
    assert rate.next_funding_time - rate.funding_time == 8 * 3600 * 1000
    assert (rate.min_funding_rate, rate.max_funding_rate) == (D("-0.00375"), D("0.00375"))
    assert nan(rate.interest_rate) and nan(rate.impact_value)
    assert rate.premium == D("0.0001233824646391")
    assert (rate.sett_state, rate.sett_funding_rate) == ("settled", D("0.0001699799259033"))
    assert rate.ts == 1700724675402


def test_open_interest_sample_keeps_every_digit() -> None:
    assert decode("open-interest") == (
        OpenInterest(
            "BTC-USDT-SWAP",
            "SWAP",
            D("2216113.01000000309"),
            D("22161.1301000000309"),
            D("1939251795.54769270396321"),
            1743041250440,
        ),
    )


def test_price_limit_sample_without_inst_type() -> None:
    assert decode("price-limit") == (
        PriceLimit(
            inst_id="LTC-USD-190628",
            inst_type="",
            buy_lmt=D("200"),
            sell_lmt=D("300"),
            enabled=True,
            ts=1597026383085,
        ),
    )


def test_price_limit_disabled_has_nan_limits() -> None:
    message = json.loads(json.dumps(SAMPLES["price-limit"]))
    message["data"][0].update(buyLmt="", sellLmt="", enabled=False)
    (limit,) = decode_data("price-limit", message["arg"], message)
    assert isinstance(limit, PriceLimit)
    assert limit.enabled is False and nan(limit.buy_lmt) and nan(limit.sell_lmt)


def test_estimated_price_sample() -> None:
    assert decode("estimated-price") == (
        EstimatedPrice(
            "XRP-USDT-250307", "FUTURES", "settlement", D("2.4230631578947368"), 1741244598708
        ),
    )


def test_liquidation_orders_sample_carries_the_parent_fields() -> None:
    assert decode("liquidation-orders") == (
        LiquidationOrder(
            inst_id="IOST-USDT-SWAP",
            inst_type="SWAP",
            inst_family="IOST-USDT",
            uly="IOST-USDT",
            side="buy",
            pos_side="short",
            bk_px=D("0.007831"),
            size=D("13"),
            bk_loss=D("0"),
            ccy="",
            ts=1692266434010,
        ),
    )


def test_liquidation_orders_one_record_per_detail() -> None:
    message = json.loads(json.dumps(SAMPLES["liquidation-orders"]))
    detail = message["data"][0]["details"][0]
    message["data"][0]["details"].append(dict(detail, side="sell", posSide="long", sz="2"))
    message["data"].append(dict(message["data"][0], instId="X-USDT-SWAP"))
    records = decode_data("liquidation-orders", message["arg"], message)
    assert [(r.inst_id, r.side, r.size) for r in records] == [  # type: ignore[union-attr]
        ("IOST-USDT-SWAP", "buy", D("13")),
        ("IOST-USDT-SWAP", "sell", D("2")),
        ("X-USDT-SWAP", "buy", D("13")),
        ("X-USDT-SWAP", "sell", D("2")),
    ]


def test_option_summary_sample() -> None:
    (summary,) = decode("opt-summary")
    assert isinstance(summary, OptionSummary)
    assert nan(summary.real_vol)  # OKX's ""; NaN != NaN, hence the repr comparison
    assert repr(summary) == repr(
        OptionSummary(
            "BTC-USD-241013-70000-P",
            "OPTION",
            "BTC-USD",
            D("-1.1180902625"),
            D("2.2361957091"),
            D("0.0000000001"),
            D("0.0000032334"),
            D("-0.9999672034"),
            D("0.0000000002"),
            D("0.0000114332"),
            D("28.2649858387"),
            D("8.465747567"),
            D("0.3675503331"),
            D("0"),
            D("1.1669998535"),
            D("NaN"),
            D("0.2044711229"),
            D("62604.6993093463"),
            1728703155650,
        )
    )


def test_instruments_sample() -> None:
    (inst,) = decode("instruments")
    assert isinstance(inst, Instrument)
    assert (inst.inst_type, inst.inst_id, inst.inst_family, inst.uly) == (
        "SPOT",
        "BTC-USDT",
        "",
        "",
    )
    assert inst.inst_id_code == 1000000000
    assert (inst.base_ccy, inst.quote_ccy, inst.settle_ccy) == ("BTC", "USDT", "")
    assert nan(inst.ct_val) and nan(inst.ct_mult) and nan(inst.stk)
    assert (inst.ct_val_ccy, inst.ct_type, inst.opt_type) == ("", "", "")
    assert (inst.list_time, inst.exp_time) == (1606468572000, None)
    assert (inst.cont_td_sw_time, inst.pre_mkt_sw_time) == (1704876947000, None)
    assert inst.lever == D("10")
    assert (inst.tick_sz, inst.lot_sz, inst.min_sz) == (D("0.1"), D("0.00000001"), D("0.00001"))
    assert (inst.max_lmt_sz, inst.max_lmt_amt, inst.max_mkt_amt) == (
        D("9999999999"),
        D("1000000"),
        D("1000000"),
    )
    assert nan(inst.max_mkt_sz) and nan(inst.max_stop_sz)
    assert inst.max_twap_sz == inst.max_iceberg_sz == inst.max_trigger_sz == D("9999999999")
    assert str(inst.max_twap_sz) == "9999999999.0000000000000000"  # OKX's digits kept
    assert (inst.state, inst.rule_type, inst.open_type) == ("live", "normal", "call_auction")
    assert (inst.inst_category, inst.group_id, inst.future_settlement) == ("1", "1", False)
    assert inst.upcoming_changes == (InstrumentChange("tickSz", "0.0001", 1704876947000),)


def test_instruments_null_code_and_missing_newer_fields() -> None:
    message = json.loads(json.dumps(SAMPLES["instruments"]))
    item = message["data"][0]
    item["instIdCode"] = None
    for key in ("upcChg", "openType", "ruleType", "maxTwapSz", "contTdSwTime", "futureSettlement"):
        del item[key]
    (inst,) = decode_data("instruments", message["arg"], message)
    assert isinstance(inst, Instrument)
    assert inst.inst_id_code is None and inst.upcoming_changes == ()
    assert (inst.open_type, inst.rule_type, inst.cont_td_sw_time) == ("", "", None)
    assert nan(inst.max_twap_sz) and inst.future_settlement is False


def test_instruments_empty_full_list_is_no_records() -> None:
    message: dict[str, Any] = {"arg": {"channel": "instruments", "instType": "EVENTS"}, "data": []}
    assert decode_data("instruments", message["arg"], message) == ()


# -- value semantics -----------------------------------------------------------------------


def test_records_are_frozen_and_hashable() -> None:
    records = [
        r
        for name in SAMPLES
        if name.split(":")[0] in RECORD_TYPES and name != "tickers"
        for r in decode(name)
    ]
    assert len(records) >= 18
    for record in records:
        hash(record)
        field = msgspec.structs.fields(record)[0].name
        with pytest.raises(AttributeError):
            setattr(record, field, None)
    trade = decode("trades")[0]
    assert trade == decode("trades")[0] and hash(trade) == hash(decode("trades")[0])


def test_record_types_cover_every_public_market_channel() -> None:
    private = {name for name, spec in CHANNELS.items() if spec.endpoint == "private"}
    assert set(RECORD_TYPES) == set(CHANNELS) - private
    assert RECORD_TYPES["candle1m"] is Candle and RECORD_TYPES["candle3Mutc"] is Candle
    assert RECORD_TYPES["mark-price-candle1Yutc"] is PriceCandle
    assert RECORD_TYPES["index-candle1H"] is PriceCandle
    assert "index-candle1Yutc" not in RECORD_TYPES and "mark-price-candle1s" not in RECORD_TYPES
    assert RECORD_TYPES["books-l2-tbt"] is BookUpdate and RECORD_TYPES["bbo-tbt"] is BookSnapshot


def test_every_record_type_is_exported() -> None:
    for record_type in {*RECORD_TYPES.values(), BookLevel, InstrumentChange}:
        assert getattr(okx_trio, record_type.__name__) is record_type
        assert record_type.__name__ in okx_trio.__all__
        assert record_type.__doc__


# -- book levels keep OKX's text -----------------------------------------------------------


def _captured_books() -> list[dict[str, Any]]:
    text = (CAPTURES / "okx-public-2022-05-13.txt").read_text(encoding="utf-8")
    out = []
    for line in text.splitlines():
        if " <- " in line or " <-> " in line:
            continue
        message = json.loads(line.split(": ", 1)[1])
        if message.get("arg", {}).get("channel") == "books" and "data" in message:
            out.append(message)
    return out


CAPTURED_BOOKS = _captured_books()


def test_every_captured_level_gives_back_okx_text() -> None:
    messages = [
        *CAPTURED_BOOKS,
        *(SAMPLES[n] for n in ("books", "books:update", "bbo-tbt", "books5")),
    ]
    seen = 0
    for message in messages:
        channel = message["arg"]["channel"]
        for record, item in zip(
            decode_data(channel, message["arg"], message), message["data"], strict=True
        ):
            assert isinstance(record, BookUpdate | BookSnapshot)
            for levels, raw in ((record.bids, item["bids"]), (record.asks, item["asks"])):
                assert [(lv.price_text, lv.size_text) for lv in levels] == [
                    (r[0], r[1]) for r in raw
                ]
                seen += len(raw)
    assert seen > 5000


def test_level_text_survives_where_str_would_not() -> None:
    message: dict[str, Any] = {
        "arg": {"channel": "bbo-tbt", "instId": "BTC-USDT"},
        "data": [
            {
                "bids": [["0.00000001", "0.5000", "0", "1"]],
                "asks": [["100", "0", "0", "0"]],
                "ts": "1",
            }
        ],
    }
    (book,) = decode_data("bbo-tbt", message["arg"], message)
    assert isinstance(book, BookSnapshot)
    assert str(book.bids[0].price) == "1E-8"  # why price_text uses format(..., "f")
    assert (book.bids[0].price_text, book.bids[0].size_text) == ("0.00000001", "0.5000")
    assert (book.asks[0].price_text, book.asks[0].size_text, book.asks[0].orders) == ("100", "0", 0)


def test_snapshot_checksums_verify_from_level_text() -> None:
    """The 2022 snapshots' CRC32 (OKX's rule, docs) computed from price_text/size_text."""
    snapshots = [m for m in CAPTURED_BOOKS if m["action"] == "snapshot"]
    assert len(snapshots) == 3
    for message in snapshots:
        (book,) = decode_data("books", message["arg"], message)
        assert isinstance(book, BookUpdate)
        parts: list[str] = []
        for i in range(25):
            for side in (book.bids, book.asks):
                if i < len(side):
                    parts += (side[i].price_text, side[i].size_text)
        crc = zlib.crc32(":".join(parts).encode())
        assert book.checksum != 0
        assert (crc - 2**32 if crc >= 2**31 else crc) == book.checksum


# -- lazy book levels ----------------------------------------------------------------------

LAZY_ROWS = [
    ["8476.97", "256", "0", "12"],
    ["0.00000001", "0.5000", "0", "1"],
    ["10", "0", "0", "0"],
]


def _eager_update(bids: tuple[BookLevel, ...], asks: tuple[BookLevel, ...]) -> BookUpdate:
    return BookUpdate("BTC-USDT", "books", "update", 2, 1, 1597026383085, bids, asks, 0)


def _lazy_pair() -> tuple[BookUpdate, BookSnapshot]:
    books = {
        "arg": {"channel": "books", "instId": "BTC-USDT"},
        "action": "update",
        "data": [
            {
                "bids": LAZY_ROWS,
                "asks": LAZY_ROWS[:1],
                "ts": "1597026383085",
                "seqId": 2,
                "prevSeqId": 1,
            }
        ],
    }
    bbo = {
        "arg": {"channel": "bbo-tbt", "instId": "BTC-USDT"},
        "data": [{"bids": LAZY_ROWS[:1], "asks": LAZY_ROWS[1:2], "ts": "5", "seqId": 7}],
    }
    fast = decode_push_text("books", json.dumps(books))
    snapshot = decode_push_text("bbo-tbt", json.dumps(bbo))
    assert fast is not None and snapshot is not None
    (update,), (snap,) = fast, snapshot
    assert isinstance(update, BookUpdate) and isinstance(snap, BookSnapshot)
    return update, snap


EAGER_BIDS = (
    BookLevel(D("8476.97"), D("256"), 12),
    BookLevel(D("1E-8"), D("0.5"), 1),  # equal as Decimals to OKX's "0.00000001", "0.5000"
    BookLevel(D("10"), D("0"), 0),
)


def _slots(record: BookUpdate | BookSnapshot) -> tuple[Any, ...]:
    """What msgspec itself stores (the module docstring: OKX's rows until a side is read)."""
    return msgspec.structs.astuple(record)


def test_decoded_book_levels_are_built_on_first_read_and_cached() -> None:
    update, _ = _lazy_pair()
    assert [list(row) for row in _slots(update)[6]] == LAZY_ROWS  # nothing built yet
    bids = update.bids
    assert type(bids) is tuple and all(type(level) is BookLevel for level in bids)
    assert bids == EAGER_BIDS
    assert [(lv.price_text, lv.size_text) for lv in bids] == [(r[0], r[1]) for r in LAZY_ROWS]
    assert update.bids is bids  # cached: the same object on every read
    assert _slots(update)[6] is bids
    assert [list(row) for row in _slots(update)[7]] == LAZY_ROWS[:1]  # asks: still not read
    assert update.asks == EAGER_BIDS[:1] and update.asks is update.asks


def test_lazy_and_eager_book_records_are_equal_with_equal_hashes() -> None:
    update, snap = _lazy_pair()
    eager = _eager_update(EAGER_BIDS, EAGER_BIDS[:1])
    assert hash(update) == hash(eager)  # hash first: before anything was read
    assert update == eager and eager == update
    assert (update != eager) is False  # __ne__ too
    other, _ = _lazy_pair()
    assert other == update and hash(other) == hash(update)
    assert update != _eager_update(EAGER_BIDS[:2], EAGER_BIDS[:1])
    assert update != msgspec.structs.replace(eager, ts=1)
    other_type: object = BookSnapshot("BTC-USDT", "books", EAGER_BIDS, EAGER_BIDS[:1], 1, 2)
    assert update != other_type and update != object()
    eager_snap = BookSnapshot("BTC-USDT", "bbo-tbt", EAGER_BIDS[:1], EAGER_BIDS[1:2], 5, 7)
    assert snap == eager_snap and hash(snap) == hash(eager_snap)
    assert {update, eager, snap, eager_snap} == {eager, eager_snap}


def test_lazy_book_records_repr_as_built() -> None:
    update, snap = _lazy_pair()
    text = repr(update)
    assert text.startswith("BookUpdate(inst_id='BTC-USDT', channel='books', action='update', ")
    assert "bids=(BookLevel(price=Decimal('8476.97'), size=Decimal('256'), orders=12), " in text
    assert text.endswith("checksum=0)")
    assert repr(update) == repr(_eager_update(update.bids, update.asks))
    assert repr(snap).startswith("BookSnapshot(inst_id='BTC-USDT', channel='bbo-tbt', bids=(")
    fresh, _ = _lazy_pair()
    rich = dict(fresh.__rich_repr__())  # rich's pretty printer (the monitor's library)
    assert rich["bids"] == EAGER_BIDS and rich["asks"] == EAGER_BIDS[:1] and rich["ts"] == fresh.ts


def test_lazy_book_records_are_immutable() -> None:
    update, snap = _lazy_pair()
    for record in (update, snap):
        for name in ("bids", "asks", "inst_id", "ts"):
            with pytest.raises(AttributeError):
                setattr(record, name, ())
    with pytest.raises(AttributeError):
        del update.bids
    assert update.bids == EAGER_BIDS


def test_lazy_book_records_copy_pickle_replace_and_match() -> None:
    import copy
    import pickle

    update, snap = _lazy_pair()
    for record in (update, snap):
        for twin in (
            copy.copy(record),
            copy.deepcopy(record),
            pickle.loads(pickle.dumps(record)),
            msgspec.structs.replace(record),
        ):
            assert type(twin) is type(record) and twin == record
            assert twin.bids == record.bids and twin.asks == record.asks
    moved = msgspec.structs.replace(update, asks=(), seq_id=3)
    assert (moved.asks, moved.seq_id, moved.bids) == ((), 3, EAGER_BIDS)
    match update:
        case BookUpdate(inst_id, _, "update", seq, prev, _, bids, asks):
            assert (inst_id, seq, prev) == ("BTC-USDT", 2, 1)
            assert (bids, asks) == (EAGER_BIDS, EAGER_BIDS[:1])
        case _:
            pytest.fail("no match")
    assert BookUpdate.__match_args__ == tuple(BookUpdate.__struct_fields__)
    assert "bids" in BookUpdate.__struct_fields__ and "asks" in BookSnapshot.__struct_fields__


def test_book_records_still_take_levels_positionally_and_by_keyword() -> None:
    positional = _eager_update(EAGER_BIDS, ())
    keyword = BookUpdate(
        inst_id="BTC-USDT",
        channel="books",
        action="update",
        seq_id=2,
        prev_seq_id=1,
        ts=1597026383085,
        bids=EAGER_BIDS,
        asks=(),
        checksum=0,
    )
    assert positional == keyword and positional.bids is EAGER_BIDS and keyword.asks == ()
    snap = BookSnapshot(
        inst_id="A-B", channel="books5", bids=(), asks=EAGER_BIDS, ts=1, seq_id=None
    )
    assert snap.asks is EAGER_BIDS and snap.bids == ()


def test_a_side_with_no_levels_decodes_to_an_empty_tuple() -> None:
    message: dict[str, Any] = {
        "arg": {"channel": "books", "instId": "A-B"},
        "action": "update",
        "data": [{"bids": [], "asks": [], "ts": "1", "seqId": 5, "prevSeqId": 5}],
    }
    fast = decode_push_text("books", json.dumps(message))
    assert fast is not None
    for (record,) in (decode_data("books", message["arg"], message), fast):
        assert isinstance(record, BookUpdate)
        assert _slots(record)[6:8] == ((), ()) and record.bids == () and record.asks == ()


def test_plain_decoded_levels_do_not_follow_later_changes_to_the_json() -> None:
    message: dict[str, Any] = {
        "arg": {"channel": "books5", "instId": "A-B"},
        "data": [{"bids": [list(row) for row in LAZY_ROWS], "asks": [], "ts": "1"}],
    }
    (record,) = decode_data("books5", message["arg"], message)
    message["data"][0]["bids"][0][0] = "not a price"
    message["data"][0]["bids"].clear()
    assert isinstance(record, BookSnapshot) and record.bids == EAGER_BIDS
