"""OKX-shaped ``books`` streams for the bench: generated, recorded, and as push text.

Shared by the micro bench (``bench/book_micro.py``) and the bench exchange
(``bench/server.py``), so both measure the same kind of traffic.

* :func:`make_stream` - a 400-level snapshot per side (tick 0.1 around 30000, sizes with
  OKX's trailing digits), then updates whose sizes follow the recorded ``books`` traffic of
  BTC-USDT (``okx-public-2022-05-13.txt``: 43 levels an update on average, 6 to 163; one
  update every 100 ms). Most changes touch the top of the book (distance from the touch drawn
  from an exponential), a third are deletions (size ``"0"``), some add new prices; bids stay
  below 30000 and asks above, so no book ever crosses, whatever order the updates come in.
* :func:`recorded_stream` - the BTC-USDT ``books`` snapshot and updates of that recording,
  exactly as OKX sent them (400 levels a side).
* :class:`PushText` - the push text of a snapshot or an update, with OKX's key order.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

Level = list[str]
Update = tuple[list[Level], list[Level]]
DEPTH = 400
MID_BID = 299_999  # in ticks of 0.1: best bid 29999.9, best ask 30000.0
MID_ASK = 300_000
#: Levels per update: 6..80 averages 43, the recording's mean (its median is 37).
UPDATE_LEVELS = (6, 80)
RECORDING = "okx-public-2022-05-13.txt"


def _px(ticks: int) -> str:
    return f"{ticks / 10:.1f}"


def _sz(rng: random.Random) -> str:
    return f"{rng.uniform(0.0001, 5):.7f}".rstrip("0").rstrip(".")


def make_stream(
    updates: int, seed: int, depth: int = DEPTH, levels: tuple[int, int] = UPDATE_LEVELS
) -> tuple[Update, list[Update]]:
    """The snapshot (*depth* levels a side) and *updates* updates, as OKX's level lists."""
    rng = random.Random(seed)
    bids = {MID_BID - i: _sz(rng) for i in range(depth)}
    asks = {MID_ASK + i: _sz(rng) for i in range(depth)}
    snapshot = (
        [[_px(t), s, "0", "1"] for t, s in sorted(bids.items(), reverse=True)],
        [[_px(t), s, "0", "1"] for t, s in sorted(asks.items())],
    )
    # Changes stay within the snapshot's depth: OKX's 400-level channel does not push
    # levels beyond its 400 (a book keeping 400 and one keeping all then agree).
    reach = depth * 3 // 4
    stream: list[Update] = []
    for _ in range(updates):
        sides: list[list[Level]] = [[], []]
        for _ in range(rng.randint(*levels)):
            is_bid = rng.random() < 0.5
            book, best, sign = (bids, MID_BID, -1) if is_bid else (asks, MID_ASK, 1)
            ticks = best + sign * min(int(rng.expovariate(1 / 30)), reach)
            if ticks in book and rng.random() < 1 / 3:
                del book[ticks]
                size = "0"
            else:
                size = book[ticks] = _sz(rng)
            sides[0 if is_bid else 1].append([_px(ticks), size, "0", str(rng.randint(1, 9))])
        stream.append((sides[0], sides[1]))
    return snapshot, stream


def recorded_stream(inst_id: str = "BTC-USDT") -> tuple[Update, list[Update]]:
    """*inst_id*'s ``books`` snapshot and updates from the 2022 recording, as sent."""
    from okx_trio.testing import CAPTURE_DIR

    snapshot: Update | None = None
    updates: list[Update] = []
    for line in Path(CAPTURE_DIR, RECORDING).read_text().splitlines():
        if line.startswith("wss://"):
            continue
        _, _, text = line.partition(": ")
        if '"books"' not in text or inst_id not in text:
            continue
        message = json.loads(text)
        if message.get("arg", {}).get("instId") != inst_id or "data" not in message:
            continue
        for data in message["data"]:
            pair = (data["bids"], data["asks"])
            if message.get("action") == "snapshot":
                snapshot, updates = pair, []
            elif snapshot is not None:
                updates.append(pair)
    if snapshot is None:
        raise ValueError(f"no books snapshot of {inst_id} in {RECORDING}")
    return snapshot, updates


def seq_step(i: int) -> int:
    """The i-th seqId step: irregular (1 to 13), as OKX's are."""
    return 1 + (i * 7) % 13


class PushText:
    """Push texts of one instrument's ``books`` stream, OKX's keys in OKX's order.

    The level lists are serialised once (:meth:`body`); a push is then a join of its parts
    with the sequence ids and ``ts`` of the moment, ``checksum`` 0 as OKX sends since June
    2026.
    """

    def __init__(self, inst_id: str, channel: str = "books") -> None:
        arg = json.dumps({"channel": channel, "instId": inst_id}, separators=(",", ":"))
        self._head = ('{"arg":' + arg + ',"action":').encode()

    @staticmethod
    def body(bids: list[Level], asks: list[Level]) -> bytes:
        """The serialised sides of one message, shared by every instrument."""
        return (
            '"asks":'
            + json.dumps(asks, separators=(",", ":"))
            + ',"bids":'
            + json.dumps(bids, separators=(",", ":"))
        ).encode()

    def push(self, action: str, body: bytes, ts: int, prev_seq_id: int, seq_id: int) -> bytes:
        return b"".join(
            (
                self._head,
                b'"snapshot"' if action == "snapshot" else b'"update"',
                b',"data":[{',
                body,
                b',"ts":"%d","checksum":0,"prevSeqId":%d,"seqId":%d}]}' % (ts, prev_seq_id, seq_id),
            )
        )
