"""Hooks the trail offers to the apps above it. audit imports no domain app, so whatever a
broken chain should set off (e-mail to the administrators) is connected from above."""

from __future__ import annotations

from django.dispatch import Signal

# Sent inside the transaction that records "audit.verify.failed", with broken_id (int | None):
# the first event that no longer verifies. Receivers' writes commit or roll back with it.
chain_broken = Signal()
