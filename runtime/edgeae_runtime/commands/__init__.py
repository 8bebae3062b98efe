"""The ``edgeae-rt`` sub-commands, one module each, loaded lazily by :mod:`edgeae_runtime.cli`."""

__all__: list[str] = []
