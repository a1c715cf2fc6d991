"""Supervisor web app: live queue pages, hourly view, what-if, JSON API, metrics, access.

``ivr.web.app.create_app`` builds the ASGI app ``hotline serve`` mounts; ``ivr.web.users``
holds the accounts (argon2 hashes, roles, API tokens); ``ivr.web.live`` the ``LiveSource``
protocol the running service's board implements.
"""
