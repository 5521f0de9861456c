"""`python -m heliostat.cli`."""

import sys

from heliostat.cli import main

sys.exit(main())
