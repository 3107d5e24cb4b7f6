"""Credentials: validated, frozen, and never showing the secret key or the passphrase."""

from __future__ import annotations

import base64
import copy
import dataclasses
import hashlib
import hmac
import io
import logging
import pickle
import string
import traceback

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from rich import inspect as rich_inspect
from rich.console import Console
from rich.pretty import pretty_repr

import okx_trio
from okx_trio import Credentials

API_KEY = "985d5b66-57ce-40fb-b714-afc0b9787083"
SECRET = "F2A9C4E1B7D3F6A8C0E2B4D6F8A1C3E5"
PASSPHRASE = "Pa55!phrase#Trio"
ENV = {"OKX_API_KEY": API_KEY, "OKX_SECRET_KEY": SECRET, "OKX_PASSPHRASE": PASSPHRASE}


def make() -> Credentials:
    return Credentials(API_KEY, SECRET, PASSPHRASE)


def assert_hidden(text: str) -> None:
    assert SECRET not in text
    assert PASSPHRASE not in text


def test_exported_from_the_package() -> None:
    assert okx_trio.Credentials is Credentials
    assert "Credentials" in okx_trio.__all__


def test_repr_masks_the_api_key_and_hides_the_rest() -> None:
    creds = make()
    expected = "Credentials(api_key='985d…', secret_key=***, passphrase=***)"
    assert repr(creds) == expected
    assert str(creds) == expected
    assert f"{creds}" == expected
    assert f"{creds!r}" == expected
    assert f"{creds:>70}" == expected.rjust(70)
    assert "%r %s" % (creds, creds) == f"{expected} {expected}"  # noqa: UP031
    assert repr([creds]) == f"[{expected}]"
    assert API_KEY not in expected
    assert creds.masked_api_key == "985d…"


def test_logging_shows_only_the_masked_form(caplog: pytest.LogCaptureFixture) -> None:
    creds = make()
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("okx_trio.test").debug("login with %r (%s)", creds, creds)
    assert "985d…" in caplog.text
    assert_hidden(caplog.text)


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_pickling_refuses(protocol: int) -> None:
    with pytest.raises(TypeError, match="cannot be pickled") as caught:
        pickle.dumps(make(), protocol=protocol)
    assert_hidden("".join(traceback.format_exception(caught.value)))


def test_pickling_inside_a_container_refuses() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps({"creds": make()})


def test_copies_are_the_same_immutable_object() -> None:
    creds = make()
    assert copy.copy(creds) is creds
    assert copy.deepcopy(creds) is creds
    holder = copy.deepcopy({"c": creds})
    assert holder["c"] is creds


def test_asdict_and_vars_have_nothing_to_read() -> None:
    creds = make()
    assert not dataclasses.is_dataclass(creds)
    with pytest.raises(TypeError) as caught:
        dataclasses.asdict(creds)  # type: ignore[call-overload]
    assert_hidden(str(caught.value))
    with pytest.raises(TypeError) as caught_vars:
        vars(creds)
    assert_hidden(str(caught_vars.value))
    assert not hasattr(creds, "__dict__")


def test_the_stored_secret_values_print_as_stars() -> None:
    creds = make()
    # Even code reaching into the slots gets wrappers that print as ***.
    for name in ("_secret_key", "_passphrase"):
        value = object.__getattribute__(creds, name)
        assert repr(value) == str(value) == f"{value}" == "***"
        with pytest.raises(TypeError):
            pickle.dumps(value)
        with pytest.raises(AttributeError):
            value._value = "x"


def test_frozen() -> None:
    creds = make()
    with pytest.raises(AttributeError, match="frozen"):
        creds.api_key = "other"
    with pytest.raises(AttributeError, match="frozen"):
        creds.new_field = 1
    with pytest.raises(AttributeError, match="frozen"):
        del creds.api_key
    assert creds.api_key == API_KEY


def test_equality_and_hash() -> None:
    assert make() == make()
    assert hash(make()) == hash(make())
    assert make() != Credentials(API_KEY, SECRET + "0", PASSPHRASE)
    assert make() != Credentials(API_KEY, SECRET, PASSPHRASE + "0")
    assert make() != Credentials(API_KEY + "0", SECRET, PASSPHRASE)
    assert make() != (API_KEY, SECRET, PASSPHRASE)
    assert len({make(), make()}) == 1


