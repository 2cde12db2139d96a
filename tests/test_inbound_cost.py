"""What a WhatsApp message costs the database (issue 13): its webhook, the engine's answer and
the status webhooks of the replies, counted as transactions through the real web app."""

from __future__ import annotations

import itertools

import pytest
import sqlalchemy as sa

from tests.whatsapp_chat import whatsapp_bot

# The engine's transaction, the language read before sending, the body kept, the body
# marked processed and one per status webhook (sent and delivered for each reply), with
# room for a group commit that happens to split differently. Before issue 13 each status
# body alone took three (kept, claimed, recorded and marked).
MOST_PER_MESSAGE = 4
WORKER_ROUNDS = 2  # the harness's two worker rounds, each one claim that finds nothing


@pytest.fixture
async def whatsapp(app):
    async with whatsapp_bot(app, templates={}, approved_templates={}) as harness:
        yield harness


async def test_a_message_and_its_replies_statuses_take_few_transactions(whatsapp, app) -> None:
    siti = whatsapp.graph.person(wa_id="6281234567890", name="Siti")
    commits = itertools.count()
    sa.event.listen(app.database, "commit", lambda _: next(commits))
    await siti.send_text("halo")
    await whatsapp.process()
    replies = len(siti.inbox)
    statuses = len(whatsapp.graph.statuses())
    assert replies >= 1 and statuses == 2 * replies
    assert next(commits) <= MOST_PER_MESSAGE + statuses + WORKER_ROUNDS  # 15 before
