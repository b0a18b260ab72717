"""Town services on the residents: opt-ins, notices, surveys and their answers, the FAQ bot's hand-overs and misses.

Revision ID: 0011_town_services
Revises: 0010_garbage_calendars
Create Date: 2026-12-04 18:48:08.133318
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import common.db

revision = "0011_town_services"
down_revision = "0010_garbage_calendars"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "town_faq_misses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("asked_at", common.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_town_faq_misses")),
    )
    op.create_index(
        op.f("ix_town_faq_misses_asked_at"), "town_faq_misses", ["asked_at"], unique=False
    )
    op.create_table(
        "town_faq_tickets",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("question", sa.String(length=500), nullable=False),
        sa.Column("resident_id", sa.String(length=24), nullable=True),
        sa.Column("line_user_id", sa.String(length=64), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("created_at", common.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("closed_at", common.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_by", sa.String(length=24), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_town_faq_tickets")),
    )
    op.create_index(
        op.f("ix_town_faq_tickets_created_at"), "town_faq_tickets", ["created_at"], unique=False
    )
    op.create_index(
        op.f("ix_town_faq_tickets_resident_id"), "town_faq_tickets", ["resident_id"], unique=False
    )
    op.create_index(
        op.f("ix_town_faq_tickets_status"), "town_faq_tickets", ["status"], unique=False
    )
    op.create_table(
        "town_notices",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("body", sa.String(length=2000), nullable=False),
        sa.Column("segment", sa.JSON(), nullable=False),
        sa.Column("emergency", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("send_at", common.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=24), nullable=False),
        sa.Column("created_at", common.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", common.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("recipients", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_town_notices")),
    )
    op.create_index(op.f("ix_town_notices_status"), "town_notices", ["status"], unique=False)
    op.create_table(
        "town_surveys",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("title", sa.String(length=80), nullable=False),
        sa.Column("intro", sa.String(length=1000), nullable=False),
        sa.Column("questions", sa.JSON(), nullable=False),
        sa.Column("segment", sa.JSON(), nullable=False),
        sa.Column("anonymous", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("closes_at", common.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=24), nullable=False),
        sa.Column("created_at", common.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_town_surveys")),
    )
    op.create_index(op.f("ix_town_surveys_status"), "town_surveys", ["status"], unique=False)
    op.create_table(
        "town_subscriptions",
        sa.Column("resident_id", sa.String(length=24), nullable=False),
        sa.Column("service", sa.String(length=16), nullable=False),
        sa.Column("options", sa.JSON(), nullable=False),
        sa.Column("started_at", common.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["resident_id"],
            ["residents.id"],
            name=op.f("fk_town_subscriptions_resident_id_residents"),
        ),
        sa.PrimaryKeyConstraint("resident_id", "service", name=op.f("pk_town_subscriptions")),
    )
    op.create_table(
        "town_survey_responses",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("survey_id", sa.String(length=24), nullable=False),
        sa.Column("respondent_key", sa.String(length=64), nullable=False),
        sa.Column("resident_id", sa.String(length=24), nullable=True),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("started_at", common.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("completed_at", common.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["town_surveys.id"],
            name=op.f("fk_town_survey_responses_survey_id_town_surveys"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_town_survey_responses")),
        sa.UniqueConstraint(
            "survey_id", "respondent_key", name=op.f("uq_town_survey_responses_survey_id")
        ),
    )
    op.create_index(
        op.f("ix_town_survey_responses_survey_id"),
        "town_survey_responses",
        ["survey_id"],
        unique=False,
    )


def downgrade() -> None:

    op.drop_index(op.f("ix_town_survey_responses_survey_id"), table_name="town_survey_responses")
    op.drop_table("town_survey_responses")
    op.drop_table("town_subscriptions")
    op.drop_index(op.f("ix_town_surveys_status"), table_name="town_surveys")
    op.drop_table("town_surveys")
    op.drop_index(op.f("ix_town_notices_status"), table_name="town_notices")
    op.drop_table("town_notices")
    op.drop_index(op.f("ix_town_faq_tickets_status"), table_name="town_faq_tickets")
    op.drop_index(op.f("ix_town_faq_tickets_resident_id"), table_name="town_faq_tickets")
    op.drop_index(op.f("ix_town_faq_tickets_created_at"), table_name="town_faq_tickets")
    op.drop_table("town_faq_tickets")
    op.drop_index(op.f("ix_town_faq_misses_asked_at"), table_name="town_faq_misses")
    op.drop_table("town_faq_misses")