def test_equality_compares_every_field_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    original = hmac.compare_digest

    def counting(a: bytes, b: bytes) -> bool:
        calls.append(1)
        return original(a, b)

    monkeypatch.setattr(hmac, "compare_digest", counting)
    # The API keys differ, yet all three fields are compared: no early exit to time.
    assert make() != Credentials("other-key", SECRET, PASSPHRASE)
    assert len(calls) == 3


def test_hash_does_not_depend_on_the_secrets() -> None:
    assert hash(make()) == hash(Credentials(API_KEY, "another-secret", "another-pass"))


def test_sign_is_base64_hmac_sha256_of_the_secret() -> None:
    message = "1538054050GET/users/self/verify"
    digest = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).digest()
    assert make().sign(message) == base64.b64encode(digest).decode()
    assert make().sign(message) == "L2gsKE9OsECU0GIkwZZ2MF61/wv6DtJfTrH2uEVQJrY="


def test_reveal_passphrase() -> None:
    assert make().reveal_passphrase() == PASSPHRASE


BAD_VALUES = [
    ("", "is empty"),
    (" leading", "contains whitespace"),
    ("trailing\n", "contains whitespace"),
    ("in\tside", "contains whitespace"),
    ("nbsp\u00a0inside", "contains whitespace"),
    ("caf\u00e9-pass", "not printable ASCII"),
    ("bell\x07", "not printable ASCII"),
]


@pytest.mark.parametrize("field", ["api_key", "secret_key", "passphrase"])
@pytest.mark.parametrize(("value", "problem"), BAD_VALUES)
def test_a_malformed_field_is_named_never_quoted(field: str, value: str, problem: str) -> None:
    values = {"api_key": API_KEY, "secret_key": SECRET, "passphrase": PASSPHRASE, field: value}
    with pytest.raises(ValueError) as caught:
        Credentials(**values)
    message = str(caught.value)
    assert message == f"invalid OKX credentials: {field} {message.split(f'{field} ', 1)[1]}"
    assert problem in message
    if value:
        assert value not in message
        assert value.strip() not in message
    assert_hidden("".join(traceback.format_exception(caught.value)))


def test_every_malformed_field_is_named_at_once() -> None:
    with pytest.raises(ValueError) as caught:
        Credentials("", "has space", "ok-passphrase")
    assert str(caught.value) == (
        "invalid OKX credentials: api_key is empty; "
        "secret_key contains whitespace (a stray space or newline from copy and paste?)"
    )


def test_a_field_that_is_not_a_str_is_a_type_error() -> None:
    with pytest.raises(TypeError) as caught:
        Credentials(API_KEY, SECRET.encode(), None)  # type: ignore[arg-type]
    assert str(caught.value) == (
        "invalid OKX credentials: secret_key must be a str, not bytes; "
        "passphrase must be a str, not NoneType"
    )


def test_from_env_reads_the_three_variables() -> None:
    assert Credentials.from_env(ENV) == make()


def test_from_env_defaults_to_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    assert Credentials.from_env() == make()


def test_from_env_names_every_missing_variable_at_once() -> None:
    with pytest.raises(ValueError) as caught:
        Credentials.from_env({})
    assert str(caught.value) == (
        "OKX credentials missing from the environment: OKX_API_KEY is not set; "
        "OKX_SECRET_KEY is not set; OKX_PASSPHRASE is not set"
    )


def test_from_env_tells_empty_from_unset() -> None:
    with pytest.raises(ValueError) as caught:
        Credentials.from_env({"OKX_API_KEY": API_KEY, "OKX_SECRET_KEY": ""})
    assert str(caught.value) == (
        "OKX credentials missing from the environment: OKX_SECRET_KEY is empty; "
        "OKX_PASSPHRASE is not set"
    )


