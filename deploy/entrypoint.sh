#!/bin/sh
# Container start: build and load the boundaries on the first start (nothing to do later),
# optionally the synthetic demo data, publish the static files for nginx, then serve.
set -eu
geoservice build-data --if-missing
if [ "${GEOSERVICE_DEMO_DATA:-0}" = "1" ]; then
    geoservice demo-data --if-empty
fi
if [ -d /srv/geoservice/static ] && [ -w /srv/geoservice/static ]; then
    static=$(python -c "from geoservice.resources import STATIC_FOLDER; print(STATIC_FOLDER)")
    cp -R "$static"/. /srv/geoservice/static/
fi
exec "$@"
