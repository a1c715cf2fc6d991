"""What a caller hears: ``prompts`` (prompt texts in ``dialplans/prompts.yaml`` → 8 kHz WAV in
``recordings/``) and ``speech`` (numbers, dates, clock times and waits as sequences of prompt ids).
"""
