"""`python -m benchmarks`: list the benchmarks."""

import pkgutil
from pathlib import Path

for module in pkgutil.iter_modules([str(Path(__file__).parent)]):
    if not module.name.startswith("_"):
        print(f"python -m benchmarks.{module.name}")
