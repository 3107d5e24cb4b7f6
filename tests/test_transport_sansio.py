"""The ``websockets-sansio`` transport: choosing it.

The client tests on it are in ``test_transport_websockets.py``, the connection contract in
``test_transport_contract.py`` and TLS in ``test_tls.py`` (each on every transport). What a
real server rarely does on cue (fragments, pings, a close from the server, frames split
across reads, protocol errors, a peer that hangs up or never answers, cancelled sends) is in
``test_transport_sansio_receive.py`` and ``test_transport_sansio_send.py``, against the
hand-made servers of ``tests/_ws_peer.py``.
"""

from __future__ import annotations

import sys
from typing import Final

import pytest

from okx_trio import ClientConfig
from okx_trio._connectors import default_connector
from okx_trio._transport_sansio import SansIOConnector

TRANSPORT: Final = "websockets-sansio"


def test_the_config_selects_the_connector() -> None:
    connector = default_connector(TRANSPORT, connect_timeout=3.0)
    assert isinstance(connector, SansIOConnector)
    assert connector.connect_timeout == 3.0
    assert ClientConfig(transport=TRANSPORT).transport == TRANSPORT
    assert ClientConfig().transport == TRANSPORT  # the default


def test_without_websockets_the_transport_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "okx_trio._transport_sansio", None)
    with pytest.raises(ValueError, match=r"'websockets-sansio' needs the websockets package"):
        default_connector(TRANSPORT, connect_timeout=1.0)
