"""What the monitor knows about the channels other than tickers: which subscriptions each
view shows, their latest records, and which view and pair are on screen.

Pure state, like :mod:`._model`: records come in through :meth:`ChannelsModel.on_record`
and nothing here does I/O or reads a clock.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from typing import Final

from okx_trio import Candle, FundingRate, MarkPrice, Subscription, Trade

from ._views import VIEWS, View, view_of_channel

__all__ = ["ChannelsModel", "SwapLine"]

#: Trades kept per pair (the tape shows the newest that fit).
TRADES_KEPT: Final = 60
#: Candles kept per pair (the chart shows the newest that fit).
CANDLES_KEPT: Final = 120


@dataclass
class SwapLine:
    """The funding view's line of one swap: the latest funding rate and mark price."""

    inst_id: str
    funding: FundingRate | None = None
    mark: MarkPrice | None = None
    previous_mark: MarkPrice | None = None

    @property
    def direction(self) -> int:
        """+1, -1 or 0: how the mark price moved on its latest push."""
        if self.mark is None or self.previous_mark is None:
            return 0
        now, then = self.mark.mark_px, self.previous_mark.mark_px
        return (now > then) - (now < then)


@dataclass
class ChannelsModel:
    """The subscriptions of the non-ticker views, in the order they were added, their
    records, and the view on screen with the pair picked in each view."""

    subscriptions: list[Subscription] = field(default_factory=list)
    view: View = "tickers"
    picked: dict[View, str] = field(default_factory=dict)
    trades: dict[str, deque[Trade]] = field(default_factory=dict)
    #: Per pair: candles by their open time, oldest first (an update replaces its bar).
    candles: dict[str, dict[int, Candle]] = field(default_factory=dict)
    swaps: dict[str, SwapLine] = field(default_factory=dict)
    #: ``(inst_id, channel)`` of the books seen valid at least once (so a missing one is
    #: resyncing, not still waiting for its first snapshot).
    books_seen: set[tuple[str, str]] = field(default_factory=set)
    #: The subscriptions of these views the exchange refused, with its reason (the app
    #: copies ``OkxClient.rejected`` here).
    rejected: dict[Subscription, str] = field(default_factory=dict)

    # -- subscriptions ---------------------------------------------------------------------

    def add(self, sub: Subscription) -> bool:
        """Show *sub* in its view; False if it is shown already.

        Raises:
            ValueError: for a subscription no view shows (tickers, or ``open-interest``),
                or one without an instrument.
        """
        view = view_of_channel(sub.channel)
        if view is None or view == "tickers" or sub.inst_id is None:
            raise ValueError(
                f"no view shows {sub.key}: expected books, trades, candle, "
                "funding-rate or mark-price with an instrument"
            )
        if sub in self.subscriptions:
            return False
        self.subscriptions.append(sub)
        self.picked.setdefault(view, sub.inst_id)
        return True

    def remove(self, sub: Subscription) -> bool:
        """Stop showing *sub* and forget its records; False if it was not shown."""
        if sub not in self.subscriptions:
            return False
        self.subscriptions.remove(sub)
        inst_id = sub.inst_id or ""
        self.books_seen.discard((inst_id, sub.channel))
        if sub.channel == "trades":
            self.trades.pop(inst_id, None)
        elif sub.channel.startswith("candle"):
            self.candles.pop(inst_id, None)
        elif sub.channel in ("funding-rate", "mark-price"):
            line = self.swaps.get(inst_id)
            if line is not None:
                if sub.channel == "funding-rate":
                    line.funding = None
                else:
                    line.mark = line.previous_mark = None
                if not self._shows(inst_id, "funding"):
                    del self.swaps[inst_id]
        view = view_of_channel(sub.channel)
        if view is not None and self.picked.get(view) == inst_id and not self._shows(inst_id, view):
            pairs = self.pairs(view)
            if pairs:
                self.picked[view] = pairs[0]
            else:
                self.picked.pop(view, None)
        return True

    def refused(self, view: View, inst_id: str | None) -> list[tuple[Subscription, str]]:
        """The refused subscriptions *view* shows for *inst_id* (every pair's: None)."""
        return [
            (sub, reason)
            for sub, reason in self.rejected.items()
            if sub in self.subscriptions
            and view_of_channel(sub.channel) == view
            and (inst_id is None or sub.inst_id == inst_id)
        ]

    def _shows(self, inst_id: str, view: View) -> bool:
        return inst_id in self.pairs(view)

    def pairs(self, view: View) -> list[str]:
        """The pairs *view* has subscriptions for, in the order they were first added."""
        seen: dict[str, None] = {}
        for sub in self.subscriptions:
            if sub.inst_id is not None and view_of_channel(sub.channel) == view:
                seen.setdefault(sub.inst_id, None)
        return list(seen)

    def channels_of(self, view: View, inst_id: str | None) -> list[str]:
        """The channels of *view* subscribed for *inst_id* (e.g. ``["books"]``)."""
        return [
            sub.channel
            for sub in self.subscriptions
            if sub.inst_id == inst_id and view_of_channel(sub.channel) == view
        ]

    # -- the view on screen ----------------------------------------------------------------

    def switch(self, view: View) -> None:
        """Show *view*."""
        self.view = view

    def cycle(self, step: int) -> View:
        """Show the next (*step* 1) or previous (-1) view, wrapping around; returns it."""
        self.view = VIEWS[(VIEWS.index(self.view) + step) % len(VIEWS)]
        return self.view

    def selected(self, view: View | None = None) -> str | None:
        """The pair *view* (default: the one on screen) shows, or None if it has none."""
        view = view or self.view
        pairs = self.pairs(view)
        picked = self.picked.get(view)
        if picked in pairs:
            return picked
        return pairs[0] if pairs else None

    def pick(self, inst_id: str, view: View | None = None) -> None:
        """Make *view* (default: the one on screen) show *inst_id*."""
        self.picked[view or self.view] = inst_id

    def pick_next(self, step: int) -> str | None:
        """Show the next (*step* 1) or previous (-1) pair of the view on screen; returns it."""
        pairs = self.pairs(self.view)
        if not pairs:
            return None
        current = self.selected()
        index = pairs.index(current) if current in pairs else 0
        chosen = pairs[(index + step) % len(pairs)]
        self.picked[self.view] = chosen
        return chosen

    # -- records ---------------------------------------------------------------------------

    def on_record(self, channel: str, record: object) -> bool:
        """Keep *record* of *channel*; False (and ignored) if no subscription shown wants it
        (a record of a pair just removed, or of a type the views do not show)."""
        inst_id = getattr(record, "inst_id", None)
        if not isinstance(inst_id, str) or Subscription(channel, inst_id) not in self.subscriptions:
            return False
        if isinstance(record, Trade):
            tape = self.trades.get(inst_id)
            if tape is None:
                tape = self.trades[inst_id] = deque(maxlen=TRADES_KEPT)
            tape.append(record)
        elif isinstance(record, Candle):
            bars = self.candles.setdefault(inst_id, {})
            last = next(reversed(bars)) if bars else None
            new = record.ts not in bars
            bars[record.ts] = record  # an update of a bar keeps its place
            if new and last is not None and record.ts < last:
                # A bar older than the newest (a replay): keep the dict in time order.
                ordered = sorted(bars.items())
                bars.clear()
                bars.update(ordered)
            while len(bars) > CANDLES_KEPT:
                del bars[next(iter(bars))]
        elif isinstance(record, FundingRate):
            self.swaps.setdefault(inst_id, SwapLine(inst_id)).funding = record
        elif isinstance(record, MarkPrice):
            line = self.swaps.setdefault(inst_id, SwapLine(inst_id))
            line.previous_mark, line.mark = line.mark, record
        else:
            return False
        return True
