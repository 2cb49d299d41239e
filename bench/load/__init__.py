"""Load benchmark of the intake web tier: the partner API and the public form on gunicorn.

Run ``python -m bench.load`` (``make bench`` runs it as one section). For SQLite and for a
private PostgreSQL, it starts a private Redis, ``openfloor web`` (gunicorn, 2 workers x 8
threads) and a bare Flask JSON endpoint on gunicorn with the same workers and threads, then
measures in the same run:

* the bare endpoint and the API at full speed (wrk, 16 connections, unique ``external_id``s);
* the API at a fixed 200 submissions/s (open loop: latency counted from the planned send
  time, so a stall is not hidden);
* the real form: GET the question page, wait out the bot time trap, POST it with its CSRF
  and form tokens, then POST the check page (the database write and the enqueue);
* peak RSS of the web processes, then of two ``openfloor worker`` processes draining the
  backlog the runs left, and their questions/s.
"""
