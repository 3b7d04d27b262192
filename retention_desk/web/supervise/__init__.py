"""The supervisor's console: the offer log, dashboards, catalog editor, approvals, model health and the audit log.

One blueprint (``blueprint.bp``); each page's module registers its views on it when imported here.
"""

from retention_desk.web.supervise import approvals, audit, calls, catalog, dashboards, models  # noqa: F401
from retention_desk.web.supervise.blueprint import bp

__all__ = ["bp"]
