"""The offer catalog and cancel reasons: the TOML files they are kept in (``files``), the database copy the desk
reads (``store``), and the supervisor's editor with its audit trail (``editor``)."""