def test_from_env_names_the_variable_of_a_malformed_value() -> None:
    env = {**ENV, "OKX_SECRET_KEY": SECRET + "\n", "OKX_PASSPHRASE": " " + PASSPHRASE}
    with pytest.raises(ValueError) as caught:
        Credentials.from_env(env)
    message = str(caught.value)
    assert message.startswith("invalid OKX credentials: OKX_SECRET_KEY contains whitespace")
    assert "; OKX_PASSPHRASE contains whitespace" in message
    assert_hidden(message)


def with_locals(exc: BaseException) -> str:
    """The traceback as a reporter that captures each frame's locals would show it."""
    return "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())


def test_a_traceback_with_locals_does_not_show_a_rejected_secret() -> None:
    with pytest.raises(ValueError) as caught:
        Credentials(API_KEY, SECRET + " ", PASSPHRASE + "\n")
    text = with_locals(caught.value)
    assert "sealed = " in text  # the locals are there, shown as ***
    assert_hidden(text)


def test_a_traceback_with_locals_does_not_show_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OKX_SECRET_KEY", SECRET)
    monkeypatch.setenv("OKX_PASSPHRASE", PASSPHRASE)
    monkeypatch.delenv("OKX_API_KEY", raising=False)
    with pytest.raises(ValueError, match="OKX_API_KEY is not set") as missing:
        Credentials.from_env()
    assert_hidden(with_locals(missing.value))
    monkeypatch.setenv("OKX_API_KEY", " " + API_KEY)
    with pytest.raises(ValueError, match="OKX_API_KEY contains whitespace") as malformed:
        Credentials.from_env()
    assert_hidden(with_locals(malformed.value))


def test_rich_renders_only_the_masked_form() -> None:
    creds = make()
    assert pretty_repr(creds) == repr(creds)
    out = io.StringIO()
    console = Console(file=out, width=200)
    console.print(creds)
    rich_inspect(creds, console=console, private=True, dunder=True)
    text = out.getvalue()
    assert "985d…" in text
    assert_hidden(text)


# -- properties --------------------------------------------------------------------------

# Printable ASCII without the characters repr itself writes, so a secret cannot be found in
# the fixed text of the repr by coincidence.
_ALPHABET = string.ascii_letters + string.digits + "!#$%&+,-./:;<>?@[]^_{|}~"
tokens = st.text(_ALPHABET, min_size=12, max_size=40)
whitespace = st.sampled_from([" ", "\t", "\n", "\r", "\u00a0", "\u2003"])


@given(api_key=tokens, secret=tokens, passphrase=tokens)
def test_no_secret_in_any_rendering(api_key: str, secret: str, passphrase: str) -> None:
    creds = Credentials(api_key, secret, passphrase)
    assume(secret not in api_key and passphrase not in api_key)
    renderings = [repr(creds), str(creds), f"{creds}", f"{creds:^80}", "%r" % (creds,)]  # noqa: UP031
    for exc_type, action in ((TypeError, pickle.dumps), (TypeError, vars)):
        with pytest.raises(exc_type) as caught:
            action(creds)
        renderings.append("".join(traceback.format_exception(caught.value)))
    for text in renderings:
        assert secret not in text
        assert passphrase not in text


@given(secret=tokens, passphrase=tokens, space=whitespace, data=st.data())
def test_errors_do_not_depend_on_the_value(
    secret: str, passphrase: str, space: str, data: st.DataObject
) -> None:
    # A malformed secret is reported in words that are the same for every value.
    at = data.draw(st.integers(0, len(secret)))
    bad = secret[:at] + space + secret[at:]
    with pytest.raises(ValueError) as caught:
        Credentials(API_KEY, bad, passphrase)
    with pytest.raises(ValueError) as reference:
        Credentials(API_KEY, "x y", "z")
    assert str(caught.value) == str(reference.value)
    with pytest.raises(ValueError) as from_env:
        Credentials.from_env({**ENV, "OKX_SECRET_KEY": bad, "OKX_PASSPHRASE": passphrase})
    with pytest.raises(ValueError) as env_reference:
        Credentials.from_env({**ENV, "OKX_SECRET_KEY": "x y", "OKX_PASSPHRASE": "z"})
    assert str(from_env.value) == str(env_reference.value)
    assert "OKX_SECRET_KEY contains whitespace" in str(from_env.value)
