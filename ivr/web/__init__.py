"""Supervisor web app: live queue board, hourly view, what-if, JSON API, metrics, access.

``app`` builds the ASGI app ``hotline serve`` mounts (``create_app``; Starlette), ``context``
what every handler shares (state, who is asking, the role gate, audit rows, rendering),
``pages`` the HTML pages (login, board, hourly, what-if), ``transfers`` a call's record page
and the escalation API (``POST /api/calls/{id}/transfer``), ``api`` the machine side
(server-sent events, ``/api/queues``, ``/api/hourly``, ``/metrics``), ``records`` the auditor's pages,
``auth`` sessions, CSRF and the failed-login throttle, ``users`` the accounts (argon2 hashes,
roles, API tokens, the first-run admin), ``live`` the ``LiveSource`` protocol the service's
board implements, ``hourly`` the day's report beside forecast and bands, ``svg`` the inline
charts, ``metrics`` the Prometheus collector, ``whatif`` the default what-if (simulator in a
worker process), ``cli`` ``hotline user``, ``records_cli`` ``hotline records`` (its user
logs in with an account; the role comes from it). Templates and static files (no JS library: the
browser's EventSource) are served from this package — the dashboard works offline.
"""
