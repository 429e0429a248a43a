"""The WSGI application for production servers: ``gunicorn 'geoservice.wsgi:app'``.

Configuration comes from the instance folder and GEOSERVICE_* variables, as for
`geoservice serve`; see docs/configuration.md and docs/scaling.md.
"""

from geoservice import create_app

app = create_app()
