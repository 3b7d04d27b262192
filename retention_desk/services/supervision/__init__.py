"""What supervisors watch: the offer log and one call's record (``offer_log``), the save-rate dashboards
(``dashboards``), the approval queue (``approval_queue``), the models' health (``model_health``), and the audit
log and users (``oversight``)."""
