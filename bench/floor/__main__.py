"""The engine's floor: N resources of a dynamic provider that does nothing (bench/run.py, scenario
`floor`). Whatever this costs, no provider can make `pulumi up` of N resources cheaper."""

import os

from noop import Noop

for i in range(int(os.environ["FLOOR_RESOURCES"])):
    Noop(f"r{i}", f"v{i}")
