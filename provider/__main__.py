"""``python -m provider <command>``: see provider/cli.py."""

import sys

from .cli import main

sys.exit(main(sys.argv[1:]))
