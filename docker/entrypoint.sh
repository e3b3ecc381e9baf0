#!/bin/sh
# Bring the schema up to date, then run the container's command (serve or worker).
# `approute init` is safe when web and worker start together: migrations take a lock.
set -eu

approute init
exec "$@"
