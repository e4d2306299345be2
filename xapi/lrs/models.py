"""Tables of the embedded LRS (on XapiBase): statements, their relations, activities, documents."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    ForeignKey,
    Index,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from xapi.db import BigIntPk, XapiBase

TENANT_LENGTH = 100


class LrsStatement(XapiBase):
    """One stored statement: the exact JSON plus the columns its filters need, per tenant."""

    __tablename__ = "xapi_lrs_statement"
    __table_args__ = (
        UniqueConstraint("tenant", "statement_id"),
        # GET agent + verb + since: the compliance query and the benchmark target.
        Index("ix_xapi_lrs_statement_actor_verb", "tenant", "actor_key", "verb", "stored"),
        Index("ix_xapi_lrs_statement_stored", "tenant", "stored"),
        Index("ix_xapi_lrs_statement_verb", "tenant", "verb", "stored"),
        Index("ix_xapi_lrs_statement_activity", "tenant", "object_activity", "stored"),
        Index("ix_xapi_lrs_statement_registration", "tenant", "registration", "stored"),
        # Most objects are activities: partial indexes keep inserts cheap.
        Index(
            "ix_xapi_lrs_statement_object_agent",
            "tenant",
            "object_agent_key",
            "stored",
            postgresql_where=text("object_agent_key IS NOT NULL"),
            sqlite_where=text("object_agent_key IS NOT NULL"),
        ),
        Index(
            "ix_xapi_lrs_statement_object_ref",
            "tenant",
            "object_ref",
            postgresql_where=text("object_ref IS NOT NULL"),
            sqlite_where=text("object_ref IS NOT NULL"),
        ),
    )

    pk: Mapped[int] = mapped_column(BigIntPk, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    statement_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    stored: Mapped[datetime]
    verb: Mapped[str] = mapped_column(Text)
    actor_key: Mapped[str] = mapped_column(Text)
    object_activity: Mapped[str | None] = mapped_column(Text)
    object_agent_key: Mapped[str | None] = mapped_column(Text)
    object_ref: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    registration: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    voided: Mapped[bool] = mapped_column(default=False)
    content_hash: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)


class LrsStatementRelation(XapiBase):
    """An activity or agent a statement mentions beyond its object and actor (related_* filters)."""

    __tablename__ = "xapi_lrs_statement_relation"
    __table_args__ = (
        Index("ix_xapi_lrs_statement_relation_key", "tenant", "kind", "key", "statement_pk"),
    )

    # The composite key doubles as the index behind the foreign key.
    statement_pk: Mapped[int] = mapped_column(
        BigIntPk, ForeignKey("xapi_lrs_statement.pk", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(10), primary_key=True)
    key: Mapped[str] = mapped_column(Text, primary_key=True)
    tenant: Mapped[str] = mapped_column(String(TENANT_LENGTH))


class LrsAttachment(XapiBase):
    """Raw attachment content, addressed by its SHA-256 within a tenant."""

    __tablename__ = "xapi_lrs_attachment"
    __table_args__ = (UniqueConstraint("tenant", "sha2"),)

    pk: Mapped[int] = mapped_column(BigIntPk, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    sha2: Mapped[str] = mapped_column(String(128))
    content_type: Mapped[str] = mapped_column(Text)
    content: Mapped[bytes] = mapped_column(LargeBinary)


class LrsActivity(XapiBase):
    """The canonical definition of an activity, merged from the statements that mention it."""

    __tablename__ = "xapi_lrs_activity"
    __table_args__ = (UniqueConstraint("tenant", "iri"),)

    pk: Mapped[int] = mapped_column(BigIntPk, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    iri: Mapped[str] = mapped_column(Text)
    definition: Mapped[str] = mapped_column(Text, default="{}")


class LrsDocument(XapiBase):
    """A State, Activity Profile or Agent Profile document.

    Absent parts of the key are stored as "" so the unique constraint holds on every backend.
    """

    __tablename__ = "xapi_lrs_document"
    __table_args__ = (
        UniqueConstraint("tenant", "kind", "activity", "agent_key", "registration", "doc_id"),
        Index("ix_xapi_lrs_document_lookup", "tenant", "kind", "activity", "agent_key"),
    )

    pk: Mapped[int] = mapped_column(BigIntPk, primary_key=True, autoincrement=True)
    tenant: Mapped[str] = mapped_column(String(TENANT_LENGTH))
    kind: Mapped[str] = mapped_column(String(20))
    activity: Mapped[str] = mapped_column(Text, default="")
    agent_key: Mapped[str] = mapped_column(Text, default="")
    registration: Mapped[str] = mapped_column(String(36), default="")
    doc_id: Mapped[str] = mapped_column(Text)
    content_type: Mapped[str] = mapped_column(Text)
    content: Mapped[bytes] = mapped_column(LargeBinary)
    etag: Mapped[str] = mapped_column(String(64))
    updated: Mapped[datetime]
