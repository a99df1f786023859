#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # What commands create (the SQLite file, var/media, keys, backups, exports) is the owner's
    # only, whatever the caller's umask (bin/serve sets the same for the server).
    os.umask(0o077)
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
