"""``cloudrec token``: options, environment, and tokens that verify."""

from __future__ import annotations

import argparse

import pytest

from core.channel.accesstoken import parse_token, verify_rtc_token
from core.commands.token import APP_CERTIFICATE_ENV, add_arguments, run

APP_ID = "970CA35de60c44645bbae8a215061b33"
APP_CERT = "5CFd2fd1755d40ecb72977518be15d3b"


def _cli(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="cloudrec token")
    add_arguments(parser)
    return parser.parse_args(argv)


class TestCli:
    def test_run_prints_a_verifiable_token(self, capsys: pytest.CaptureFixture[str]) -> None:
        args = _cli(["--app-id", APP_ID, "--app-certificate", APP_CERT, "--channel", "demo"])
        args.uid = "1234"
        assert run(args) == 0
        token = capsys.readouterr().out.strip()
        grant = verify_rtc_token(
            token, app_id=APP_ID, app_certificate=APP_CERT, channel_name="demo", uid=1234
        )
        assert grant.join and grant.can_publish
        assert grant.expires_at - grant.issue_ts == 3600

    def test_audience_account_and_expire(self, capsys: pytest.CaptureFixture[str]) -> None:
        argv = ["--app-id", APP_ID, "--app-certificate", APP_CERT, "--channel", "demo"]
        argv += ["--uid", "alice", "--role", "audience", "--expire", "120"]
        assert run(_cli(argv)) == 0
        token = capsys.readouterr().out.strip()
        grant = verify_rtc_token(
            token, app_id=APP_ID, app_certificate=APP_CERT, channel_name="demo", uid="alice"
        )
        assert grant.join and not grant.can_publish and not grant.publish_data
        assert grant.expires_at - grant.issue_ts == 120

    def test_default_uid_is_any(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert run(_cli(["--app-id", APP_ID, "--app-certificate", APP_CERT, "--channel", "d"])) == 0
        assert parse_token(capsys.readouterr().out.strip()).rtc_services()[0].account == ""

    def test_certificate_from_environment(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv(APP_CERTIFICATE_ENV, APP_CERT)
        assert run(_cli(["--app-id", APP_ID, "--channel", "demo", "--uid", "7"])) == 0
        token = capsys.readouterr().out.strip()
        verify_rtc_token(token, app_id=APP_ID, app_certificate=APP_CERT, channel_name="demo", uid=7)

    def test_missing_or_bad_certificate(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv(APP_CERTIFICATE_ENV, raising=False)
        assert run(_cli(["--app-id", APP_ID, "--channel", "demo"])) == 2
        out = capsys.readouterr()
        assert out.out == "" and APP_CERTIFICATE_ENV in out.err
        secret = "not a certificate but secret text"
        assert run(_cli(["--app-id", APP_ID, "--app-certificate", secret, "--channel", "x"])) == 2
        out = capsys.readouterr()
        assert out.out == "" and secret not in out.err and "certificate" in out.err

    def test_help_mentions_environment_variable(self) -> None:
        parser = argparse.ArgumentParser(prog="cloudrec token")
        add_arguments(parser)
        assert APP_CERTIFICATE_ENV in parser.format_help()
        with pytest.raises(SystemExit):
            parser.parse_args(["--app-id", APP_ID, "--channel", "c", "--role", "admin"])
