"""Accounts from a billing system's CSV file: the mapping file (``mapping``), one row at a time (``rows``), and
the all-or-nothing import (``accounts``)."""
