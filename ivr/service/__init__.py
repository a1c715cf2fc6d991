"""The running hotline: ``hotline serve`` / ``demo`` / ``stats`` — one process, one event loop.

It sits on top of the other packages and wires them: ``clock`` (real or accelerated time),
``writer`` (call records written by one thread, batched, off the loop), ``acd`` (the IVR's
``Enqueue`` → the live ACD of ``queue_engine.acd`` → each queued call's true final outcome;
``transfer``: a connected call escalated to a senior group),
``agents`` (virtual agents as a SIP caller meets them: hold prompts, "agent 17" answers),
``board`` (the live figures the dashboard and ``hotline stats`` read), ``demo`` (the default
scenario's calls through the real IVR machine), ``callbacks`` (the embedded callback dialler:
virtual hold in the live ACD, dialled through an outbound route), ``retention_job`` (the
daily retention run at retention.yaml's ``daily_at``, in a worker thread) and ``virtual_citizens`` (the
demo's phones it rings), ``serve`` (wiring, start-up banner, graceful
stop), ``stats`` (the terminal table), ``cli`` (the three commands).
"""
