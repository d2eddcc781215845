"""``sequencer schema``: a JSON Schema that editors can use, and that agrees with the parser."""

from __future__ import annotations

import copy
import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from jsonschema import Draft202012Validator

from sequencer.cli.main import cli

ROOT = Path(__file__).resolve().parents[2]
SEQUENCES = ROOT / "sequences"
SEQUENCE_FILES = sorted(p for p in SEQUENCES.rglob("*") if p.suffix in (".yaml", ".yml"))

MINIMAL: dict[str, Any] = {
    "name": "minimal",
    "steps": [
        {"id": "intro", "type": "email", "template": "cold/intro_a.j2", "subject": "hello"},
        {"id": "call-1", "type": "call", "wait": "2 business days"},
        {"id": "check", "type": "branch", "if": "replied", "goto": "call-1"},
        {"id": "launch", "type": "task", "at": "2027-01-05"},
    ],
}


def schema_from_cli() -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["schema"])
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert isinstance(schema, dict)
    return schema


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    return Draft202012Validator(schema_from_cli(),
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


def with_iso_dates(value: Any) -> Any:
    """YAML reads ``at: 2027-01-05`` as a date; JSON (and so the schema) sees text."""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: with_iso_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [with_iso_dates(v) for v in value]
    return value


def messages(validator: Draft202012Validator, data: Any) -> list[str]:
    return [e.message for e in validator.iter_errors(data)]


def test_schema_output_is_a_valid_draft_2020_12_json_schema() -> None:
    schema = schema_from_cli()
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_schema_output_option_writes_the_same_schema_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "sequence.schema.json"
    result = CliRunner().invoke(cli, ["schema", "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads(out.read_text(encoding="utf-8")) == schema_from_cli()


def test_there_is_at_least_one_shipped_sequence() -> None:
    assert SEQUENCE_FILES


@pytest.mark.parametrize("path", SEQUENCE_FILES, ids=lambda p: p.name)
def test_every_shipped_sequence_validates_against_the_schema(
    validator: Draft202012Validator, path: Path
) -> None:
    data = with_iso_dates(yaml.safe_load(path.read_text(encoding="utf-8")))
    assert messages(validator, data) == []


def test_a_minimal_sequence_validates_against_the_schema(
    validator: Draft202012Validator,
) -> None:
    assert messages(validator, MINIMAL) == []


def test_schema_rejects_an_unknown_top_level_key(validator: Draft202012Validator) -> None:
    data = copy.deepcopy(MINIMAL) | {"shedule": {"timezone": "UTC"}}
    found = messages(validator, data)
    assert found and any("shedule" in m for m in found), found


def test_schema_rejects_an_unknown_step_key(validator: Draft202012Validator) -> None:
    data = copy.deepcopy(MINIMAL)
    data["steps"][1]["wiat"] = "2 days"
    found = messages(validator, data)
    assert found and any("wiat" in m for m in found), found


def test_schema_rejects_a_key_that_belongs_to_another_step_type(
    validator: Draft202012Validator,
) -> None:
    data = copy.deepcopy(MINIMAL)
    data["steps"][1]["template"] = "cold/bump.j2"  # a call has no template
    found = messages(validator, data)
    assert found and any("template" in m for m in found), found


def test_schema_rejects_an_unknown_step_type(validator: Draft202012Validator) -> None:
    data = copy.deepcopy(MINIMAL)
    data["steps"][1]["type"] = "sms"
    found = messages(validator, data)
    assert found and any("sms" in m for m in found), found


def test_schema_rejects_a_branch_without_goto(validator: Draft202012Validator) -> None:
    data = copy.deepcopy(MINIMAL)
    del data["steps"][2]["goto"]
    assert messages(validator, data)


def test_schema_rejects_a_sequence_without_steps(validator: Draft202012Validator) -> None:
    assert messages(validator, {"name": "empty"})
    assert messages(validator, {"name": "empty", "steps": []})


def test_schema_rejects_an_exact_date_that_is_not_a_date(
    validator: Draft202012Validator,
) -> None:
    data = copy.deepcopy(MINIMAL)
    data["steps"][3]["at"] = "next tuesday"
    assert messages(validator, data)


def test_schema_rejects_a_branch_whose_goto_is_empty(validator: Draft202012Validator) -> None:
    data = copy.deepcopy(MINIMAL)
    data["steps"][2]["goto"] = None  # `goto:` with nothing after it
    assert messages(validator, data)
