"""``python -m survtdm1``."""

import sys

from .cli import main

sys.exit(main())
