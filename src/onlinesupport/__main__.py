"""`python -m onlinesupport` and the PyInstaller entry point."""

import sys

from onlinesupport.cli import main

if __name__ == "__main__":
    sys.exit(main())
