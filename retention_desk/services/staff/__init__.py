"""The people who use the desk: users with their roles and tiers (``users``) and signing in (``sign_in``)."""
