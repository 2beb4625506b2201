"""gunicorn's configuration for the shop's web process (`-c python:storefront.gunicorn_conf`;
ops/devstack.py and the Dockerfile pass it). It lives in the package, not ops/, because the
image ships only the package.

gunicorn writes `Server: gunicorn` into every response itself, after the application (so no
middleware can remove it), from the module constant `gunicorn.SERVER`. Naming the server
software and its family tells a scanner which exploits to try; the header says only "shop".
`gunicorn.http.wsgi` copies the constant when imported, so both are replaced.
"""

import gunicorn
import gunicorn.http.wsgi

SERVER_NAME = "shop"

gunicorn.SERVER = SERVER_NAME
gunicorn.http.wsgi.SERVER = SERVER_NAME
