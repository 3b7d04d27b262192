"""The cancellation call, from the first screen to its disposition: the one service the desk, the API and the
simulator use.

- ``steps``: the verbs of a call (start, choose reason, present, answer, request approval, finish, process the
  cancellation), the only writer of calls, with the rule that an agent acts only on their own call.
- ``deciding``: what to offer a caller (eligibility, predictions, ranking), the one path to a ranked decision.
- ``state``: the call as the desk and the API show it after each step.
- ``approvals``: requests for offers above an agent's authority, and the decisions on them.
"""
