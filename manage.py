#!/usr/bin/env python
from turnup.cli import main

if __name__ == "__main__":
    main()
