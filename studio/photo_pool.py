"""The photo-check processes: the decoding and checks of an upload's photos, side by side.

Checking a photo is CPU work that holds Python's GIL most of the time (dlib's detector and face
model do), so threads would take turns on one core; PHOTO_CHECK_PROCESSES processes, started
once per web process on its first upload (from a fork server, so they hold no copy of the web
process's threads or connections) check one photo each at a time. With 0 every photo is checked
in the request's own thread, one after another. The outcomes are the same either way:
studio.photos.Batch.check_all settles everything that depends on order (the pixel budget,
copies, duplicates) itself, and hands a process only the work of one photo, with the settings it
reads (studio.photos.Rules).

A process that dies (killed, out of memory) breaks the pool: the photos under way are checked
again once in a new pool, and a photo that breaks that one too is refused with a reason."""

import logging
import multiprocessing
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from django.conf import settings

logger = logging.getLogger("studio")

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None
_size = 0


def _examine(data, fmt, subject_class, rules):
    """In a photo-check process: a CheckedPhoto, or the refusal as (code, reason), which
    crosses the process boundary where the exception itself would not pickle."""
    from studio.photos import PhotoRejected, examine

    try:
        return examine(data, fmt, subject_class, rules)
    except PhotoRejected as exc:
        return (exc.code, exc.reason)


def _executor(processes: int) -> ProcessPoolExecutor:
    global _pool, _size
    with _lock:
        if _pool is None or _size != processes:
            if _pool is not None:
                _pool.shutdown(wait=False, cancel_futures=True)
            context = multiprocessing.get_context(
                "forkserver" if "forkserver" in multiprocessing.get_all_start_methods()
                else "spawn")
            if context.get_start_method() == "forkserver":
                context.set_forkserver_preload(["studio.photos"])
            _pool, _size = ProcessPoolExecutor(max_workers=processes, mp_context=context), \
                processes
        return _pool


def _discard(broken: ProcessPoolExecutor) -> None:
    global _pool
    with _lock:
        if _pool is broken:
            _pool = None
    broken.shutdown(wait=False, cancel_futures=True)


def shutdown() -> None:
    """Stop the processes (they also stop by themselves when this process exits)."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)


class Work:
    """One photo's checks, under way in a photo-check process or (with no processes) to be
    run here when its outcome is asked for."""

    def __init__(self, args: tuple, processes: int):
        self.args, self.processes, self.tries = args, processes, 0
        self.future: Future | None = None
        if processes:
            self._start()

    def _start(self):
        self.tries += 1
        self.pool = _executor(self.processes)
        try:
            self.future = self.pool.submit(_examine, *self.args)
        except BrokenProcessPool:  # broken since the last upload: start a new one
            _discard(self.pool)
            self.pool = _executor(self.processes)
            self.future = self.pool.submit(_examine, *self.args)

    def outcome(self):
        """The photo's CheckedPhoto or PhotoRejected."""
        from studio.photos import PhotoRejected

        if self.future is None:
            answer = _examine(*self.args)
        else:
            while True:
                try:
                    answer = self.future.result()
                    break
                except BrokenProcessPool:
                    _discard(self.pool)
                    if self.tries >= 2:
                        logger.error("a photo broke the photo-check processes twice")
                        return PhotoRejected(
                            "check_failed", "This photo could not be checked. Export it again "
                            "(as a JPEG) and upload it once more.")
                    logger.warning("the photo-check processes stopped; checking again")
                    self._start()
        return PhotoRejected(*answer) if isinstance(answer, tuple) else answer

    def cancel(self):
        if self.future is not None:
            self.future.cancel()


def submit(data: bytes, fmt: str, subject_class: str, rules) -> Work:
    """Start one photo's checks (studio.photos.examine) in a photo-check process."""
    return Work((data, fmt, subject_class, rules), settings.PHOTO_CHECK_PROCESSES)
