"""Processes that cross domains. Each flow calls the domains' services (which never commit), owns
the transaction, and enqueues follow-up jobs only after its commit (through app.jobs).

- submit.py       a label arrives: store it, maybe queue a retrain
- training.py     request a model version; run its training (job `labelwise.train`)
- scoring.py      score the open tasks in chunks and rank them (jobs `labelwise.score`, `labelwise.rank`)
- uploads.py      images arrive: store them and put their tasks in the queue
- housekeeping.py periodic jobs (expired leases)
- router.py       the JSON routes that start these flows
"""
