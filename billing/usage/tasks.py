"""Celery tasks of usage ingestion: thin and idempotent, each takes a pk and calls one service."""

from __future__ import annotations

from celery import shared_task

from billing.usage.models import UsageBatchChunk
from billing.usage.services import (
    usage_chunk_process,
    usage_partitions_ensure,
    usage_uploads_clean,
)


@shared_task(acks_late=True)
def usage_chunk_process_task(chunk_pk: int) -> str:
    """Load one chunk of a usage file (a chunk already done is left alone, so a redelivered
    task is harmless)."""
    chunk = UsageBatchChunk.objects.select_related("batch").get(pk=chunk_pk)
    return usage_chunk_process(chunk=chunk).status


@shared_task
def usage_partitions_ensure_task() -> list[str]:
    return usage_partitions_ensure()


@shared_task
def usage_uploads_clean_task() -> int:
    return usage_uploads_clean()
