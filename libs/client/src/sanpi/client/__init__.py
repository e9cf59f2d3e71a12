"""sanpi.client: a typed Python SDK over the sanpi HTTP APIs, and the `sanpi` command line."""

from sanpi.client.sdk import ApiError, SanpiClient, ServiceUrls

__all__ = ["ApiError", "SanpiClient", "ServiceUrls"]
