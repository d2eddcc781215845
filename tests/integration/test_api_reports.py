"""/v1/reports through the HTTP client: the reply report, the funnel, A/B verdicts and
learned windows, as JSON and as CSV with a filename."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.api_client import ApiHarness, assert_error
from tests.integration.test_task_queue import seed_call_tasks

pytestmark = pytest.mark.integration


@pytest.fixture
def sent(api: ApiHarness, tmp_path: Path) -> ApiHarness:
    """Ann's and Béa's intros sent, their call-1 tasks open."""
    seed_call_tasks(api.app, api.clock, tmp_path)
    return api


def test_the_reply_report_by_step_and_variant_as_json_and_csv(sent: ApiHarness) -> None:
    as_json = sent.get("/v1/reports/replies?by=step,variant&sequence=cold-outbound")
    as_csv = sent.get("/v1/reports/replies?by=step,variant&format=csv")
    by_accept = sent.get("/v1/reports/replies", headers={"Accept": "text/csv"})

    assert as_json.status_code == 200, as_json.text
    body = as_json.json()
    assert body["keys"] == ["sequence", "step", "variant"]
    assert sum(r["counts"]["emails_sent"] for r in body["rows"]) == 2
    assert body["total"]["counts"]["prospects_delivered"] == 2
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert 'filename="replies.csv"' in as_csv.headers["content-disposition"]
    header = as_csv.text.splitlines()[0].split(",")
    assert header[:4] == ["row", "sequence", "step", "variant"]
    assert as_csv.text.splitlines()[-1].startswith("total,")
    assert by_accept.headers["content-type"].startswith("text/csv")


def test_an_unknown_breakdown_is_422_listing_the_valid_ones(sent: ApiHarness) -> None:
    body = assert_error(sent.get("/v1/reports/replies?by=colour"), 422, "invalid_request")
    assert "sequence" in body["message"] and "variant" in body["message"]
    assert body["details"][0]["field"] == "query.by"
    assert_error(sent.get("/v1/reports/replies?since=2026-11-01"), 422, "invalid_request")
    assert_error(sent.get("/v1/reports/replies?format=xml"), 422, "invalid_request")
    assert_error(sent.get("/v1/reports/funnel?by=colour"), 422, "invalid_request")


def test_the_funnel_as_json_and_csv(sent: ApiHarness) -> None:
    data = sent.get("/v1/reports/funnel?by=sequence")
    table = sent.get("/v1/reports/funnel?by=source&format=csv")
    assert data.status_code == 200 and data.json()["by"] == "sequence"
    assert data.json()["total"]["group"] == "all"
    assert table.status_code == 200 and table.text.startswith("section,group,name")


def test_ab_verdicts_and_learned_windows(sent: ApiHarness) -> None:
    verdicts = sent.get("/v1/reports/ab?sequence=cold-outbound")
    assert verdicts.status_code == 200, verdicts.text
    assert [s["step"] for s in verdicts.json()["steps"]] == ["intro"]
    ab_csv = sent.get("/v1/reports/ab?sequence=cold-outbound&format=csv")
    assert ab_csv.text.startswith("step,variant,delivered")
    assert 'filename="ab-cold-outbound.csv"' in ab_csv.headers["content-disposition"]
    windows = sent.get("/v1/reports/windows?sequence=cold-outbound")
    assert windows.status_code == 200 and windows.json()["opted_in"] is False
    assert sent.get("/v1/reports/windows?sequence=cold-outbound",
                    headers={"Accept": "text/csv"}).text.startswith("segment,field,value")
    missing = assert_error(sent.get("/v1/reports/ab?sequence=nope"), 404, "not_found")
    assert "nope" in missing["message"]
    assert_error(sent.get("/v1/reports/windows?sequence=nope"), 404, "not_found")
    assert_error(sent.get("/v1/reports/ab"), 422, "invalid_request")


def test_reports_need_a_token(sent: ApiHarness) -> None:
    for path in ("/v1/reports/replies", "/v1/reports/funnel",
                 "/v1/reports/ab?sequence=cold-outbound",
                 "/v1/reports/windows?sequence=cold-outbound"):
        assert_error(sent.get(path, as_=None), 401, "unauthenticated")
