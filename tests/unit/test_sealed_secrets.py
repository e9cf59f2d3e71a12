"""Secrets at rest (kit/sealing.py): webhook signing secrets are stored sealed with a key from
settings, a replayed create never answers the secret, keys rotate (newest first, older ones still
open, a reseal moves everything to the newest), plaintext rows from before are sealed at start-up,
and production refuses to run without a key of its own."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from standardwebhooks import Webhook

from sanpi.events import Severity
from sanpi.kit import Database
from sanpi.kit.migrations import upgrade
from sanpi.kit.sealing import SecretBox, SecretUnavailable, key_id, new_key
from sanpi.notification.channels.webhook import new_secret
from sanpi.notification.migrations import MIGRATIONS
from sanpi.notification.settings import DEV_SECRET_KEY, NotificationSettings
from tests.support.notification import Harness, alert, harness, harness_settings
from tests.support.sink import Received, WebhookSink
from tests.support.waiting import eventually

OLD, NEW = new_key(), new_key()


@pytest.fixture
def sink() -> Iterator[WebhookSink]:
    receiver = WebhookSink().start()
    yield receiver
    receiver.stop()


async def stored(h: Harness, sql: str, **params: Any) -> list[Any]:
    async with h.runtime.db.read() as session:
        connection = await session.connection()
        return list((await connection.execute(text(sql), params)).all())


async def secret_column(h: Harness, subscription_id: str) -> str:
    [(value,)] = await stored(
        h, "SELECT secret FROM subscription WHERE id = :id", id=subscription_id
    )
    return str(value)


async def webhook_subscription(h: Harness, sink: WebhookSink) -> tuple[str, str]:
    """A webhook subscription to `sink`: its id and its secret as the create answered it."""
    created = await h.client.post("/v1/subscriptions", json={"channel": "webhook", "url": sink.url})
    assert created.status_code == 201, created.text
    return created.json()["id"], created.json()["secret"]


async def test_a_signing_secret_is_stored_sealed_and_still_signs(
    tmp_path: Path, sink: WebhookSink
) -> None:
    async with harness(tmp_path, secret_keys=[OLD]) as h:
        subscription_id, plain = await webhook_subscription(h, sink)
        assert plain.startswith("whsec_")
        column = await secret_column(h, subscription_id)
        assert column.startswith(f"fernet:{key_id(OLD)}:")
        assert plain not in column
        assert plain.removeprefix("whsec_") not in column
        await h.feed(alert(Severity.RED))
        [received] = await eventually(sink.accepted, what="the webhook")
        assert Webhook(plain).verify(received.body, received.headers)
        # Rotation: the new secret is sealed too, and so is the previous one it keeps.
        rotated = await h.client.post(f"/v1/subscriptions/{subscription_id}/rotate-secret")
        assert rotated.json()["secret"].startswith("whsec_")
        [(secret, previous)] = await stored(
            h,
            "SELECT secret, previous_secret FROM subscription WHERE id = :id",
            id=subscription_id,
        )
        assert secret.startswith("fernet:")
        assert previous == column


async def test_a_replayed_create_does_not_answer_the_secret(tmp_path: Path) -> None:
    async with harness(tmp_path) as h:
        body = {"channel": "webhook", "url": "http://127.0.0.1:9/hook"}
        key = {"Idempotency-Key": "create-webhook-1"}
        first = await h.client.post("/v1/subscriptions", json=body, headers=key)
        assert first.status_code == 201, first.text
        assert first.json()["secret"].startswith("whsec_")
        assert first.json()["secret_redacted"] is False
        replay = await h.client.post("/v1/subscriptions", json=body, headers=key)
        assert replay.status_code == 201
        assert replay.headers["idempotent-replayed"] == "true"
        assert replay.json()["id"] == first.json()["id"]
        assert replay.json()["secret"] is None
        assert replay.json()["secret_redacted"] is True
        kept = await stored(h, "SELECT response_body FROM idempotent_request")
        assert kept
        assert not any("whsec_" in row[0] for row in kept)


async def test_keys_rotate_newest_first_and_a_reseal_moves_everything_to_the_newest(
    tmp_path: Path, sink: WebhookSink
) -> None:
    async with harness(tmp_path, secret_keys=[OLD]) as h:
        subscription_id, plain = await webhook_subscription(h, sink)
    # Step 2 of the rotation: the new key in front, the old one still there. The start-up pass
    # reseals what the old key sealed; the webhook still verifies with the secret of the create.
    async with harness(tmp_path, secret_keys=[NEW, OLD]) as h:

        async def resealed() -> bool:
            return (await secret_column(h, subscription_id)).startswith(f"fernet:{key_id(NEW)}:")

        await eventually(resealed, what="the secret resealed with the new key")
        await h.feed(alert(Severity.RED))
        [received] = await eventually(sink.accepted, what="the webhook")
        assert Webhook(plain).verify(received.body, received.headers)
    # Step 4: the old key gone, nothing lost.
    async with harness(tmp_path, secret_keys=[NEW]) as h:
        await h.feed(alert(Severity.RED))

        def second() -> list[Received]:
            return sink.accepted()[1:]

        [again] = await eventually(second, what="the second webhook")
        assert Webhook(plain).verify(again.body, again.headers)


async def test_a_secret_no_configured_key_opens_fails_the_attempt_and_nothing_goes_unsigned(
    tmp_path: Path, sink: WebhookSink
) -> None:
    async with harness(tmp_path, secret_keys=[OLD]) as h:
        await webhook_subscription(h, sink)
    async with harness(tmp_path, secret_keys=[NEW]) as h:
        await h.feed(alert(Severity.RED))

        async def failed() -> list[dict[str, Any]]:
            # The claim counts the attempt before it is made; its error is written after it.
            return [d for d in await h.deliveries() if d["attempts"] and d["last_error"]]

        [delivery] = await eventually(failed, what="the failed attempt")
        assert "cannot be opened" in delivery["last_error"]
        assert sink.received == []


async def test_plaintext_rows_from_before_are_sealed_and_replays_lose_their_secret(
    tmp_path: Path, sink: WebhookSink
) -> None:
    """A database written before sealing: the migration clears the secret from the replayable
    answers; the service seals the plaintext secrets when it starts."""
    settings = harness_settings(tmp_path)
    plain = new_secret()
    db = Database(settings.effective_database_url)
    try:
        await upgrade(db, MIGRATIONS, revision="b8d1dcf4302d")
        async with db.transaction() as uow:
            session = uow.session
            connection = await session.connection()
            await connection.execute(
                text(
                    "INSERT INTO subscription (id, owner, channel, url, secret, event_types, "
                    "parks, chain_tags, categories, periods, project_ids, language, "
                    "escalation_contacts, active, consecutive_failures, version, created_at, "
                    "updated_at) VALUES ('old-1', 'officer', 'WEBHOOK', :url, :secret, '[]', "
                    "'[]', '[]', '[]', '[]', '[]', 'ZH', '{}', true, 0, 1, "
                    "'2023-01-01 00:00:00', '2023-01-01 00:00:00')"
                ),
                {"url": sink.url, "secret": plain},
            )
            await connection.execute(
                text(
                    "INSERT INTO idempotent_request (subject, scope, key, request_hash, "
                    "status_code, response_body, headers, created_at) VALUES ('officer', "
                    "'POST /v1/subscriptions', 'k1', 'h', 201, :body, '{}', "
                    "'2023-01-01 00:00:00')"
                ),
                {"body": json.dumps({"id": "old-1", "secret": plain})},
            )
        await upgrade(db, MIGRATIONS)
    finally:
        await db.dispose()
    async with harness(tmp_path) as h:
        [(body,)] = await stored(h, "SELECT response_body FROM idempotent_request")
        assert json.loads(body) == {"id": "old-1", "secret": None, "secret_redacted": True}

        async def sealed() -> bool:
            return (await secret_column(h, "old-1")).startswith("fernet:")

        await eventually(sealed, what="the plaintext secret sealed at start-up")
        assert plain not in await secret_column(h, "old-1")
        await h.feed(alert(Severity.RED))
        [received] = await eventually(sink.accepted, what="the webhook")
        assert Webhook(plain).verify(received.body, received.headers)


@pytest.mark.db_independent
def test_the_box_names_the_key_a_value_needs() -> None:
    box = SecretBox([NEW, OLD])
    sealed_old = SecretBox([OLD]).seal("whsec_x")
    assert box.open(sealed_old) == "whsec_x"
    assert box.needs_resealing(sealed_old)
    assert not box.needs_resealing(box.reseal(sealed_old))
    assert box.open("whsec_legacy") == "whsec_legacy"
    with pytest.raises(SecretUnavailable, match=key_id(OLD)):
        SecretBox([NEW]).open(sealed_old)
    tampered = sealed_old[:-6] + ("A" if sealed_old[-6] != "A" else "B") + sealed_old[-5:]
    with pytest.raises(SecretUnavailable, match="does not verify"):
        box.open(tampered)
    # Sealing the same secret twice gives two different values (random IV).
    assert box.seal("whsec_x") != box.seal("whsec_x")


@pytest.mark.db_independent
def test_production_refuses_a_missing_or_development_key() -> None:
    def production(*keys: str) -> NotificationSettings:
        return NotificationSettings.model_validate(
            {"env": "production", "jwt_secret": "s" * 40, "secret_keys": list(keys)}
        )

    with pytest.raises(ValueError, match="secret_keys"):
        NotificationSettings(env="production", jwt_secret="s" * 40)
    with pytest.raises(ValueError, match="secret_keys"):
        production()
    with pytest.raises(ValueError, match="secret_keys"):
        production(NEW, DEV_SECRET_KEY)
    with pytest.raises(ValueError, match="32 random bytes"):
        NotificationSettings.model_validate({"secret_keys": ["not-a-key"]})
    assert production(NEW).secret_box.newest == key_id(NEW)


async def test_a_contacts_robot_secret_is_sealed_and_resealed_with_the_newest_key(
    tmp_path: Path,
) -> None:
    plain = "SEC" + "b" * 60
    async with harness(tmp_path, secret_keys=[OLD]) as h:
        created = await h.client.post(
            "/v1/contacts",
            json={
                "name": "王建国",
                "unit": "梧桐园区运营中心",
                "dingtalk_robot_url": "http://127.0.0.1:9/robot/send?access_token=t",
                "dingtalk_secret": plain,
            },
        )
        assert created.status_code == 201, created.text
        contact_id = created.json()["id"]
        [[sealed]] = await stored(
            h, "SELECT dingtalk_secret FROM notification_contact WHERE id = :i", i=contact_id
        )
        assert sealed.startswith(f"fernet:{key_id(OLD)}:")
        assert plain not in sealed
    async with harness(tmp_path, secret_keys=[NEW, OLD]) as h:

        async def resealed() -> bool:
            [[value]] = await stored(
                h, "SELECT dingtalk_secret FROM notification_contact WHERE id = :i", i=contact_id
            )
            return str(value).startswith(f"fernet:{key_id(NEW)}:")

        await eventually(resealed, what="the contact's secret resealed with the new key")
        [[value]] = await stored(
            h, "SELECT dingtalk_secret FROM notification_contact WHERE id = :i", i=contact_id
        )
        assert SecretBox([NEW]).open(value) == plain
