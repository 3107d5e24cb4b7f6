"""What the monitor knows: the pairs, their recent prices, the events, the typed input.

Pure state: every method takes the current time as ``now`` (Trio time in the monitor) and
nothing here does I/O, so rendering and tests can build a model by hand.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from okx_trio import ConnectionState, ConnectionStats, StateChange, Ticker

from ._account import AccountModel
from ._channels import ChannelsModel
from ._format import one_line
from ._loglines import StateWords, state_words
from ._tick_rates import TickRates

__all__ = ["LogEvent", "MonitorModel", "PairRow"]


@dataclass(frozen=True)
class LogEvent:
    """One line in the event list: *at* is Trio time, *kind* its tag (``state``, ``chaos``...)."""

    at: float
    kind: str
    text: str
    state: ConnectionState | None = None


@dataclass
class PairRow:
    """What the monitor knows about one pair.

    ``history`` holds one price per ``sample_interval`` (the latest price of that interval),
    so the sparkline covers a steady stretch of time whatever the tick rate.
    """

    inst_id: str
    history: deque[Decimal]
    ticker: Ticker | None = None
    previous_last: Decimal | None = None
    updated_at: float | None = None
    sampled_at: float | None = None

    @property
    def direction(self) -> int:
        """+1, -1 or 0: how the last price moved on the latest tick."""
        if self.ticker is None or self.previous_last is None:
            return 0
        return (self.ticker.last > self.previous_last) - (self.ticker.last < self.previous_last)


class MonitorModel:
    """Everything the screen shows, updated from okx_trio's Ticker/StateChange/ConnectionStats.

    ``host`` names what the client talks to in state lines (``ws.okx.com``, or the demo's
    fake exchange); ``scroll`` is the first pair row shown when they do not all fit;
    ``input_text`` is the line being typed; ``channels`` holds the other views' data and
    which view is on screen; ``account`` the account view's (balances, orders, positions).
    """

    def __init__(
        self,
        pairs: Iterable[str] = (),
        *,
        started_at: float = 0.0,
        history_len: int = 30,
        sample_interval: float = 1.0,
        max_events: int = 50,
        host: str = "",
        pooled: bool = False,
    ) -> None:
        self.started_at = started_at
        self.history_len = history_len
        self.sample_interval = sample_interval
        self.host = host
        self.pooled = pooled
        self.rows: dict[str, PairRow] = {}
        self.events: deque[LogEvent] = deque(maxlen=max_events)
        self.state = ConnectionState.DISCONNECTED
        self.stats: ConnectionStats | None = None
        #: Whether any connection has ever been up (so "connected for" means something).
        self.ever_connected = False
        #: Trio time of the next connection attempt while RECONNECTING, by (endpoint,
        #: connection).
        self.next_attempt_at: dict[tuple[str | None, int], float] = {}
        self.scroll = 0
        #: How many pair rows the last frame had room for (what a page of scrolling is).
        self.visible_rows = len(self.rows) or 1
        self.input_text = ""
        self.channels = ChannelsModel()
        self.account = AccountModel()
        self._tick_rates = TickRates()
        # By (endpoint, connection): public, business and private are each numbered from 0.
        self._states: dict[tuple[str | None, int], ConnectionState] = {}
        for inst_id in pairs:
            self.add_pair(inst_id)

    # -- pairs -------------------------------------------------------------------------------

    def add_pair(self, inst_id: str) -> bool:
        """Start showing *inst_id*; False if it is already shown."""
        if inst_id in self.rows:
            return False
        self.rows[inst_id] = PairRow(inst_id, deque(maxlen=self.history_len))
        return True

    def remove_pair(self, inst_id: str) -> bool:
        """Stop showing *inst_id*; False if it was not shown."""
        return self.rows.pop(inst_id, None) is not None

    def scroll_by(self, rows: int) -> None:
        """Move the pair list by *rows* (negative: up), keeping :attr:`visible_rows` shown."""
        last = max(0, len(self.rows) - max(1, self.visible_rows))
        self.scroll = min(max(0, self.scroll + rows), last)

    def on_ticker(self, ticker: Ticker, now: float) -> bool:
        """Record a ticker; False (and ignored) for a pair that is not shown (e.g. just removed)."""
        row = self.rows.get(ticker.inst_id)
        if row is None:
            return False
        row.previous_last = row.ticker.last if row.ticker is not None else None
        row.ticker = ticker
        row.updated_at = now
        due = row.sampled_at is None or now - row.sampled_at >= self.sample_interval
        if due or not row.history:
            row.history.append(ticker.last)
            row.sampled_at = now
        else:
            row.history[-1] = ticker.last
        return True

    # -- the connection ----------------------------------------------------------------------

    def on_state_change(self, change: StateChange, now: float) -> LogEvent:
        """Record a state change, or a notice on the state stream, as an event.

        A change to the state the connection is already in is a notice (a rejected
        instrument, an upgrade announcement): it gets no ``state:`` prefix.
        """
        key = (change.endpoint, change.connection)
        if change.endpoint is None:  # about the whole client: always a notice
            before = change.state
        else:
            before = self._states.get(key, ConnectionState.DISCONNECTED)
            self._states[key] = change.state
        notice = change.state is before and change.state is not ConnectionState.DISCONNECTED
        self.state = change.state
        if change.state is ConnectionState.CONNECTED:
            self.ever_connected = True
        if change.state is ConnectionState.RECONNECTING and change.delay is not None:
            self.next_attempt_at[key] = now + change.delay
        elif not notice:
            self.next_attempt_at.pop(key, None)
        words = self.words_for(change, notice=notice)
        return self.add_event(words.kind, words.text, now, state=change.state)

    def words_for(self, change: StateChange, *, notice: bool = False) -> StateWords:
        """:func:`state_words` with this model's host and pool setting."""
        return state_words(change, host=self.host, notice=notice, pooled=self.pooled)

    def next_attempt_in(self, now: float) -> float | None:
        """Seconds until the soonest pending reconnect attempt, or None."""
        if not self.next_attempt_at:
            return None
        return max(0.0, min(self.next_attempt_at.values()) - now)

    def on_stats(self, stats: ConnectionStats, now: float | None = None) -> None:
        """Remember the latest statistics; with *now*, update :attr:`tick_rates`.

        A rate is the connection's new ticks over the time since the previous snapshot; a
        counter that went down (a connection index reused) just restarts its rate.
        """
        self.stats = stats
        self.state = stats.state
        if stats.state is ConnectionState.CONNECTED:
            self.ever_connected = True
        if now is None:
            return
        self._tick_rates.update(stats, now)

    @property
    def tick_rates(self) -> dict[tuple[str, int], float]:
        """Ticks per second of each connection by (endpoint, index), between the last two
        snapshots given a time (see :class:`~._tick_rates.TickRates`)."""
        return self._tick_rates.rates

    # -- events ------------------------------------------------------------------------------

    def add_event(
        self, kind: str, text: str, now: float, *, state: ConnectionState | None = None
    ) -> LogEvent:
        """Append an event line (the oldest falls off beyond ``max_events``)."""
        event = LogEvent(now, kind, one_line(text), state)
        self.events.append(event)
        return event
