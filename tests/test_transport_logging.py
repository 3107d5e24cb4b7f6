"""No transport ever logs what we send: a login carries the key, passphrase and signature."""

from __future__ import annotations

import logging

import pytest
import trio

from okx_trio._connectors import default_connector

from ._ws_peer import Peer, answer_close, open_scripted_server, ws_frame

LOGIN = '{"op":"login","args":[{"apiKey":"KEY-1","passphrase":"PASS-1","sign":"SIGN-1"}]}'


@pytest.mark.parametrize("transport", ["trio-websocket", "websockets", "websockets-sansio"])
async def test_frames_never_reach_the_log_on_any_transport(
    transport: str, caplog: pytest.LogCaptureFixture
) -> None:
    async def echo(peer: Peer) -> None:
        _opcode, payload = await peer.frame()
        await peer.stream.send_all(ws_frame(payload))
        await answer_close(peer)

    caplog.set_level(logging.DEBUG)  # every logger, websockets' and trio-websocket's too
    with trio.fail_after(5):
        async with open_scripted_server(script=echo) as url:
            async with default_connector(transport, connect_timeout=5)(url) as conn:
                await conn.send_message(LOGIN)
                assert await conn.get_message() == LOGIN
    assert caplog.records  # DEBUG was on and something was logged...
    assert not any(secret in caplog.text for secret in ("KEY-1", "PASS-1", "SIGN-1"))
