"""A customer's rights and retention: export and erase everything held about them.

Until cross-channel identity exists, a customer is their conversation id.
:mod:`.export` gathers what the service's database and Rasa's tracker store
hold; :mod:`.erase` removes the customer's words and personal data from both
and keeps only what the metrics count, anonymous; :mod:`.retention` erases
conversations idle longer than the configured days with the same code;
:mod:`.audit_hook` records both in the access records (``GET /api/audit``).
"""

from __future__ import annotations

from handoff.services.customers.erase import EraseCustomer, Erasure
from handoff.services.customers.export import export_customer
from handoff.services.customers.retention import Retention, RetentionReport

__all__ = ["EraseCustomer", "Erasure", "Retention", "RetentionReport", "export_customer"]
