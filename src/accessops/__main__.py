"""Allow ``python -m accessops``."""

from accessops.cli import main

raise SystemExit(main())
