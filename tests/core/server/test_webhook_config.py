"""``CLOUDREC_WEBHOOKS``: the server's webhook endpoints from the environment, and the
messages that refuse a malformed value, naming the field without ever quoting it."""

from __future__ import annotations

import argparse
import json

import pytest

from core.commands.server import add_arguments, settings_from_args
from core.errors import CloudRecordingError
from core.server.webhook_config import Endpoint, event_types, parse_webhooks

SECRET = "S3cret-of-the-hook-4b1d"
URL = "https://hooks.example.com/agora/cloud-recording?token=Tok3n-in-the-query"


def test_endpoints_are_read_with_their_secret_and_event_filter() -> None:
    text = json.dumps([
        {"url": URL, "secret": SECRET},
        {"url": "http://127.0.0.1:8081/hook", "secret": "other", "events": [31, 32, 11]},
    ])  # fmt: skip
    first, second = parse_webhooks(text)
    assert (first.url, first.secret, first.events) == (URL, SECRET, None)
    assert second.events == frozenset({31, 32, 11})
    assert first.wants(33) and not second.wants(33) and second.wants(11)
    assert SECRET not in repr(first)
    assert first.shown == "https://hooks.example.com/agora/cloud-recording"
    assert parse_webhooks("") == () and parse_webhooks("  ") == ()
    assert parse_webhooks("[]") == ()


def test_an_endpoint_is_known_by_its_url_never_by_its_secret() -> None:
    assert Endpoint(URL, "a").id == Endpoint(URL, "b").id  # a rotated secret keeps cursors
    assert Endpoint(URL, "a").id != Endpoint(URL + "x", "a").id
    with_user = "https://me:pw@hooks.example.com/agora/cloud-recording?token=Tok3n-in-the-query"
    assert Endpoint(with_user, "a").id == Endpoint(URL, "a").id
    assert len(Endpoint(URL, "a").id) == 32


ALLOWED = ", ".join(str(n) for n in event_types())
WANTED_EVENTS = f"a list of event types, each one of {ALLOWED} (omit events for every event)"
WANTED_URL = "the receiver's http:// or https:// URL"
WANTED_SECRET = "the endpoint's secret (the key of Agora-Signature and Agora-Signature-V2)"
FORMAT = (
    'a JSON list of {"url": "https://...", "secret": "...", "events": [31, 11]} objects '
    "(events optional: every event without it; docs/webhooks.md)"
)


def one(**fields: object) -> str:
    return json.dumps([{"url": URL, "secret": SECRET, **fields}])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f'[{{"url": "{URL}", "secret": "{SECRET}"', f": not JSON (Expecting ',' delimiter at character {len(URL) + len(SECRET) + 25}); {FORMAT}"),
        (json.dumps({"url": URL, "secret": SECRET}), f": an object, not a list; {FORMAT}"),
        (json.dumps([URL]), f"[0]: a string, not an object; {FORMAT}"),
        (one(secrets=SECRET), "[0]: unknown field 'secrets'; the fields are url, secret, events"),
        (one(**{SECRET + "!": 1}), "[0]: unknown field of 24 characters; the fields are url, secret, events"),
        (json.dumps([{"secret": SECRET}]), f"[0].url: missing; {WANTED_URL}"),
        (one(url=5), f"[0].url: a number, not a string; {WANTED_URL}"),
        (one(url="ftp://hooks.example.com/" + SECRET), f"[0].url: its scheme is not http or https; {WANTED_URL}"),
        (one(url="https:///path?" + SECRET), f"[0].url: it names no host; {WANTED_URL}"),
        (one(url="https://h:99999/" + SECRET), f"[0].url: not a valid URL (its host or port); {WANTED_URL}"),
        (one(url="https://h:0/"), f"[0].url: port 0; {WANTED_URL}, with a port from 1 to 65535"),
        (one(url="https://h/a b" + SECRET), f"[0].url: holds spaces, control or non-ASCII characters; {WANTED_URL}, percent-encoded (IDNA for a host name)"),
        (one(url="https://h/#" + SECRET), f"[0].url: it has a fragment ('#...'), which is never sent; {WANTED_URL}"),
        (json.dumps([{"url": URL}]), f"[0].secret: missing; {WANTED_SECRET}"),
        (one(secret=""), f"[0].secret: empty; {WANTED_SECRET}, not empty"),
        (one(secret=["x"]), f"[0].secret: a list, not a string; {WANTED_SECRET}"),
        (one(secret="x" * 1025), f"[0].secret: longer than 1024 characters; {WANTED_SECRET}"),
        (one(events=31), f"[0].events: a number, not a list; {WANTED_EVENTS}"),
        (one(events=[]), f"[0].events: empty, so nothing would be sent; {WANTED_EVENTS}"),
        (one(events=[31, "32"]), f"[0].events[1]: a string, not an event type number; {WANTED_EVENTS}"),
        (one(events=[True]), f"[0].events[0]: a boolean, not an event type number; {WANTED_EVENTS}"),
        (one(events=[31, 99]), f"[0].events[1]: 99 is not an event type cloudrec sends; {WANTED_EVENTS}"),
        (
            json.dumps([{"url": URL, "secret": "a"}, {"url": URL, "secret": SECRET}]),
            "[1].url: the same URL as CLOUDREC_WEBHOOKS[0].url; name each receiver once "
            "(one endpoint can take several event types)",
        ),
        (json.dumps([{"url": f"http://h{i}/", "secret": "s"} for i in range(33)]), ": 33 endpoints, more than the 32 allowed"),
    ],
)  # fmt: skip
def test_a_malformed_value_is_refused_naming_the_field_never_the_value(
    text: str, message: str
) -> None:
    with pytest.raises(CloudRecordingError) as refused:
        parse_webhooks(text)
    assert refused.value.message == "CLOUDREC_WEBHOOKS" + message
    assert SECRET not in refused.value.message and "Tok3n" not in refused.value.message


def parse_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_the_server_reads_the_variable_only_with_its_option(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CLOUDREC_WEBHOOKS", one(events=[31]))
    assert settings_from_args(parse_args()).webhooks == ()
    settings = settings_from_args(
        parse_args("--webhooks-from-env", "--webhook-max-age", "2", "--webhook-retry-cap", "5")
    )
    assert settings.webhooks == (Endpoint(URL, SECRET, frozenset({31})),)
    assert (settings.webhook_max_age, settings.webhook_retry_cap) == (7200, 5)
    assert SECRET not in repr(settings)
    defaults = settings_from_args(parse_args())
    assert (defaults.webhook_max_age, defaults.webhook_retry_cap) == (24 * 3600, 60)
    monkeypatch.setenv("CLOUDREC_WEBHOOKS", "[{")
    with pytest.raises(
        CloudRecordingError, match=r"\(442\): CLOUDREC_WEBHOOKS: not JSON \(Expecting property name"
    ):
        settings_from_args(parse_args("--webhooks-from-env"))
