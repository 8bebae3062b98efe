"""``python -m edgeae`` (and ``torchrun -m edgeae train ...``) runs the CLI."""

from edgeae.cli import main

if __name__ == "__main__":
    main()
