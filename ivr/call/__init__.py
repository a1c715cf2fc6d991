"""One call, from answer to outcome.

``machine`` is the sans-IO IVR state machine: it takes driver events (``protocol``: answered,
digits, timeout, hang-up) and returns commands (play, collect, enqueue, hang up) and
``requests`` to the outside (identify, send a code, read a status, record the outcome).
``session`` runs a machine for a driver and answers its requests through ``services`` (the
database, SMS); ``waits`` estimates the wait announced before queueing; ``callbacks`` keeps the
callback requests and ``callback_legs`` places them for any dialler (claim, settle, the answered
leg); ``writes`` hands the outcome row to the writer thread. Drivers (``ivr.drivers``) sit above; ``voice``, ``dialplan``, ``citizens`` and
``store`` below.
"""
