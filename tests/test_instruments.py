"""validate_inst_id: what is sent to OKX is checked before it is sent."""

from __future__ import annotations

import pytest

from okx_trio import validate_inst_id as public_validate_inst_id
from okx_trio._instruments import validate_inst_id


@pytest.mark.parametrize(
    "inst_id",
    [
        "BTC-USDT",
        "BTC-USDT-SWAP",
        "BTC-USD-SWAP",
        "BTC-USD-220527",
        "UNI-USD-SWAP",
        "1INCH-USDT",
        "A-B",
        "X" * 20 + "-" + "Y" * 20,
        "X" * 20 + "-" + "Y" * 20 + "-SWAP",
        "ETH-USD-991231",
    ],
)
def test_valid(inst_id: str) -> None:
    assert validate_inst_id(inst_id) is inst_id


@pytest.mark.parametrize(
    "inst_id",
    [
        "btc-usdt",
        "Btc-USDT",
        "BTC-USDT-swap",
        "BTC",
        "BTC-",
        "-USDT",
        "BTC-USDT-",
        "BTC--USDT",
        "BTC-USDT ",
        " BTC-USDT",
        "BTC-USDT\n",
        "BTC_USDT",
        "BTC/USDT",
        "BTC-USD-2205",
        "BTC-USD-2205270",
        "BTC-USD-220527-30000-C",  # options are not served
        "BTC-USDT-SWAP-SWAP",
        "X" * 21 + "-USDT",
        "BTC-" + "Y" * 21,
        "",
        "BTC-USDT\x00",
        'BTC-USDT","instId":"ETH-USDT',
        "\u0412\u0422\u0421-USDT",  # Cyrillic look-alikes of BTC
    ],
)
def test_invalid_strings(inst_id: str) -> None:
    with pytest.raises(ValueError, match="invalid instrument id") as info:
        validate_inst_id(inst_id)
    assert repr(inst_id) in str(info.value)


@pytest.mark.parametrize("value", [None, 1, 1.5, b"BTC-USDT", ["BTC-USDT"], ("BTC", "USDT")])
def test_non_strings(value: object) -> None:
    with pytest.raises(ValueError, match="invalid instrument id"):
        validate_inst_id(value)


def test_message_names_the_expected_shape() -> None:
    with pytest.raises(ValueError) as info:
        validate_inst_id("btc-usdt")
    assert str(info.value) == (
        "invalid instrument id 'btc-usdt': expected like BTC-USDT, BTC-USDT-SWAP or "
        "BTC-USD-220527 (upper case)"
    )


def test_public_name() -> None:
    assert public_validate_inst_id is validate_inst_id


@pytest.mark.parametrize(
    "inst_id",
    [
        "BTC-USD-\u0662\u0662\u0660\u0665\u0662\u0667",
        "BTC-USD-\uff12\uff12\uff10\uff15\uff12\uff17",
    ],
)
def test_non_ascii_digits_in_expiry_are_invalid(inst_id: str) -> None:
    with pytest.raises(ValueError):
        validate_inst_id(inst_id)
