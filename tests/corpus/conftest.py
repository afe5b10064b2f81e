"""The portal's fixtures (the development provider, the portal app) for the portal corpus."""

from tests.adapters.conftest import dev_sign_in, make_portal, sign_in_as

__all__ = ["dev_sign_in", "make_portal", "sign_in_as"]
