from __future__ import annotations

# AuditEvent is deliberately not registered: the Django admin offers edit and delete.
