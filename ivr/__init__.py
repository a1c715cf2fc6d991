"""hotline's IVR: one package per idea; arrows run down this list, never back up.

- ``drivers/`` — turn the IVR's commands into I/O: ``console`` (scripted or typed keys),
  ``ami/`` (Asterisk over AMI/AsyncAGI), ``sip/`` (a SIP endpoint, no Asterisk needed).
- ``call/`` — one call: the sans-IO ``machine``, the driver ``protocol``, the machine's
  ``requests`` to the outside, the ``session`` that runs a call and its database ``services``,
  announced ``waits`` and ``callbacks``.
- ``voice/`` — what a caller hears: ``prompts`` (texts → WAV) and ``speech`` (numbers, dates,
  waits as prompt ids).
- ``dialplan/`` — behaviour as data: ``numbers``, ``schedule``, ``model`` (routing), ``menus``,
  ``yamlconf`` (validated YAML), ``asterisk`` (config export), ``cli``.
- ``citizens/`` — who calls: ``checksums`` (SNILS/INN/passport), ``registry``, ``secret``,
  ``otp``, ``sms``, ``cli``.
- ``store/`` — the one database: models, ``timestamps`` (UTC in, UTC out), migrations.

``cli`` (the ``hotline`` command) and ``logs`` (structlog with masking) sit on top. ``ivr`` may
import ``queue_engine``; ``queue_engine`` never imports ``ivr``.
"""
