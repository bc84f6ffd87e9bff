"""A slash command's delivery is claimed after its ack: a repeat is still answered only once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import sqlalchemy as sa

from bot.store.ledger import ledger_engine
from tests.support.harness import SlackEnv


def receipts(env: SlackEnv) -> set[str]:
    with ledger_engine(env.engine).connect() as conn:  # an SQLite store keeps it in its own file
        return set(conn.execute(sa.text("SELECT delivery_key FROM slack_delivery_receipt")).scalars())


def test_repeats_sent_together_are_answered_once_and_recorded(slack_env: SlackEnv) -> None:
    driver = slack_env.driver
    fields = driver.slash_fields("help")
    path = urlsplit(fields["response_url"]).path
    with ThreadPoolExecutor(max_workers=4) as pool:  # no waiting for the first answer this time
        sent = list(pool.map(lambda n: driver.post_form(fields, retry_num=n or None), range(4)))
    assert [r.status for r in sent] == [200] * 4
    slack_env.stand_in.wait_for("response_url", lambda c: c.path == path)
    driver.slash_reply("help")  # a later request, answered after the repeats were dealt with
    assert len([c for c in slack_env.stand_in.calls_to("response_url") if c.path == path]) == 1
    assert f"trigger:{fields['trigger_id']}" in receipts(slack_env)  # recorded for other replicas
