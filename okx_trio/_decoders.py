r"""Per-channel push decoding into typed records: the integrator's one entry point.

Sans-IO, no Trio. Two paths, one result:

* :func:`decode_data` (``channel, arg, push``) works on the parsed JSON object of a push
  (:mod:`._plain_decoders`) and raises :class:`PushError` naming the bad field;
* :func:`decode_push_text` (``channel, text``) is the msgspec fast path over the raw text
  (:mod:`._fast_decoders`): the very same records, or None to defer to :func:`decode_data`.

``Record`` is the union of every record type; ``RECORD_TYPES`` maps each channel (every
candle channel included) to the type its pushes decode to (``tickers`` -> ``Ticker``,
though the codec keeps its own path for it and :func:`decode_data` refuses it).

Records per push: one per ``data`` item, in data order, so any channel may yield several;
in practice ``instruments`` (the full list: hundreds, possibly zero), ``opt-summary`` (every
option of the family), candle channels (several rows), ``liquidation-orders`` (one record
per entry of each item's ``details``) and ``trades`` do; the book channels and the other
state channels send one item a push.

Private channels (``orders``, ``positions``, ``account``, ...) have their own entry point,
:func:`decode_private_data` (same arguments; ``PrivateRecord``\ s, typed per channel in
``PRIVATE_RECORD_TYPES``): join a paginated snapshot first (``_snapshot_pages``).
"""

from __future__ import annotations

from ._fast_decoders import decode_push_text
from ._plain_decoders import RECORD_TYPES, Record, decode_data
from ._private_decoders import PRIVATE_RECORD_TYPES, decode_private_data
from ._private_records import PrivateRecord
from ._push_values import PushError

__all__ = [
    "PRIVATE_RECORD_TYPES",
    "RECORD_TYPES",
    "PrivateRecord",
    "PushError",
    "Record",
    "decode_data",
    "decode_private_data",
    "decode_push_text",
]
