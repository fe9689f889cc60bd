"""A production-like Likeness on one machine, for scripts/cluster, bench/cluster.py and the
tests: PostgreSQL-backed web processes (gunicorn), db_worker processes, Redis, an S3 server
(moto) and the Together fake, all on 127.0.0.1, started and stopped by `Cluster`."""
