import sys

from condis.cli import main

sys.exit(main())
