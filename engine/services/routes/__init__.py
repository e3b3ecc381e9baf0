"""The hooks of the shipped routes; importing this package registers them (see process_hooks)."""

from engine.services.routes import (
    accreditation,  # noqa: F401  (registers the accreditation route's hooks)
    bonus,  # noqa: F401  (registers the bonus route's hooks)
    certificate,  # noqa: F401  (registers the certificate route's hooks)
    leave,  # noqa: F401  (registers the leave route's hooks)
)
