"""Bedrock batch inference for `run --batch` and `test --batch`: what goes to batch (plan.py),
records and their ids (records.py), S3 (s3.py), model invocation jobs (jobs.py), the run's
jobs kept in the store (state.py), output joined back into Results (collect.py), and one run
start to end (service.py). The quotas and the shapes Bedrock takes are in shapes.py."""
