"""Identity's workflows on the time-skipping server: lockout that ends by itself, reset
links that expire and work once, the last owner kept, settings that reach the store, and
state carried across continue-as-new."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from temporalio.worker import Worker

from domains.identity import client as identity
from domains.identity import reads
from domains.identity.client import IdentityError
from domains.identity.messages import SaveAddress, UpdateProfile
from domains.identity.queue import TASK_QUEUE as IDENTITY_QUEUE
from domains.identity.roles import Role
from domains.identity.shop_settings import ShopSettings, read_shop_settings
from domains.identity.workflows import MAX_CHANGES_PER_RUN
from domains.shared import Address
from infra.store.sqlite import SqliteStore
from workers.registry import QUEUES, Dependencies


@pytest.fixture
async def identity_env(skipping, tmp_path):
    store = SqliteStore(tmp_path / "store.sqlite3")
    store.create_schema()
    spec = QUEUES[IDENTITY_QUEUE](Dependencies(store=store, index=None, client=skipping.client))
    with ThreadPoolExecutor(4) as executor:
        async with Worker(skipping.client, task_queue=IDENTITY_QUEUE, workflows=spec.workflows,
                          activities=spec.activities, activity_executor=executor):
            yield skipping, store


def email() -> str:
    return f"ada-{uuid.uuid4().hex[:6]}@example.com"


async def test_five_failures_lock_the_shopper_out_until_the_lock_runs_out(identity_env):
    env, store = identity_env
    shopper = await identity.sign_up(env.client, email(), "Ada", "hash-1")
    for n in range(1, 5):
        outcome = await identity.record_shopper_sign_in(env.client, shopper.shopper_id, False)
        assert outcome.failures == n and outcome.locked_until is None
    locked = await identity.record_shopper_sign_in(env.client, shopper.shopper_id, False)
    assert locked.locked_until is not None
    assert reads.shopper(store, shopper.shopper_id).credentials.locked_until == locked.locked_until
    with pytest.raises(IdentityError) as refused:
        await identity.record_shopper_sign_in(env.client, shopper.shopper_id, True)
    assert refused.value.code == "AccountLocked"

    await env.sleep(timedelta(minutes=16))
    welcome = await identity.record_shopper_sign_in(env.client, shopper.shopper_id, True)
    assert welcome.succeeded and welcome.failures == 0 and welcome.locked_until is None


async def test_a_reset_link_works_once_and_expires(identity_env):
    env, store = identity_env
    shopper = await identity.sign_up(env.client, email(), "Ada", "hash-1")
    with pytest.raises(IdentityError) as duplicate:
        await identity.sign_up(env.client, shopper.email.upper(), "Eve", "hash-x")
    assert duplicate.value.code == "EmailTaken"

    token = await identity.request_password_reset(env.client, shopper.shopper_id, valid_seconds=3600)
    after = await identity.reset_password(env.client, shopper.shopper_id, token, "hash-2")
    assert after.epoch == shopper.epoch + 1  # sessions signed in before the reset end
    assert reads.shopper(store, shopper.shopper_id).credentials.password_hash == "hash-2"
    with pytest.raises(IdentityError) as reused:
        await identity.reset_password(env.client, shopper.shopper_id, token, "hash-3")
    assert reused.value.code == "InvalidResetLink"

    stale = await identity.request_password_reset(env.client, shopper.shopper_id, valid_seconds=600)
    await env.sleep(timedelta(minutes=11))
    with pytest.raises(IdentityError) as expired:
        await identity.reset_password(env.client, shopper.shopper_id, stale, "hash-4")
    assert expired.value.code == "InvalidResetLink"
    assert reads.shopper(store, shopper.shopper_id).credentials.password_hash == "hash-2"


async def test_the_shop_keeps_an_active_owner(identity_env):
    env, store = identity_env
    owner = await identity.create_staff(env.client, email(), Role.OWNER, "h", "cli:test")
    with pytest.raises(IdentityError) as alone:
        await identity.change_role(env.client, store, owner.staff_id, Role.MANAGER, "staff:x")
    assert alone.value.code == "LastOwner"
    with pytest.raises(IdentityError):
        await identity.set_staff_active(env.client, store, owner.staff_id, False, "staff:x")
    second = await identity.create_staff(env.client, email(), Role.OWNER, "h", f"staff:{owner.email}")
    demoted = await identity.change_role(env.client, store, owner.staff_id, Role.MANAGER, f"staff:{second.email}")
    assert demoted.role == Role.MANAGER and reads.staff(store, owner.staff_id).role == "manager"
    actions = [(e.action, e.actor) for e in reads.audit_log(store)]
    assert ("staff.role_changed", f"staff:{second.email}") in actions


async def test_settings_changes_are_saved_and_audited(identity_env):
    env, store = identity_env
    wanted = ShopSettings(shop_name="Tee Time", tax_bp_by_region={"OR": 0, "CA": 800}, low_stock_threshold=3)
    saved = await identity.change_settings(env.client, store, wanted, "staff:boss@example.com")
    assert saved.changed_by == "staff:boss@example.com" and saved.changed_at is not None
    stored = read_shop_settings(store)
    assert (stored.shop_name, stored.tax_bp_by_region, stored.low_stock_threshold) == ("Tee Time", {"OR": 0,
                                                                                                    "CA": 800}, 3)
    (entry,) = [e for e in reads.audit_log(store) if e.action == "settings.changed"]
    assert "shop_name" in entry.detail and "tax_bp_by_region" in entry.detail and "currency" not in entry.detail


async def test_a_shopper_outlives_continue_as_new_with_everything(identity_env):
    env, _store = identity_env
    shopper = await identity.sign_up(env.client, email(), "Ada", "hash-1")
    home = Address(email=shopper.email, first_name="Ada", last_name="L", address1="1 Way", city="Portland",
                   state="OR", postal_code="97201", country="US")
    await identity.save_address(env.client, shopper.shopper_id, SaveAddress(label="home", address=home))
    handle = env.client.get_workflow_handle(f"shopper-{shopper.shopper_id}")
    first_run = (await handle.describe()).run_id
    for n in range(MAX_CHANGES_PER_RUN):
        await identity.update_profile(env.client, shopper.shopper_id, UpdateProfile(name=f"Ada {n}"))
    view = await identity.shopper_view(env.client, shopper.shopper_id)
    assert (await handle.describe()).run_id != first_run
    assert view.name == f"Ada {MAX_CHANGES_PER_RUN - 1}" and [a.label for a in view.addresses] == ["home"]
    assert view.addresses[0].is_default and view.epoch == shopper.epoch
