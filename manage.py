#!/usr/bin/env python
"""Django entry point: the web server and the management commands (the CLI)."""

import logging
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "storefront.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
    if "temporalio.bridge.client" in sys.modules:
        # A short-lived process that used a Temporal client can abort during interpreter
        # finalisation (the SDK's Rust threads outlive the loop: temporalio/sdk-python#300).
        # The command has finished and succeeded, so flush and leave without finalising.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)
