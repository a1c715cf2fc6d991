"""Behaviour as data: everything under ``dialplans/`` is loaded, validated and routed here.

``numbers`` (every notation of a Russian number → one form), ``schedule`` (Moscow-time hours,
holidays, ``--at`` parsing), ``yamlconf`` (YAML with line marks, errors as file:line: key:
message), ``menus`` (the voice menus and their prompt ids), ``model`` (the dialplan and
``route()``: number + moment → line, region, schedule, menu), ``asterisk`` (extensions.conf,
queues.conf and manager.conf from the same YAML), ``asterisk_queues`` (app_queue settings from
``asterisk.yaml``; teams, penalties and queue rules from the simulator's routing),
``asterisk_senior`` (the senior group agents escalate to by a blind transfer), ``cli``
(``hotline dialplan …``).
Imports nothing else from ``ivr``.
"""
