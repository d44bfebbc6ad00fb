"""``python -m st_memwatch check APP.py``."""

from st_memwatch.cli import main

raise SystemExit(main())
