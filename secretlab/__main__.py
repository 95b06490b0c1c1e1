import sys

from secretlab.cli import main

sys.exit(main())
