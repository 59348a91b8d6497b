"""Garbage collection settings for long-running processes that must not pause.

CPython's full (oldest-generation) collection walks every tracked object. In a worker that has
imported Django and the project, that is a few hundred thousand objects and took up to 118 ms
a time, about once every 3 s at 1,000 messages/s: the sender missed its slots while it ran
(measured with gc.callbacks in benchmarks/send_soak.py: 1.95 s of full collections a minute,
the same as the schedule time it let go). `settle()` moves everything alive at start-up into
the permanent generation (it is never garbage: modules, settings, URL patterns, templates) so
later full collections only walk what the process made since, and collects young objects less
often. Cyclic garbage is still collected.
"""

from __future__ import annotations

import gc

YOUNG_THRESHOLD = 20_000  # allocations before a young collection (CPython's default: 700)
OLD_THRESHOLD = 100  # middle collections before a full one (default 10)


def settle() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 10, OLD_THRESHOLD)
