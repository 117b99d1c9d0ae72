"""``python -m provider <command>``: see provider/cli/main.py."""

import sys

from provider.cli.main import main

sys.exit(main(sys.argv[1:]))
