"""`POST /JiraInstances/{ID}/Reconcile`: queue a re-read of the linked issues changed since the
last run (the worker applies any difference; counts go to CrmSyncLogs)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from app.api.deps import FormatDep, IdPath, SessionDep
from app.api.responses import formatted
from app.integration.inbound.reconcile import enqueue_reconcile
from app.integration.instances import get_instance

router = APIRouter(tags=["Jira integration"])


@router.post(
    "/JiraInstances/{ID}/Reconcile",
    status_code=202,
    responses={404: {"description": "No such Jira instance"}},
)
async def reconcile_instance(ID: IdPath, session: SessionDep, fmt: FormatDep) -> Response:
    instance = await get_instance(session, ID)
    job_id = await enqueue_reconcile(session, instance.id or 0)
    answer = {
        "JiraInstanceID": instance.id,
        "JobID": job_id,
        "Status": "Queued",
        "LastReconciled": instance.last_reconciled_at,
    }
    return formatted({"Reconcile": answer}, fmt, 202)
