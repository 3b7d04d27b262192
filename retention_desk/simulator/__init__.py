"""``retention-desk simulate``: the desk's own call service, ranking and nightly retraining, run day by day against
the synthetic world's ground truth, next to simple policies and an oracle, on a scratch copy of the database.

- ``run``: the run loop (draw the day's callers, serve each through the call service, retrain at night).
- ``world``: the seeded world the run regenerates, and what happens to its accounts between calls.
- ``estimate``: each night's off-policy estimate of the serving policy.
- ``report``: the figures, the table and the chart.
"""
