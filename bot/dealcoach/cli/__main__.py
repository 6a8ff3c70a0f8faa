"""`python -m dealcoach.cli`: the `dealcoach` command without the console script."""

from dealcoach.cli import main

if __name__ == "__main__":  # pragma: no cover
    main()
