"""Placing instruments onto the connections of a pool, as a plain object.

One connection can carry only so many subscriptions before its updates lag (and OKX limits
requests per connection), so a large set of instruments is spread over several connections
("shards"). Placement must be stable: moving an instrument means unsubscribing it on one
connection and subscribing it on another, a gap in its updates. So an instrument keeps its
shard while it stays wanted, and new ones go where a stable hash sends them, the same in
every process (rendezvous hashing: the same inputs give the same layout).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

__all__ = ["Placement", "shard_weight"]


def shard_weight(inst_id: str, shard: int) -> int:
    """The rendezvous weight of *inst_id* on *shard*: a 64-bit int, the same in every process.

    It is BLAKE2b of ``f"{shard}:{inst_id}"``, never Python's ``hash()``, which is salted
    per process for strings.
    """
    digest = hashlib.blake2b(f"{shard}:{inst_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


class Placement:
    """Which connection (shard index 0, 1, ...) holds each instrument.

    Sticky: an instrument keeps its shard while it stays desired, so a change moves nothing
    that stays. New instruments are placed, in sorted order, on the shard with the highest
    :func:`shard_weight` among the candidate shards that have room. The candidates are the
    shards in use (shard 0 always) plus the lowest unused indices needed to make
    ``ceil(len(desired) / max_per_shard)`` of them, which always have room for everything:
    from scratch that is ``range(ceil(len(desired) / max_per_shard))``, each shard at most
    ``max_per_shard``. With ``max_per_shard`` None everything is on shard 0.

    Nothing is moved to compact: after many removals the pool may use more shards than the
    remaining instruments need, until they are removed or a new :class:`Placement` is made.

    Raises:
        ValueError: for a ``max_per_shard`` that is not None or an int >= 1.
    """

    def __init__(self, max_per_shard: int | None) -> None:
        if max_per_shard is not None and (
            not isinstance(max_per_shard, int)
            or isinstance(max_per_shard, bool)
            or max_per_shard < 1
        ):
            raise ValueError(f"max_per_shard must be an int >= 1 or None, got {max_per_shard!r}")
        self._max = max_per_shard
        self._shard_of: dict[str, int] = {}
        self._members: dict[int, set[str]] = {0: set()}  # shard 0 always, others non-empty

    @property
    def max_per_shard(self) -> int | None:
        return self._max

    @property
    def shards(self) -> tuple[int, ...]:
        """The shard indices in use, sorted; shard 0 is always one of them."""
        return tuple(sorted(self._members))

    def shard_of(self, inst_id: str) -> int | None:
        """The shard holding *inst_id*, or None if it is not placed."""
        return self._shard_of.get(inst_id)

    def layout(self) -> dict[int, frozenset[str]]:
        """The current layout, as :meth:`assign` last returned it."""
        return {shard: frozenset(self._members[shard]) for shard in sorted(self._members)}

    def assign(self, desired: Iterable[str]) -> dict[int, frozenset[str]]:
        """Place exactly the instruments in *desired* and return the new full layout.

        The layout maps each shard in use to its instruments, in shard order. Shard 0 is
        always present (maybe empty); a shard that became empty is left out and its index
        may be reused. Duplicates in *desired* count once.

        Raises:
            ValueError: if *desired* is a single string (an iterable of its letters), and
                then nothing changes.
        """
        if isinstance(desired, str):
            raise ValueError(f"desired must be an iterable of instrument ids, got {desired!r}")
        wanted = set(desired)
        for inst_id in [i for i in self._shard_of if i not in wanted]:
            shard = self._shard_of.pop(inst_id)
            members = self._members[shard]
            members.discard(inst_id)
            if not members and shard != 0:
                del self._members[shard]
        # Sorted, because set order of str differs between processes (hash salting) and
        # placing in another order fills shards differently.
        new = sorted(i for i in wanted if i not in self._shard_of)
        if self._max is None:
            self._members[0].update(new)
            self._shard_of.update(dict.fromkeys(new, 0))
            return self.layout()
        limit = self._max
        needed = -(-len(wanted) // limit)  # ceil without floats
        candidates = set(self._members)
        index = 0
        while len(candidates) < needed:
            if index not in candidates:
                candidates.add(index)
            index += 1
        # Room never runs out: the candidates hold ``needed * limit >= len(wanted)``.
        with_room = sorted(s for s in candidates if len(self._members.get(s, ())) < limit)
        for inst_id in new:
            # Highest weight wins; a tie (a 64-bit collision) keeps the lower index, first
            # in ``with_room``.
            shard, best = -1, -1
            for candidate in with_room:
                weight = shard_weight(inst_id, candidate)
                if weight > best:
                    shard, best = candidate, weight
            members = self._members.setdefault(shard, set())
            members.add(inst_id)
            self._shard_of[inst_id] = shard
            if len(members) >= limit:
                with_room.remove(shard)
        return self.layout()
