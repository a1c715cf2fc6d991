"""Records that keep the law (SPEC §7, §8): what is kept, for how long, and who may see it.

``recordings`` (call audio with consent, encrypted at rest; auditor-only access, each access
audited), ``retention`` (per record kind, from ``dialplans/retention.yaml``: expired audio and
personal fields deleted, anonymised statistics kept), ``tickets`` (written requests with deadline
classes in working time and the holiday calendar; status and reopening by number), ``keys``
(re-encrypting personal fields under a new key in resumable batches), ``export`` (a caller's
copy of their call within 30 days), ``factors`` (control questions and e-mail confirmation
requests: identification where the SMS code cannot be delivered), ``access`` (the auditor role and the audit log as plain
functions for the web pages), ``cli`` (``hotline records|retention|keys|audit|tickets …``).
"""
