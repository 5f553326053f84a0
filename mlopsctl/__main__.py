"""`python -m mlopsctl ...`, the same as the installed `mlopsctl` script."""

import sys

from mlopsctl.commands.main import main

sys.exit(main())
