"""The synthetic subscriber world: a Nordic operator's accounts, bills, tickets and desk calls, and its ground truth.

Only this package knows the ground truth (``ground_truth``); everything else learns from the stored data.
"""
