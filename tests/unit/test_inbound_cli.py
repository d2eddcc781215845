"""``sequencer inbound classify``: what a script or a person reads back."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from sequencer.cli.main import cli
from tests.unit.inbound_mail import OUR_ID, OUR_KEY, dsn, person


def _files(tmp_path: Path) -> tuple[Path, Path]:
    bounce = tmp_path / "bounce.eml"
    bounce.write_bytes(dsn(status="5.1.1", diagnostic="550 5.1.1 <dana@prospect.example>: "
                           "User unknown (in reply to RCPT TO command)",
                           notice="The mail system could not deliver your message."))
    away = tmp_path / "away.eml"
    away.write_bytes(person(body="I will be back in the office on Monday 17 March 2025.",
                            subject="Automatic reply: Quick question",
                            extra={"Auto-Submitted": "auto-replied"}))
    return bounce, away


def test_json_gives_one_object_per_file_with_the_stable_fields(tmp_path: Path) -> None:
    bounce, away = _files(tmp_path)
    result = CliRunner().invoke(cli, ["inbound", "classify", str(bounce), str(away), "--json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.output)
    assert [row["file"] for row in rows] == [str(bounce), str(away)]
    assert rows[0] == {
        "file": str(bounce), "kind": "hard_bounce", "status": "5.1.1", "return_date": None,
        "in_reply_to": OUR_ID, "reason": "userunknown", "recipient": "dana@prospect.example",
        "sequencer_key": OUR_KEY, "delayed": False}
    assert (rows[1]["kind"], rows[1]["return_date"]) == ("auto_reply", "2025-03-17")


def test_an_unreadable_file_is_named_the_others_are_reported_and_the_exit_is_1(
        tmp_path: Path) -> None:
    bounce, _ = _files(tmp_path)
    missing = tmp_path / "missing.eml"
    result = CliRunner().invoke(cli, ["inbound", "classify", str(missing), str(bounce), "--json"])
    assert result.exit_code == 1
    assert f"{missing}: cannot read" in result.stderr
    assert [row["file"] for row in json.loads(result.stdout)] == [str(bounce)]


def test_without_json_a_table_for_people(tmp_path: Path) -> None:
    bounce, away = _files(tmp_path)
    result = CliRunner().invoke(cli, ["inbound", "classify", str(bounce), str(away)],
                                env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert "hard_bounce" in result.output and "auto_reply" in result.output
    assert "2025-03-17" in result.output
