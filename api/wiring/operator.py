"""What an operator reaches: the audit trail, the verifier of the log's chain and books, and
the operations on the projectors (status, skips, replays, rebuilds)."""

from __future__ import annotations

from dataclasses import dataclass

from api.operations import Operations
from api.wiring.platform import Projections, Wiring
from api.wiring.search import SearchParts
from eventstore.verify import Verifier
from services.audit import AuditTrail, OperatorApplication


@dataclass
class OperatorParts:
    audit: AuditTrail
    verifier: Verifier
    operations: Operations


def wire_operator(wiring: Wiring, projections: Projections, search: SearchParts) -> OperatorParts:
    log = wiring.log
    return OperatorParts(
        audit=AuditTrail(log),
        verifier=Verifier(log),
        operations=Operations(
            log,
            wiring.read_store,
            search.search,
            OperatorApplication(log, on_recorded=wiring.recorded),
            projections.runners,
        ),
    )
