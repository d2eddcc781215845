"""The API's common rules, as a client meets them: tokens and scopes, rate limits,
one error body, pagination cursors and idempotency keys."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import timedelta

import pytest
from click.testing import CliRunner
from fastapi import APIRouter
from pydantic import BaseModel
from sqlalchemy.exc import DataError

from sequencer.api.auth import CACHE_SECONDS, ReadDep
from sequencer.api.idempotency import IdempotencyDep
from sequencer.api.pagination import PageDep, Paginated, encode_cursor
from sequencer.cli.main import cli
from sequencer.services.api_tokens import create_token, revoke_token
from tests.integration.api_client import ApiHarness, assert_error, harness

pytestmark = pytest.mark.integration


class Thing(BaseModel):
    name: str


class Made(BaseModel):
    id: int
    name: str


def probe_router() -> tuple[APIRouter, list[str]]:
    """Routes that use the shared dependencies the way every /v1 route does."""
    router, made = APIRouter(), []
    counter = itertools.count(1)

    @router.post("/v1/_probe/things", status_code=201)
    def make(thing: Thing, idempotency: IdempotencyDep) -> object:
        def produce() -> Made:
            if thing.name == "boom":
                raise RuntimeError("refused to make it")
            made.append(thing.name)
            return Made(id=next(counter), name=thing.name)
        return idempotency.run(thing, 201, produce)

    @router.get("/v1/_probe/refused")
    def refused(principal: ReadDep) -> None:
        raise DataError("INSERT ...", {}, ValueError("value too long for type character(3)"))

    @router.get("/v1/_probe/numbers", response_model=Paginated[int])
    def numbers(principal: ReadDep, page: PageDep) -> Paginated[int]:
        rows = [n for n in range(1, 8) if page.after is None or n > page.after][:page.limit + 1]
        items, cursor = page.page(rows, key=lambda n: n)
        return Paginated[int](items=items, next_cursor=cursor)

    return router, made


@pytest.fixture
def probed(api: ApiHarness) -> Iterator[tuple[ApiHarness, list[str]]]:
    router, made = probe_router()
    api.client.app.include_router(router)  # type: ignore[attr-defined]
    yield api, made


def test_me_names_the_token_and_its_scope(api: ApiHarness) -> None:
    answer = api.get("/v1/me", as_="write")
    assert answer.status_code == 200
    assert answer.json()["name"] == "write token"
    assert answer.json()["scope"] == "write"
    assert answer.json()["owner"] == "rita"


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic dXNlcjpwYXNz",
                                    "Bearer sqt_000000000000_wrongsecret"])
def test_no_valid_token_is_401_with_the_error_body(api: ApiHarness, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    body = assert_error(api.get("/v1/me", as_=None, headers=headers), 401, "unauthenticated")
    assert "token" in body["message"]


def test_a_right_prefix_with_a_wrong_secret_is_refused(api: ApiHarness) -> None:
    real = api.tokens["read"]
    forged = real[:-4] + ("AAAA" if not real.endswith("AAAA") else "BBBB")
    assert_error(api.get("/v1/me", as_=None, headers={"Authorization": f"Bearer {forged}"}),
                 401, "unauthenticated")


def test_a_revoked_token_is_refused(api: ApiHarness) -> None:
    info, raw = create_token(api.app, "leaver", scope="admin")
    revoke_token(api.app, info.id)
    assert_error(api.get("/v1/me", as_=None, headers={"Authorization": f"Bearer {raw}"}),
                 401, "unauthenticated")


def test_a_token_revoked_while_in_use_stops_working_within_seconds(api: ApiHarness) -> None:
    info, raw = create_token(api.app, "leaver", scope="read")
    header = {"Authorization": f"Bearer {raw}"}
    assert api.get("/v1/me", as_=None, headers=header).status_code == 200
    revoke_token(api.app, info.id)
    api.clock.advance(timedelta(seconds=CACHE_SECONDS - 1))
    assert api.get("/v1/me", as_=None, headers=header).status_code == 200, \
        "a verified token is remembered for a few seconds"
    api.clock.advance(timedelta(seconds=1))
    assert_error(api.get("/v1/me", as_=None, headers=header), 401, "unauthenticated")


def test_a_read_token_cannot_write(probed: tuple[ApiHarness, list[str]]) -> None:
    api, made = probed
    body = assert_error(api.post("/v1/_probe/things", as_="read", json={"name": "x"}),
                        403, "forbidden")
    assert "'write'" in body["message"]
    assert made == []
    assert api.post("/v1/_probe/things", as_="admin", json={"name": "x"}).status_code == 201


def test_the_rate_limit_answers_429_then_refills_with_time(database_url: str) -> None:
    for api in harness(database_url, rate_per_minute=3):
        seen = [api.get("/v1/me") for _ in range(4)]
        assert [r.status_code for r in seen] == [200, 200, 200, 429]
        assert [r.headers.get("X-RateLimit-Remaining") for r in seen[:3]] == ["2", "1", "0"]
        refused = assert_error(seen[3], 429, "rate_limited")
        assert "3 requests a minute" in refused["message"]
        assert seen[3].headers["Retry-After"] == "20"
        assert api.get("/v1/me", as_="write").status_code == 200, "limits are per token"
        api.clock.advance(timedelta(seconds=20))
        assert api.get("/v1/me").status_code == 200
        assert api.get("/v1/me").status_code == 429


def test_bad_input_names_the_field(probed: tuple[ApiHarness, list[str]]) -> None:
    api, _ = probed
    body = assert_error(api.post("/v1/_probe/things", json={"nom": "x"}), 422,
                        "invalid_request")
    assert body["details"][0]["field"] == "body.name"
    assert "body.name" in body["message"]


def test_unknown_routes_and_methods_use_the_error_body(api: ApiHarness) -> None:
    assert_error(api.get("/v1/nowhere"), 404, "not_found")
    assert_error(api.client.delete("/v1/me", headers=api.headers("admin")), 405,
                 "method_not_allowed")


@pytest.mark.parametrize("path", ["/v1/_probe/numbers?cursor=%00", "/v1/_probe/numbers?x=a%00b",
                                  "/v1/prospects/1%00"])
def test_a_nul_character_in_the_path_or_query_is_refused(
        probed: tuple[ApiHarness, list[str]], path: str) -> None:
    api, _ = probed
    body = assert_error(api.get(path), 422, "invalid_request")
    assert "NUL" in body["message"]


def test_a_value_the_store_refuses_is_a_422_not_a_500(probed: tuple[ApiHarness, list[str]]
                                                      ) -> None:
    api, _ = probed
    body = assert_error(api.get("/v1/_probe/refused"), 422, "invalid_request")
    assert "value too long" in body["message"]
    assert "INSERT" not in body["message"], "no SQL in answers"


def test_pages_follow_the_cursor_to_the_end(probed: tuple[ApiHarness, list[str]]) -> None:
    api, _ = probed
    seen, cursor, pages = [], None, 0
    while True:
        params: dict[str, str | int] = {"limit": 3, **({"cursor": cursor} if cursor else {})}
        page = api.get("/v1/_probe/numbers", params=params).json()
        seen += page["items"]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [1, 2, 3, 4, 5, 6, 7]
    assert pages == 3


def test_a_forged_cursor_or_limit_is_refused(probed: tuple[ApiHarness, list[str]]) -> None:
    api, _ = probed
    for forged in ("bm9wZQ", encode_cursor(2**31), encode_cursor(-1)):
        assert_error(api.get("/v1/_probe/numbers", params={"cursor": forged}), 400,
                     "invalid_cursor")
    assert_error(api.get("/v1/_probe/numbers", params={"limit": 0}), 422, "invalid_request")
    assert_error(api.get("/v1/_probe/numbers", params={"limit": 501}), 422,
                 "invalid_request")


def test_a_retried_create_with_its_key_creates_once(probed: tuple[ApiHarness, list[str]]
                                                    ) -> None:
    api, made = probed
    key = {"Idempotency-Key": "3f1b9c1e-retry"}
    first = api.post("/v1/_probe/things", json={"name": "ann"}, headers=key)
    again = api.post("/v1/_probe/things", json={"name": "ann"}, headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert made == ["ann"]
    other = api.post("/v1/_probe/things", json={"name": "bob"}, headers=key)
    assert_error(other, 422, "idempotency_key_reused")
    assert made == ["ann"]
    assert api.post("/v1/_probe/things", json={"name": "ann"}).status_code == 201
    assert made == ["ann", "ann"], "without a key, each request creates"


def test_keys_belong_to_one_token(probed: tuple[ApiHarness, list[str]]) -> None:
    api, made = probed
    key = {"Idempotency-Key": "shared"}
    api.post("/v1/_probe/things", as_="write", json={"name": "ann"}, headers=key)
    api.post("/v1/_probe/things", as_="admin", json={"name": "ann"}, headers=key)
    assert made == ["ann", "ann"]


def test_a_failed_create_releases_its_key(probed: tuple[ApiHarness, list[str]]) -> None:
    api, made = probed
    key = {"Idempotency-Key": "k-boom"}
    assert_error(api.post("/v1/_probe/things", json={"name": "boom"}, headers=key), 500,
                 "internal_error")
    fixed = api.post("/v1/_probe/things", json={"name": "fixed"}, headers=key)
    assert fixed.status_code == 201, "a failure is not kept: the client may fix and retry"
    assert made == ["fixed"]


def test_the_cli_makes_lists_and_revokes_tokens(database_url: str,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEQUENCER_DATABASE_URL", database_url)
    runner = CliRunner()
    made = runner.invoke(cli, ["token", "create", "crm sync", "--scope", "write",
                               "--rate", "120"])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[0]
    assert secret.startswith("sqt_")
    listed = runner.invoke(cli, ["token", "list"])
    assert "crm sync" in listed.output
    assert secret not in listed.output, "a secret is shown once, never listed"
    assert runner.invoke(cli, ["token", "revoke", "1"]).exit_code == 0
    assert "revoked" in runner.invoke(cli, ["token", "list"]).output
    refused = runner.invoke(cli, ["token", "create", " ", "--scope", "write"])
    assert refused.exit_code != 0
    assert "name" in refused.output
