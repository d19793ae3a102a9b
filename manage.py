#!/usr/bin/env python
"""Django's manage.py; `liudong` (liudong/cli.py) is the command people use."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "liudong.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
