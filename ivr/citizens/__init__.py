"""Who calls and how they prove it: ``checksums`` (SNILS, INN, passport: reject mistyped input at
once), ``registry`` (citizens and applications, looked up by keyed hashes; lockouts), ``secret``
(the server key every keyed hash derives from), ``otp`` (one-time codes, stored only as HMACs),
``sms`` (the gateway and the embedded outbox), ``cli`` (``hotline registry …``, ``hotline sms …``).
"""
