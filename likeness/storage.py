"""The S3/R2 file store: django-storages' S3 backend with one boto3 resource per process.

django-storages makes a new boto3 session and resource in every thread that touches the
store, and keeps them in that thread. A generation saves its images from short-lived pool
threads, so every image paid for a fresh session: its JSON service models parsed again, about
0.2–1 s of CPU per image, three quarters of a worker's CPU in the production-like run
(bench/cluster.py). Here the resource is made once per process and set of options, under a
lock, and shared: by every thread, and by every storage built from the same options (threads
that race for `default_storage` on a process's first job can each build one).

Sharing it is what django-storages already does with the bucket (`S3Storage.bucket` is made
once per storage and used by every thread): every call goes through the resource's botocore
client, which is thread-safe, or makes a new Object for the call. The pid is part of the key:
a process forked after the resource was made builds its own, as a client must not cross a
fork. The options are those the store was built with (Django's deconstructible keeps them)."""

from __future__ import annotations

import os
import threading

from storages.backends import s3

_SHARED: dict[tuple, object] = {}
_LOCK = threading.RLock()


class S3Storage(s3.S3Storage):
    def _shared_resource(self, kind: str, make):
        args, options = getattr(self, "_constructor_args", ((), {}))
        key = (os.getpid(), kind, repr(args), repr(sorted(options.items())))
        resource = _SHARED.get(key)
        if resource is None:
            with _LOCK:
                resource = _SHARED.get(key)
                if resource is None:
                    resource = _SHARED[key] = make()
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
