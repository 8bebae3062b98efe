"""pytest plugin for the run under qemu-user: no per-example deadline, no too-slow health check.

Emulation runs Python 10-50x slower than the machine it stands for, so hypothesis' timing
limits (200 ms per example) would fail tests for speed, not behaviour. Loaded with
``-p pytest_arm`` by tools/arm/test-arm.sh; nothing else changes.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

settings.register_profile(
    "qemu", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile("qemu")
