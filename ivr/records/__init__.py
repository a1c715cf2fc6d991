"""Records that keep the law (SPEC §5, §7, §8): what is kept, for how long, who may see it.

``recordings`` (call audio with consent, encrypted at rest in a 0700 tree), ``access`` (only the
auditor lists, plays, exports; a caller's copy within 30 days; the audit log — plain functions
for the web pages and the CLI, every access audited), ``retention`` (per record kind, from
``dialplans/retention.yaml``: expired audio and personal fields deleted, statistics kept),
``tickets`` (written requests with deadline classes in working time and the holiday calendar;
status and reopening by number), ``keys`` (re-encrypting personal fields under a new key in
resumable batches), ``factors`` (control questions and e-mail confirmation requests, where the
SMS code cannot be delivered), ``transfers`` (escalations of connected calls to a senior
group: who, when, to whom, the history handed over), ``cli`` (``hotline
audit|keys|retention|records|tickets …``).
"""
