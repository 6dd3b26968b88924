"""Back-office screens (filled in by the screen work; see docs/ARCHITECTURE.md)."""

from __future__ import annotations

from portal.admin import bp  # noqa: F401 - routes attach to the admin blueprint
