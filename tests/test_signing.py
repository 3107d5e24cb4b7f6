"""OKX's signatures: the login request, REST headers, the clock offset, login outcomes.

Every signature is checked against one computed here with ``hmac`` (and against a constant
computed the same way once): OKX's docs' example sign does not verify against their secret.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import math
import pickle
import string
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from okx_trio import Credentials
from okx_trio._signing import (
    LOGIN_VERIFY_PATH,
    LoginFailure,
    LoginRequest,
    classify_login_error,
    clock_offset,
    login_request,
    masked_headers,
    rest_headers,
)

API_KEY = "985d5b66-57ce-40fb-b714-afc0b9787083"
SECRET = "F2A9C4E1B7D3F6A8C0E2B4D6F8A1C3E5"
PASSPHRASE = "Pa55!phrase#Trio"
CREDS = Credentials(API_KEY, SECRET, PASSPHRASE)
# 2020-12-08T09:08:57.715Z, the moment of OKX's REST docs' example timestamp.
REST_TIME = 1607418537.715
LOGIN_TIME = 1538054050.975


def hmac_sign(secret: str, message: str) -> str:
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def assert_hidden(text: str, secret: str = SECRET, passphrase: str = PASSPHRASE) -> None:
    assert secret not in text
    assert passphrase not in text


# -- login -------------------------------------------------------------------------------


def test_login_request_exact_text() -> None:
    request = login_request(CREDS, LOGIN_TIME)
    sign = hmac_sign(SECRET, "1538054050GET/users/self/verify")
    assert sign == "L2gsKE9OsECU0GIkwZZ2MF61/wv6DtJfTrH2uEVQJrY="
    assert request.timestamp == "1538054050"
    assert request.text == (
        '{"op":"login","args":[{"apiKey":"985d5b66-57ce-40fb-b714-afc0b9787083",'
        f'"passphrase":"Pa55!phrase#Trio","timestamp":"1538054050","sign":"{sign}"}}]}}'
    )
    assert json.loads(request.text) == {
        "op": "login",
        "args": [
            {"apiKey": API_KEY, "passphrase": PASSPHRASE, "timestamp": "1538054050", "sign": sign}
        ],
    }


def test_login_masked_text_hides_passphrase_and_sign() -> None:
    request = login_request(CREDS, LOGIN_TIME)
    assert request.masked_text == (
        '{"op":"login","args":[{"apiKey":"985d5b66-57ce-40fb-b714-afc0b9787083",'
        '"passphrase":"***","timestamp":"1538054050","sign":"***"}]}'
    )
    sign = json.loads(request.text)["args"][0]["sign"]
    for text in (request.masked_text, repr(request), str(request), f"{request}"):
        assert_hidden(text)
        assert sign not in text


def test_login_request_cannot_be_pickled_or_changed() -> None:
    request = login_request(CREDS, LOGIN_TIME)
    with pytest.raises(TypeError, match="cannot be pickled") as caught:
        pickle.dumps(request)
    assert_hidden(str(caught.value))
    with pytest.raises(AttributeError, match="frozen"):
        request.text = "{}"
    assert copy.deepcopy(request) is request
    assert copy.copy(request) is request
    assert isinstance(request, LoginRequest)


@pytest.mark.parametrize(
    ("wall_time", "offset", "timestamp"),
    [
        (1538054050.0, 0.0, "1538054050"),
        (1538054050.999999, 0.0, "1538054050"),  # truncated: never ahead of OKX's clock
        (1538054050, 0.0, "1538054050"),  # an int is a time too
        (1538054050.6, 0.5, "1538054051"),  # the offset is added before truncating
        (1538054050.2, -0.5, "1538054049"),
        (1538054050.0, -1e-6, "1538054049"),
        (1538054050.4, 12.75, "1538054063"),
    ],
)
def test_login_timestamp_is_whole_seconds_of_corrected_time(
    wall_time: float, offset: float, timestamp: str
) -> None:
    request = login_request(CREDS, wall_time, offset=offset)
    assert request.timestamp == timestamp
    arg = json.loads(request.text)["args"][0]
    assert arg["timestamp"] == timestamp
    assert arg["sign"] == hmac_sign(SECRET, timestamp + "GET" + LOGIN_VERIFY_PATH)


def test_each_attempt_gets_its_own_timestamp_and_sign() -> None:
    first = login_request(CREDS, LOGIN_TIME)
    second = login_request(CREDS, LOGIN_TIME + 1)
    assert first.timestamp != second.timestamp
    assert json.loads(first.text)["args"][0]["sign"] != json.loads(second.text)["args"][0]["sign"]


@pytest.mark.parametrize(
    ("wall_time", "offset", "match"),
    [
        (12345.6, 0.0, r"not trio\.current_time\(\)"),  # a monotonic clock, not Unix time
        (1607418537715.0, 0.0, "seconds, not milliseconds"),
        (math.nan, 0.0, "Unix time in seconds"),
        (math.inf, 0.0, "Unix time in seconds"),
        (-1.0, 0.0, "Unix time in seconds"),
        (LOGIN_TIME, math.nan, "offset must be a finite number"),
        (LOGIN_TIME, 1.6e12, "is the offset in seconds"),
        (LOGIN_TIME, -LOGIN_TIME, "is the offset in seconds"),
    ],
)
def test_bad_times_are_value_errors(wall_time: float, offset: float, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        login_request(CREDS, wall_time, offset=offset)
    with pytest.raises(ValueError, match=match):
        rest_headers(CREDS, "GET", "/api/v5/account/balance", "", wall_time, offset=offset)


@pytest.mark.parametrize(
    ("wall_time", "offset", "match"),
    [
        ("1538054050", 0.0, "wall_time must be Unix seconds as a float, not str"),
        (True, 0.0, "wall_time must be Unix seconds as a float, not bool"),
        (LOGIN_TIME, "0", "offset must be seconds as a float, not str"),
    ],
)
def test_times_of_the_wrong_type(wall_time: object, offset: object, match: str) -> None:
    with pytest.raises(TypeError, match=match):
        login_request(CREDS, wall_time, offset=offset)  # type: ignore[arg-type]


def test_login_needs_credentials() -> None:
    with pytest.raises(TypeError, match="credentials must be Credentials, not tuple"):
        login_request((API_KEY, SECRET, PASSPHRASE), LOGIN_TIME)  # type: ignore[arg-type]


# -- REST --------------------------------------------------------------------------------


def test_rest_headers_for_a_get_with_a_query() -> None:
    headers = rest_headers(CREDS, "GET", "/api/v5/account/balance?ccy=BTC", "", REST_TIME)
    sign = hmac_sign(SECRET, "2020-12-08T09:08:57.715ZGET/api/v5/account/balance?ccy=BTC")
    assert sign == "9l4DrFv29SHyfJbrEWX71QC4wU7yMFBDoUw8eNBkGWY="
    assert headers == {
        "OK-ACCESS-KEY": API_KEY,
        "OK-ACCESS-SIGN": sign,
        "OK-ACCESS-TIMESTAMP": "2020-12-08T09:08:57.715Z",
        "OK-ACCESS-PASSPHRASE": PASSPHRASE,
    }


def test_rest_headers_for_a_post_with_a_body() -> None:
    body = '{"instId":"BTC-USDT","tdMode":"cash","side":"buy","ordType":"market","sz":"100"}'
    headers = rest_headers(CREDS, "post", "/api/v5/trade/order", body, REST_TIME)
    expected = "AjGG/ztnccfVuLTovq8M25PPmdhot/t7fZ3+TVHu0+s="
    assert hmac_sign(SECRET, "2020-12-08T09:08:57.715ZPOST/api/v5/trade/order" + body) == expected
    assert headers["OK-ACCESS-SIGN"] == expected  # the method was upper-cased before signing
    assert rest_headers(CREDS, "POST", "/api/v5/trade/order", body.encode(), REST_TIME) == headers


def test_a_get_without_body_signs_the_same_with_none_or_empty() -> None:
    path = "/api/v5/account/balance"
    assert rest_headers(CREDS, "get", path, None, REST_TIME) == rest_headers(
        CREDS, "GET", path, b"", REST_TIME
    )


def test_demo_adds_the_simulated_trading_header() -> None:
    headers = rest_headers(CREDS, "GET", "/api/v5/account/balance", "", REST_TIME, demo=True)
    assert headers["x-simulated-trading"] == "1"
    assert list(headers) == [
        "OK-ACCESS-KEY",
        "OK-ACCESS-SIGN",
        "OK-ACCESS-TIMESTAMP",
        "OK-ACCESS-PASSPHRASE",
        "x-simulated-trading",
    ]
    live = rest_headers(CREDS, "GET", "/api/v5/account/balance", "", REST_TIME)
    assert "x-simulated-trading" not in live


@pytest.mark.parametrize(
    ("wall_time", "offset", "timestamp"),
    [
        (1607418537.715, 0.0, "2020-12-08T09:08:57.715Z"),
        (1607418537.7159, 0.0, "2020-12-08T09:08:57.715Z"),  # truncated to the millisecond
        (1607418537.0, 0.0, "2020-12-08T09:08:57.000Z"),
        (1607418537, 0.0, "2020-12-08T09:08:57.000Z"),
        (1607418537.715, 0.3, "2020-12-08T09:08:58.015Z"),
        (1607418537.715, -0.716, "2020-12-08T09:08:56.999Z"),
        (1609459199.9995, 0.0, "2020-12-31T23:59:59.999Z"),
        (1609459199.9995, 0.0005, "2021-01-01T00:00:00.000Z"),
    ],
)
def test_rest_timestamp_is_iso_utc_with_milliseconds(
    wall_time: float, offset: float, timestamp: str
) -> None:
    headers = rest_headers(CREDS, "GET", "/api/v5/account/balance", "", wall_time, offset=offset)
    assert headers["OK-ACCESS-TIMESTAMP"] == timestamp
    expected = hmac_sign(SECRET, timestamp + "GET/api/v5/account/balance")
    assert headers["OK-ACCESS-SIGN"] == expected


@pytest.mark.parametrize(
    ("method", "path", "body", "error", "match"),
    [
        ("PUT", "/api/v5/x", "", ValueError, "method must be GET or POST"),
        ("GTE", "/api/v5/x", "", ValueError, "got 'GTE'"),
        (
            "GET",
            "https://www.okx.com/api/v5/account/balance",
            "",
            ValueError,
            "path only .* not a URL",
        ),
        ("GET", "api/v5/account/balance", "", ValueError, "must start with '/'"),
        ("GET", "/api/v5/x?a=b c", "", ValueError, "printable ASCII, no spaces"),
        ("GET", "/api/v5/x#frag", "", ValueError, "no fragment"),
        ("GET", "/api/v5/x", '{"a":1}', ValueError, "a GET has no body"),
        ("POST", "/api/v5/x", b"\xff\xfe", ValueError, "body must be UTF-8"),
        ("POST", "/api/v5/x", {"a": 1}, TypeError, "body must be str, bytes or None, not dict"),
        (b"GET", "/api/v5/x", "", TypeError, "method must be a str, not bytes"),
        ("GET", b"/api/v5/x", "", TypeError, "request_path must be a str, not bytes"),
    ],
)
def test_rest_request_errors(
    method: object, path: object, body: object, error: type[Exception], match: str
) -> None:
    with pytest.raises(error, match=match) as caught:
        rest_headers(CREDS, method, path, body, REST_TIME)  # type: ignore[arg-type]
    assert_hidden(str(caught.value))


def test_masked_headers_hide_sign_and_passphrase() -> None:
    headers = rest_headers(CREDS, "GET", "/api/v5/account/balance", "", REST_TIME, demo=True)
    masked = masked_headers(headers)
    assert masked == {
        "OK-ACCESS-KEY": API_KEY,
        "OK-ACCESS-SIGN": "***",
        "OK-ACCESS-TIMESTAMP": "2020-12-08T09:08:57.715Z",
        "OK-ACCESS-PASSPHRASE": "***",
        "x-simulated-trading": "1",
    }
    assert masked_headers({"ok-access-passphrase": PASSPHRASE}) == {"ok-access-passphrase": "***"}
    assert headers["OK-ACCESS-PASSPHRASE"] == PASSPHRASE  # the original is left alone


# -- clock offset ------------------------------------------------------------------------

TIME_ANSWER = b'{"code":"0","msg":"","data":[{"ts":"1597026383085"}]}'


def test_offset_is_server_time_minus_the_round_trip_midpoint() -> None:
    offset = clock_offset(TIME_ANSWER, 1597026383.000, 1597026383.100)
    assert offset == pytest.approx(1597026383.085 - 1597026383.050, abs=1e-6)
    assert clock_offset(TIME_ANSWER.decode(), 1597026383.000, 1597026383.100) == offset


def test_offset_when_the_local_clock_is_behind_or_ahead() -> None:
    assert clock_offset(TIME_ANSWER, 1597026373.0, 1597026373.0) == pytest.approx(10.085)
    assert clock_offset(TIME_ANSWER, 1597026393.0, 1597026393.2) == pytest.approx(-10.015)


def test_an_offset_corrects_the_login_timestamp() -> None:
    # The local clock is 10 s behind: the login is stamped with OKX's time.
    offset = clock_offset(TIME_ANSWER, 1597026373.0, 1597026373.0)
    assert login_request(CREDS, 1597026373.5, offset=offset).timestamp == "1597026383"


def test_an_integer_ts_is_tolerated() -> None:
    answer = '{"code":"0","data":[{"ts":1597026383085}]}'
    assert clock_offset(answer, 1597026383.0, 1597026383.0) == pytest.approx(0.085)


@pytest.mark.parametrize(
    ("answer", "match"),
    [
        (b"\xff", "not UTF-8"),
        ("<html>502 Bad Gateway</html>", "not JSON: '<html>502 Bad Gateway</html>'"),
        ("[]", "not a JSON object"),
        (
            '{"code":"50001","msg":"Service temporarily unavailable","data":[]}',
            "code '50001' \\(msg 'Service temporarily unavailable'\\)",
        ),
        ('{"data":[{"ts":"1597026383085"}]}', "code None"),
        ('{"code":0,"data":[{"ts":"1597026383085"}]}', "code 0 "),
        ('{"code":"0","data":[]}', 'no "data"'),
        ('{"code":"0","data":{"ts":"1597026383085"}}', 'no "data"'),
        ('{"code":"0","data":[{"time":"1597026383085"}]}', 'no "data"'),
        ('{"code":"0","data":[{"ts":"1597026383.085"}]}', "string of digits, got '1597026383.085'"),
        ('{"code":"0","data":[{"ts":"-1"}]}', "string of digits"),
        ('{"code":"0","data":[{"ts":true}]}', "string of digits, got True"),
        ('{"code":"0","data":[{"ts":"1597026383"}]}', "not a Unix time in milliseconds"),
        ("x" * 500, r"\.\.\.$"),  # a long answer is quoted only in part
    ],
)
def test_malformed_time_answers(answer: str | bytes, match: str) -> None:
    with pytest.raises(ValueError, match=match) as caught:
        clock_offset(answer, 1597026383.0, 1597026383.1)
    assert len(str(caught.value)) < 300


def test_time_answer_of_the_wrong_type() -> None:
    with pytest.raises(TypeError, match="answer must be bytes or str, not dict"):
        clock_offset({"code": "0"}, 1597026383.0, 1597026383.1)  # type: ignore[arg-type]


def test_round_trip_times_are_checked() -> None:
    with pytest.raises(ValueError, match=r"received_at 1597026382\.0 is before sent_at"):
        clock_offset(TIME_ANSWER, 1597026383.0, 1597026382.0)
    with pytest.raises(ValueError, match=r"sent_at must be a Unix time .*got 5\.0"):
        clock_offset(TIME_ANSWER, 5.0, 1597026383.0)
    with pytest.raises(ValueError, match="received_at must be a Unix time"):
        clock_offset(TIME_ANSWER, 1597026383.0, math.inf)


# -- login outcomes ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "failure"),
    [
        ("60005", LoginFailure.CREDENTIALS),
        ("60007", LoginFailure.CREDENTIALS),
        ("60024", LoginFailure.CREDENTIALS),
        ("60032", LoginFailure.CREDENTIALS),
        (4001, LoginFailure.CREDENTIALS),
        (4007, LoginFailure.CREDENTIALS),
        ("4001", LoginFailure.CREDENTIALS),
        ("60004", LoginFailure.CLOCK),
        ("60006", LoginFailure.CLOCK),
        (60006, LoginFailure.CLOCK),
        ("63999", LoginFailure.RETRYABLE),
        ("60023", LoginFailure.RETRYABLE),
        ("64007", LoginFailure.RETRYABLE),
        ("60009", LoginFailure.RETRYABLE),
        ("60031", LoginFailure.ALREADY_LOGGED_IN),
        ("60012", LoginFailure.REQUEST),
        ("60019", LoginFailure.REQUEST),
        ("60026", LoginFailure.REQUEST),
        ("60027", LoginFailure.REQUEST),
        ("60033", LoginFailure.REQUEST),
        ("60018", LoginFailure.UNKNOWN),
        (4004, LoginFailure.UNKNOWN),
        ("99999", LoginFailure.UNKNOWN),
    ],
)
def test_login_codes(code: str | int, failure: LoginFailure) -> None:
    assert classify_login_error(code) is failure


def test_60009_is_retried_once_then_fatal() -> None:
    assert classify_login_error("60009") is LoginFailure.RETRYABLE
    assert classify_login_error("60009", retried=True) is LoginFailure.CREDENTIALS
    # Only 60009 is spent by a retry: OKX's internal errors stay retryable.
    assert classify_login_error("63999", retried=True) is LoginFailure.RETRYABLE
    assert classify_login_error("60006", retried=True) is LoginFailure.CLOCK


def test_fatal_failures() -> None:
    assert {f for f in LoginFailure if f.fatal} == {LoginFailure.CREDENTIALS, LoginFailure.REQUEST}


@pytest.mark.parametrize(
    ("code", "error", "match"),
    [
        ("0", ValueError, "successful login"),
        (0, ValueError, "successful login"),
        ("", ValueError, "string of digits"),
        ("6000x", ValueError, "got '6000x'"),
        (-4001, ValueError, "string of digits"),
        (True, TypeError, "not bool"),
        (60009.0, TypeError, "not float"),
    ],
)
def test_bad_codes(code: object, error: type[Exception], match: str) -> None:
    with pytest.raises(error, match=match):
        classify_login_error(code)  # type: ignore[arg-type]


# -- properties --------------------------------------------------------------------------

_ALPHABET = string.ascii_letters + string.digits + "!#$%&+,-./:;<>?@[]^_{|}~"
tokens = st.text(_ALPHABET, min_size=12, max_size=40)
wall_times = st.floats(1.5e9, 4e9)


def _loggable(creds: Credentials, wall_time: float) -> list[str]:
    """Every text of a login and REST signing that may reach a log."""
    request = login_request(creds, wall_time)
    headers = rest_headers(creds, "GET", "/api/v5/account/balance", "", wall_time, demo=True)
    loggable = [request.masked_text, repr(request), str(request), repr(masked_headers(headers))]
    for bad_path in ("api/v5/x", "https://www.okx.com/api/v5/x", "/a b"):
        with pytest.raises(ValueError) as caught:
            rest_headers(creds, "GET", bad_path, "", wall_time)
        loggable.append(str(caught.value))
    return loggable


@given(api_key=tokens, secret=tokens, passphrase=tokens, wall_time=wall_times)
def test_no_secret_in_what_may_be_logged(
    api_key: str, secret: str, passphrase: str, wall_time: float
) -> None:
    creds = Credentials(api_key, secret, passphrase)
    request = login_request(creds, wall_time)
    sign = json.loads(request.text)["args"][0]["sign"]
    assert sign == hmac_sign(secret, request.timestamp + "GET/users/self/verify")
    assert json.loads(request.text)["args"][0]["passphrase"] == passphrase
    headers = rest_headers(creds, "GET", "/api/v5/account/balance", "", wall_time, demo=True)
    loggable = _loggable(creds, wall_time)
    # What may be logged must not depend on the secrets at all: the same texts as with
    # other secrets. A secret that happens to spell a fixed part (a header name such as
    # "OK-ACCESS-SI", found by Hypothesis) is in that text for that reason only.
    fixed = "".join(_loggable(Credentials(api_key, "0" * 12, "1" * 12), wall_time))
    assert loggable == _loggable(Credentials(api_key, secret + "x", passphrase + "y"), wall_time)
    for text in loggable:
        if secret not in api_key + fixed and passphrase not in api_key + fixed:
            assert_hidden(text, secret, passphrase)
        assert sign not in text
        assert headers["OK-ACCESS-SIGN"] not in text


@given(wall_time=wall_times, offset=st.floats(-3600, 3600))
def test_login_and_rest_timestamps_agree(wall_time: float, offset: float) -> None:
    seconds = login_request(CREDS, wall_time, offset=offset).timestamp
    headers = rest_headers(CREDS, "GET", "/api/v5/x", "", wall_time, offset=offset)
    iso = headers["OK-ACCESS-TIMESTAMP"]
    moment = datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)
    assert int(moment.timestamp()) == int(seconds)
    # Truncated, never ahead of the corrected time, and less than a millisecond behind it.
    assert 0 <= (wall_time + offset) - moment.timestamp() < 0.001 + 1e-6
