"""The S3/R2 file store: django-storages' S3 backend with one boto3 resource per process.

django-storages makes a new boto3 session and resource in every thread that touches the
store, and keeps them in that thread. A generation saves its images from short-lived pool
threads, so every image paid for a fresh session: its JSON service models parsed again, about
0.2–1 s of CPU per image, two thirds of a worker's CPU in the production-like run
(bench/cluster.py). Here the resource is made once per process, under a lock, and shared.

Sharing it is what django-storages already does with the bucket (`S3Storage.bucket` is made
once per storage and used by every thread): every call goes through the resource's botocore
client, which is thread-safe, or makes a new Object for the call. A forked process (the
photo-check pool) makes its own, as a client must not cross a fork."""

from __future__ import annotations

import os
import threading

from storages.backends import s3


class S3Storage(s3.S3Storage):
    def __init__(self, **settings):
        super().__init__(**settings)
        self._shared_lock = threading.RLock()
        self._shared: dict[tuple[str, int], object] = {}

    def __getstate__(self):
        state = super().__getstate__()
        state.pop("_shared_lock", None)
        state.pop("_shared", None)
        return state

    def __setstate__(self, state):
        super().__setstate__(state)
        self._shared_lock = threading.RLock()
        self._shared = {}

    def _shared_resource(self, kind: str, make):
        key = (kind, os.getpid())
        resource = self._shared.get(key)
        if resource is None:
            with self._shared_lock:
                resource = self._shared.get(key)
                if resource is None:
                    resource = self._shared[key] = make()
        return resource

    @property
    def connection(self):
        return self._shared_resource("signed", lambda: s3.S3Storage.connection.fget(self))

    @property
    def unsigned_connection(self):
        return self._shared_resource(
            "unsigned", lambda: s3.S3Storage.unsigned_connection.fget(self))

    @property
    def bucket(self):
        # The parent caches its bucket on the instance; one made before a fork stays there.
        return self._shared_resource("bucket", lambda: self.connection.Bucket(self.bucket_name))
